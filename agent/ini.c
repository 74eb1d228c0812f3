/* ini.c: the INI lexer behind berth.conf: line by line, every error reported. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ini.h"

/* A conf file is small; a huge one is a mistake (or /dev/zero). */
#define INI_MAX_FILE (16u * 1024 * 1024)

struct lexer {
    const struct ini_handler *h;
    void *arg;
    int line;
    int failed;
    /* Entries after a broken header go nowhere: attributing them to the
     * previous section would only add misleading errors. */
    int skipping;
    char *section; /* normalised name of the current section, "" at first */
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static void lex_error(struct lexer *lx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void lex_error(struct lexer *lx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    lx->failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lx->h->error)
        lx->h->error(lx->arg, lx->line, msg);
}

static char *skip_blank(char *p)
{
    while (is_blank(*p))
        p++;
    return p;
}

static void trim_right(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
}

/* Nothing, or only a comment, may follow a header or a quoted value. */
static int rest_is_empty(const char *p)
{
    while (is_blank(*p))
        p++;
    return *p == '\0' || *p == '#' || *p == ';';
}

/* "[ plugin   x ]" -> "plugin x" written over the line; NULL on error. */
static char *normalise_section(struct lexer *lx, char *open)
{
    char *close = strchr(open, ']');
    char *in, *out;

    if (!close) {
        lex_error(lx, "missing ']'");
        return NULL;
    }
    if (!rest_is_empty(close + 1)) {
        lex_error(lx, "unexpected text after ']'");
        return NULL;
    }
    *close = '\0';
    for (in = open + 1; *in; in++) {
        if (!is_name_char(*in) && !is_blank(*in)) {
            lex_error(lx, "invalid section name [%s]: expected words of "
                          "letters, digits, '_', '.' or '-'",
                      skip_blank(open + 1));
            return NULL;
        }
    }
    in = skip_blank(open + 1);
    out = open;
    while (*in) {
        if (is_blank(*in)) {
            in = skip_blank(in);
            if (*in)
                *out++ = ' ';
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    if (out == open) {
        lex_error(lx, "empty section name");
        return NULL;
    }
    return open;
}

static void do_section(struct lexer *lx, char *p)
{
    char *name = normalise_section(lx, p);
    char *copy;

    if (!name) {
        lx->skipping = 1;
        return;
    }
    copy = strdup(name);
    if (!copy) {
        lex_error(lx, "out of memory");
        lx->skipping = 1;
        return;
    }
    free(lx->section);
    lx->section = copy;
    lx->skipping = 0;
    if (lx->h->section)
        lx->h->section(lx->arg, name, lx->line);
}

/* Unescapes a quoted value in place; p is just past the opening quote.
 * Returns the value, or NULL after reporting an error. */
static char *unquote(struct lexer *lx, char *p)
{
    char *out = p, *start = p;

    for (;;) {
        char c = *p++;
        if (c == '\0') {
            lex_error(lx, "unterminated quote: expected a closing '\"'");
            return NULL;
        }
        if (c == '"')
            break;
        if (c == '\\') {
            char e = *p++;
            switch (e) {
            case '\\':
            case '"':
                c = e;
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case '\0':
                lex_error(lx, "unterminated quote: expected a closing '\"'");
                return NULL;
            default:
                lex_error(lx, "unknown escape '\\%c' in quotes: expected "
                              "\\\\, \\\", \\n or \\t", e);
                return NULL;
            }
        }
        *out++ = c;
    }
    if (!rest_is_empty(p)) {
        lex_error(lx, "unexpected text after the closing quote: \"%s\"",
                  skip_blank(p));
        return NULL;
    }
    *out = '\0';
    return start;
}

/* An unquoted value ends at a '#' or ';' that follows a blank. */
static char *plain_value(char *p, int blank_before)
{
    for (char *q = p; *q; q++) {
        if ((*q == '#' || *q == ';') && (q == p ? blank_before : is_blank(q[-1]))) {
            *q = '\0';
            break;
        }
    }
    trim_right(p);
    return p;
}

static void do_entry(struct lexer *lx, char *p)
{
    char *eq = strchr(p, '='), *key, *value;

    if (!eq) {
        lex_error(lx, "expected 'key = value', '[section]' or a comment, "
                      "got \"%s\"", p);
        return;
    }
    *eq = '\0';
    key = p;
    trim_right(key);
    if (*key == '\0') {
        lex_error(lx, "expected a key before '='");
        return;
    }
    for (const char *k = key; *k; k++) {
        if (!is_name_char(*k)) {
            lex_error(lx, "invalid key \"%s\": expected letters, digits, "
                          "'_', '.' or '-'", key);
            return;
        }
    }
    value = skip_blank(eq + 1);
    if (*value == '"')
        value = unquote(lx, value + 1);
    else
        value = plain_value(value, value != eq + 1);
    if (!value || lx->skipping)
        return;
    if (lx->h->entry)
        lx->h->entry(lx->arg, lx->section, key, value, lx->line);
}

static void do_line(struct lexer *lx, char *line)
{
    char *p = skip_blank(line);

    if (*p == '\0' || *p == '#' || *p == ';')
        return;
    if (*p == '[')
        do_section(lx, p);
    else
        do_entry(lx, p);
}

static int parse_buffer(const char *text, size_t len, const struct ini_handler *h,
                        void *arg)
{
    struct lexer lx = {.h = h, .arg = arg};
    const char *p = text, *end = text + len;
    char *buf = NULL;
    size_t cap = 0;

    lx.section = strdup("");
    if (!lx.section) {
        lex_error(&lx, "out of memory");
        return -1;
    }
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

        lx.line++;
        if (n + 1 > cap) {
            char *nb = realloc(buf, n + 1);
            if (!nb) {
                lex_error(&lx, "out of memory");
                break;
            }
            buf = nb;
            cap = n + 1;
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (n > 0 && buf[n - 1] == '\r')
            buf[n - 1] = '\0';
        if (memchr(p, '\0', n))
            lex_error(&lx, "unexpected NUL byte");
        else
            do_line(&lx, buf);
        p = nl ? nl + 1 : end;
    }
    free(buf);
    free(lx.section);
    return lx.failed ? -1 : 0;
}

int ini_parse_string(const char *text, const struct ini_handler *h, void *arg)
{
    return parse_buffer(text, strlen(text), h, arg);
}

/* Reads the whole file; -1 with err naming path. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(EISDIR));
        goto fail;
    }
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            if (cap > INI_MAX_FILE + 8192) {
                snprintf(err, errlen, "cannot read %s: larger than %u MiB",
                         path, INI_MAX_FILE >> 20);
                goto fail;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                snprintf(err, errlen, "cannot read %s: out of memory", path);
                goto fail;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

int ini_parse_file(const char *path, const struct ini_handler *h, void *arg,
                   char *err, size_t errlen)
{
    size_t len;
    char *text;
    int r;

    if (errlen > 0)
        err[0] = '\0';
    text = read_file(path, &len, err, errlen);
    if (!text)
        return -1;
    r = parse_buffer(text, len, h, arg);
    free(text);
    return r;
}
