/* log.c: the agent's logfmt log, to stderr or syslog. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"

static enum log_target cur_target = LOG_TARGET_STDERR;
static int cur_level = BERTH_LOG_INFO;
static int syslog_open;

static const struct {
    const char *name;
    int level;
} levels[] = {
    {"error", BERTH_LOG_ERROR},
    {"warn", BERTH_LOG_WARN},
    {"info", BERTH_LOG_INFO},
    {"debug", BERTH_LOG_DEBUG},
};

void log_setup(enum log_target target, int level)
{
    if (target == LOG_TARGET_SYSLOG && !syslog_open) {
        openlog("berthd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        syslog_open = 1;
    } else if (target != LOG_TARGET_SYSLOG && syslog_open) {
        closelog();
        syslog_open = 0;
    }
    cur_target = target;
    cur_level = level;
}

int log_get_level(void)
{
    return cur_level;
}

int log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(name, levels[i].name) == 0)
            return levels[i].level;
    return -1;
}

const char *log_level_name(int level)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (levels[i].level == level)
            return levels[i].name;
    return "unknown";
}

/* A growable line; on allocation failure it keeps what fits. */
struct line {
    char *buf;
    size_t len, cap;
    char small[1024];
};

static void line_put(struct line *l, const char *s, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        size_t cap = (l->len + n + 1) * 2;
        char *nb = l->buf == l->small ? malloc(cap) : realloc(l->buf, cap);
        if (!nb)
            n = l->cap - l->len - 1;
        else {
            if (l->buf == l->small)
                memcpy(nb, l->small, l->len);
            l->buf = nb;
            l->cap = cap;
        }
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

/* Copies s, escaping what would break the line: control characters. */
static void line_put_escaped(struct line *l, const char *s)
{
    while (*s) {
        size_t run = 0;
        while (s[run] && (unsigned char)s[run] >= 0x20 && s[run] != 0x7f)
            run++;
        line_put(l, s, run);
        s += run;
        if (!*s)
            break;
        char esc[5];
        switch (*s) {
        case '\n':
            line_put(l, "\\n", 2);
            break;
        case '\r':
            line_put(l, "\\r", 2);
            break;
        case '\t':
            line_put(l, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned char)*s);
            line_put(l, esc, 4);
            break;
        }
        s++;
    }
}

static void put_timestamp(struct line *l)
{
    struct timespec ts;
    struct tm tm;
    char buf[64];
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, sizeof buf, "ts=%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, sizeof buf - n, ".%03dZ ",
                          (int)(ts.tv_nsec / 1000000));
    line_put(l, buf, n);
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void log_vevent(int level, const char *event, const char *fmt, va_list ap)
{
    struct line l = {.cap = sizeof l.small};
    char text[1024], *msg = text;
    int n, saved = errno; /* callers may log between a failure and errno use */
    va_list ap2;

    if (level > cur_level)
        return;
    l.buf = l.small;
    va_copy(ap2, ap);
    n = vsnprintf(text, sizeof text, fmt, ap);
    if (n >= (int)sizeof text) {
        msg = malloc((size_t)n + 1);
        if (msg)
            vsnprintf(msg, (size_t)n + 1, fmt, ap2);
        else
            msg = text; /* truncated rather than lost */
    }
    va_end(ap2);
    if (n < 0)
        text[0] = '\0';

    if (cur_target == LOG_TARGET_STDERR)
        put_timestamp(&l);
    line_put(&l, "level=", 6);
    line_put(&l, log_level_name(level), strlen(log_level_name(level)));
    line_put(&l, " event=", 7);
    line_put_escaped(&l, event);
    if (msg[0]) {
        line_put(&l, " ", 1);
        line_put_escaped(&l, msg);
    }
    if (cur_target == LOG_TARGET_SYSLOG) {
        syslog(level, "%s", l.buf);
    } else {
        line_put(&l, "\n", 1);
        write_all(STDERR_FILENO, l.buf, l.len);
    }
    if (msg != text)
        free(msg);
    if (l.buf != l.small)
        free(l.buf);
    errno = saved;
}

void log_event(int level, const char *event, const char *fmt, ...)
{
    va_list ap;

    if (level > cur_level)
        return;
    va_start(ap, fmt);
    log_vevent(level, event, fmt, ap);
    va_end(ap);
}

static int needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == '"' || c == '=' || c == 0x7f)
            return 1;
    }
    return 0;
}

const char *log_quote(char *buf, size_t size, const char *s)
{
    size_t n = 0;

    if (size == 0)
        return buf;
    if (!s)
        s = "";
    if (!needs_quotes(s)) {
        snprintf(buf, size, "%s", s);
        return buf;
    }
    if (size < 3) { /* not even room for "" */
        buf[0] = '\0';
        return buf;
    }
    buf[n++] = '"';
    for (; *s; s++) {
        char esc[5];
        const char *piece = esc;
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, esc[2] = '\0';
        } else if (c == '\n') {
            piece = "\\n";
        } else if (c == '\r') {
            piece = "\\r";
        } else if (c == '\t') {
            piece = "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
        } else {
            esc[0] = (char)c, esc[1] = '\0';
        }
        size_t plen = strlen(piece);
        if (n + plen + 2 > size) /* keep room for the closing quote and NUL */
            break;
        memcpy(buf + n, piece, plen);
        n += plen;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}
