/* value.c: parsers and formatters for typed conf values. */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agent/value.h"

#define DURATION_HINT "a duration such as 250ms, 5s, 2m or 1h"
#define SIZE_HINT "a size such as 512, 64KiB, 16MiB or 1G"
#define BOOL_HINT "a boolean (yes/no, true/false, on/off, 1/0)"
#define ADDRESS_HINT "an address such as host:port or [::1]:port"

struct unit {
    const char *name;
    uint64_t factor;
};

static const struct unit duration_units[] = {
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
    {NULL, 0},
};

#define KIB 1024ULL
static const struct unit size_units[] = {
    {"B", 1},
    {"K", KIB},
    {"KB", KIB},
    {"KiB", KIB},
    {"M", KIB * KIB},
    {"MB", KIB * KIB},
    {"MiB", KIB * KIB},
    {"G", KIB * KIB * KIB},
    {"GB", KIB * KIB * KIB},
    {"GiB", KIB * KIB * KIB},
    {"T", KIB * KIB * KIB * KIB},
    {"TB", KIB * KIB * KIB * KIB},
    {"TiB", KIB * KIB * KIB * KIB},
    {NULL, 0},
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A number with an optional fraction and unit: "1.5s", "64 KiB".
 * Exact integer arithmetic; the fraction is truncated to whole units of
 * the result.  Returns 0, -1 for malformed text, -2 for overflow.  A bare
 * number takes bare_factor. */
static int parse_scaled(const char *text, const struct unit *units,
                        uint64_t bare_factor, uint64_t *out)
{
    const char *p = text;
    uint64_t whole = 0, frac = 0, frac_div = 1, factor = 0;
    int overflow = 0;

    if (!is_digit(*p))
        return -1;
    for (; is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (whole > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            whole = whole * 10 + d;
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return -1;
        /* Nine digits are finer than any unit's smallest step needs;
         * further digits must still be digits but cannot matter. */
        for (; is_digit(*p); p++) {
            if (frac_div < 1000000000ULL) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_div *= 10;
            }
        }
    }
    while (is_blank(*p))
        p++;
    if (*p == '\0') {
        factor = bare_factor;
    } else {
        for (const struct unit *u = units; u->name; u++) {
            if (strcasecmp(p, u->name) == 0) {
                factor = u->factor;
                break;
            }
        }
        if (factor == 0)
            return -1;
    }
    if (overflow)
        return -2;
    /* frac * factor / frac_div, split so no product exceeds 2^63. */
    uint64_t part = factor / frac_div * frac
                    + factor % frac_div * frac / frac_div;
    if (whole > (UINT64_MAX - part) / factor)
        return -2;
    *out = whole * factor + part;
    return 0;
}

int value_parse_duration(const char *text, uint64_t *ms, char *err, size_t errlen)
{
    int r = parse_scaled(text, duration_units, 1000, ms);

    if (r == 0)
        return 0;
    if (text[0] == '-')
        snprintf(err, errlen, "expected %s (not negative), got \"%s\"",
                 DURATION_HINT, text);
    else if (r == -2)
        snprintf(err, errlen,
                 "expected a duration below 2^64 milliseconds, got \"%s\"",
                 text);
    else
        snprintf(err, errlen, "expected %s, got \"%s\"", DURATION_HINT, text);
    return -1;
}

int value_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen)
{
    int r = parse_scaled(text, size_units, 1, bytes);

    if (r == 0)
        return 0;
    if (text[0] == '-')
        snprintf(err, errlen, "expected %s (not negative), got \"%s\"",
                 SIZE_HINT, text);
    else if (r == -2)
        snprintf(err, errlen, "expected a size below 16EiB, got \"%s\"", text);
    else
        snprintf(err, errlen, "expected %s, got \"%s\"", SIZE_HINT, text);
    return -1;
}

int value_parse_bool(const char *text, int *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    snprintf(err, errlen, "expected %s, got \"%s\"", BOOL_HINT, text);
    return -1;
}

int value_parse_int(const char *text, int64_t *out, char *err, size_t errlen)
{
    const char *p = text;
    int neg = 0;
    /* Accumulate the magnitude unsigned so INT64_MIN is representable. */
    uint64_t mag = 0, limit;

    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (!is_digit(*p))
        goto bad;
    for (; is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (mag > (limit - d) / 10) {
            while (is_digit(*p))
                p++;
            if (*p != '\0')
                goto bad;
            snprintf(err, errlen,
                     "expected an integer from %" PRId64 " to %" PRId64
                     ", got \"%s\"", INT64_MIN, INT64_MAX, text);
            return -1;
        }
        mag = mag * 10 + d;
    }
    if (*p != '\0')
        goto bad;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
bad:
    snprintf(err, errlen, "expected an integer, got \"%s\"", text);
    return -1;
}

static int parse_port(const char *p, const char *text, uint16_t *port,
                      char *err, size_t errlen)
{
    unsigned long v = 0;
    const char *s = p;

    for (; is_digit(*s) && v <= 65535; s++)
        v = v * 10 + (unsigned long)(*s - '0');
    if (s == p || *s != '\0' || v < 1 || v > 65535) {
        snprintf(err, errlen, "expected a port from 1 to 65535, got \"%s\" in \"%s\"",
                 p, text);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

/* A bracketed host must be an IPv6 literal, optionally with a %zone. */
static int is_ipv6_literal(const char *s, size_t len)
{
    char buf[INET6_ADDRSTRLEN + 1];
    struct in6_addr a;
    const char *zone = memchr(s, '%', len);
    size_t n = zone ? (size_t)(zone - s) : len;

    if (n == 0 || n >= sizeof buf || (zone && zone + 1 == s + len))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1;
}

static int host_chars_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '/')
            return 0;
    }
    return 1;
}

int value_parse_address(const char *text, struct berth_address *out, char *err,
                        size_t errlen)
{
    const char *host, *port, *colon;
    size_t hlen;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close) {
            snprintf(err, errlen, "expected %s, got \"%s\" (missing ']')",
                     ADDRESS_HINT, text);
            return -1;
        }
        host = text + 1;
        hlen = (size_t)(close - host);
        if (close[1] != ':') {
            snprintf(err, errlen, "expected %s, got \"%s\" (missing ':port' after ']')",
                     ADDRESS_HINT, text);
            return -1;
        }
        if (!is_ipv6_literal(host, hlen)) {
            snprintf(err, errlen,
                     "expected an IPv6 address inside [ ], such as [::1]:80, got \"%s\"",
                     text);
            return -1;
        }
        port = close + 2;
    } else {
        colon = strchr(text, ':');
        if (!colon) {
            snprintf(err, errlen, "expected %s, got \"%s\" (missing ':port')",
                     ADDRESS_HINT, text);
            return -1;
        }
        if (strchr(colon + 1, ':')) {
            snprintf(err, errlen,
                     "expected an IPv6 address with a port in brackets, "
                     "such as [::1]:80, got \"%s\"", text);
            return -1;
        }
        host = text;
        hlen = (size_t)(colon - text);
        port = colon + 1;
        if (hlen == 0) {
            snprintf(err, errlen, "expected %s, got \"%s\" (missing host)",
                     ADDRESS_HINT, text);
            return -1;
        }
        if (!host_chars_ok(host, hlen)) {
            snprintf(err, errlen,
                     "expected a host name or address before ':', got \"%.*s\"",
                     (int)hlen, host);
            return -1;
        }
    }
    if (hlen >= sizeof out->host) {
        snprintf(err, errlen, "expected a host of at most %zu bytes, got %zu bytes",
                 sizeof out->host - 1, hlen);
        return -1;
    }
    uint16_t p;
    if (parse_port(port, text, &p, err, errlen) < 0)
        return -1;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    out->port = p;
    return 0;
}

/* The largest unit that divides v exactly, so formatting round-trips. */
static void format_scaled(uint64_t v, const struct unit *units, size_t n,
                          const char *zero, char *buf, size_t size)
{
    if (v == 0) {
        snprintf(buf, size, "%s", zero);
        return;
    }
    for (size_t i = n; i-- > 0;) {
        if (v % units[i].factor == 0) {
            snprintf(buf, size, "%" PRIu64 "%s", v / units[i].factor,
                     units[i].name);
            return;
        }
    }
    snprintf(buf, size, "%" PRIu64, v);
}

void value_format(enum berth_opt_type type, const void *field, char *buf, size_t size)
{
    /* Only the binary "KiB" spellings, and bytes bare. */
    static const struct unit size_fmt[] = {
        {"", 1},
        {"KiB", KIB},
        {"MiB", KIB * KIB},
        {"GiB", KIB * KIB * KIB},
        {"TiB", KIB * KIB * KIB * KIB},
    };

    if (size == 0)
        return;
    switch (type) {
    case BERTH_OPT_STRING: {
        const char *s = *(const char *const *)field;
        snprintf(buf, size, "%s", s ? s : "");
        break;
    }
    case BERTH_OPT_BOOL:
        snprintf(buf, size, "%s", *(const int *)field ? "yes" : "no");
        break;
    case BERTH_OPT_INT:
        snprintf(buf, size, "%" PRId64, *(const int64_t *)field);
        break;
    case BERTH_OPT_DURATION:
        format_scaled(*(const uint64_t *)field, duration_units, 5, "0s", buf,
                      size);
        break;
    case BERTH_OPT_SIZE:
        format_scaled(*(const uint64_t *)field, size_fmt, 5, "0", buf, size);
        break;
    case BERTH_OPT_ADDRESS: {
        const struct berth_address *a = field;
        if (strchr(a->host, ':'))
            snprintf(buf, size, "[%s]:%u", a->host, (unsigned)a->port);
        else
            snprintf(buf, size, "%s:%u", a->host, (unsigned)a->port);
        break;
    }
    default:
        snprintf(buf, size, "?");
        break;
    }
}

const char *value_type_name(enum berth_opt_type type)
{
    switch (type) {
    case BERTH_OPT_STRING:
        return "string";
    case BERTH_OPT_BOOL:
        return "bool";
    case BERTH_OPT_INT:
        return "integer";
    case BERTH_OPT_DURATION:
        return "duration";
    case BERTH_OPT_SIZE:
        return "size";
    case BERTH_OPT_ADDRESS:
        return "address";
    }
    return "unknown";
}
