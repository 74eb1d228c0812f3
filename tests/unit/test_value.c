/* test_value.c: typed value parsers and formatters, and logfmt output (log.c). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/value.h"
#include "tests/lib/tap.h"

static char err[512];

static void duration_ok(const char *text, uint64_t want)
{
    uint64_t ms = 12345;
    int r = value_parse_duration(text, &ms, err, sizeof err);
    ok(r == 0 && ms == want, "duration \"%s\" = %" PRIu64 "ms", text, want);
    if (r != 0)
        diag("  error: %s", err);
    else if (ms != want)
        diag("  got %" PRIu64, ms);
}

static void duration_bad(const char *text, const char *want_err)
{
    uint64_t ms = 777;
    err[0] = '\0';
    int r = value_parse_duration(text, &ms, err, sizeof err);
    ok(r == -1 && ms == 777, "duration \"%s\" is refused, output untouched", text);
    is_str(err, want_err, "duration \"%s\": message", text);
}

static void size_ok(const char *text, uint64_t want)
{
    uint64_t b = 1;
    int r = value_parse_size(text, &b, err, sizeof err);
    ok(r == 0 && b == want, "size \"%s\" = %" PRIu64, text, want);
    if (r != 0)
        diag("  error: %s", err);
    else if (b != want)
        diag("  got %" PRIu64, b);
}

static void size_bad(const char *text, const char *want_err)
{
    uint64_t b = 777;
    err[0] = '\0';
    int r = value_parse_size(text, &b, err, sizeof err);
    ok(r == -1 && b == 777, "size \"%s\" is refused", text);
    is_str(err, want_err, "size \"%s\": message", text);
}

static void bool_is(const char *text, int want)
{
    int v = -1;
    ok(value_parse_bool(text, &v, err, sizeof err) == 0 && v == want,
       "bool \"%s\" = %d", text, want);
}

static void int_ok(const char *text, int64_t want)
{
    int64_t v = 1;
    int r = value_parse_int(text, &v, err, sizeof err);
    ok(r == 0 && v == want, "int \"%s\" = %" PRId64, text, want);
    if (r != 0)
        diag("  error: %s", err);
}

static void int_bad(const char *text, const char *want_err)
{
    int64_t v = 777;
    err[0] = '\0';
    ok(value_parse_int(text, &v, err, sizeof err) == -1 && v == 777,
       "int \"%s\" is refused", text);
    is_str(err, want_err, "int \"%s\": message", text);
}

static void addr_ok(const char *text, const char *host, unsigned port)
{
    struct berth_address a = {{0}, 0};
    int r = value_parse_address(text, &a, err, sizeof err);
    ok(r == 0 && strcmp(a.host, host) == 0 && a.port == port,
       "address \"%s\" = host \"%s\" port %u", text, host, port);
    if (r != 0)
        diag("  error: %s", err);
    else if (strcmp(a.host, host) != 0 || a.port != port)
        diag("  got host \"%s\" port %u", a.host, (unsigned)a.port);
}

static void addr_bad(const char *text, const char *want_err)
{
    struct berth_address a = {"untouched", 7};
    err[0] = '\0';
    ok(value_parse_address(text, &a, err, sizeof err) == -1 &&
           strcmp(a.host, "untouched") == 0 && a.port == 7,
       "address \"%s\" is refused, output untouched", text);
    is_str(err, want_err, "address \"%s\": message", text);
}

#define DHINT "expected a duration such as 250ms, 5s, 2m or 1h, got "
#define SHINT "expected a size such as 512, 64KiB, 16MiB or 1G, got "
#define AHINT "expected an address such as host:port or [::1]:port, got "

static void test_duration(void)
{
    duration_ok("250ms", 250);
    duration_ok("5s", 5000);
    duration_ok("2m", 120000);
    duration_ok("1h", 3600000);
    duration_ok("1d", 86400000);
    duration_ok("7", 7000); /* bare number: seconds */
    duration_ok("0", 0);
    duration_ok("0s", 0);
    duration_ok("1.5s", 1500);
    duration_ok("0.25s", 250);
    duration_ok("1.5h", 5400000);
    duration_ok("2.5", 2500);
    duration_ok("1.0005s", 1000); /* sub-millisecond part is dropped */
    duration_ok("0.9999999999999d", 86399999);
    duration_ok("5 s", 5000); /* a space before the unit is fine */
    duration_ok("10\tm", 600000);
    duration_ok("5S", 5000); /* units are case-insensitive */
    duration_ok("100MS", 100);
    duration_ok("007s", 7000);
    duration_ok("18446744073709551615ms", UINT64_MAX);

    duration_bad("5 parsecs", DHINT "\"5 parsecs\"");
    duration_bad("", DHINT "\"\"");
    duration_bad("soon", DHINT "\"soon\"");
    duration_bad("s", DHINT "\"s\"");
    duration_bad("5x", DHINT "\"5x\"");
    duration_bad("5s5", DHINT "\"5s5\"");
    duration_bad("5sec", DHINT "\"5sec\"");
    duration_bad("1.s", DHINT "\"1.s\"");
    duration_bad(".5s", DHINT "\".5s\"");
    duration_bad("1.2.3s", DHINT "\"1.2.3s\"");
    duration_bad("+5s", DHINT "\"+5s\"");
    duration_bad("1e3s", DHINT "\"1e3s\"");
    duration_bad("5s ", DHINT "\"5s \"");
    duration_bad(" 5s", DHINT "\" 5s\"");
    duration_bad("-5s", "expected a duration such as 250ms, 5s, 2m or 1h "
                        "(not negative), got \"-5s\"");
    duration_bad("-0", "expected a duration such as 250ms, 5s, 2m or 1h "
                       "(not negative), got \"-0\"");
    duration_bad("18446744073709551616ms",
                 "expected a duration below 2^64 milliseconds, got "
                 "\"18446744073709551616ms\"");
    duration_bad("18446744073709551615s",
                 "expected a duration below 2^64 milliseconds, got "
                 "\"18446744073709551615s\"");
    duration_bad("213503982335d",
                 "expected a duration below 2^64 milliseconds, got "
                 "\"213503982335d\"");
    duration_bad("99999999999999999999999999",
                 "expected a duration below 2^64 milliseconds, got "
                 "\"99999999999999999999999999\"");
    /* Junk wins over overflow: the message should say what was wrong. */
    duration_bad("99999999999999999999999999x",
                 DHINT "\"99999999999999999999999999x\"");

    /* A tiny buffer truncates the message but never overflows. */
    char small[8];
    uint64_t ms;
    ok(value_parse_duration("bad", &ms, small, sizeof small) == -1 &&
           strlen(small) == sizeof small - 1,
       "duration message truncated to the buffer");
}

static void test_size(void)
{
    size_ok("512", 512);
    size_ok("0", 0);
    size_ok("512B", 512);
    size_ok("1K", 1024);
    size_ok("1KB", 1024);
    size_ok("1KiB", 1024);
    size_ok("64KiB", 65536);
    size_ok("1M", 1048576);
    size_ok("1MB", 1048576);
    size_ok("16MiB", 16777216);
    size_ok("1G", 1073741824);
    size_ok("1GB", 1073741824);
    size_ok("2GiB", 2147483648ULL);
    size_ok("1T", 1099511627776ULL);
    size_ok("1TB", 1099511627776ULL);
    size_ok("1TiB", 1099511627776ULL);
    size_ok("1.5K", 1536);
    size_ok("1.5TiB", 1649267441664ULL);
    size_ok("0.999999999999T", 1099511626676ULL); /* truncated, no overflow */
    size_ok("64 MiB", 67108864);
    size_ok("1kb", 1024);
    size_ok("1mib", 1048576);
    size_ok("16777215TiB", 16777215ULL << 40);
    size_ok("18446744073709551615", UINT64_MAX);

    size_bad("", SHINT "\"\"");
    size_bad("big", SHINT "\"big\"");
    size_bad("1X", SHINT "\"1X\"");
    size_bad("1KBB", SHINT "\"1KBB\"");
    size_bad("1Kib ", SHINT "\"1Kib \"");
    size_bad("1PB", SHINT "\"1PB\"");
    size_bad("-1K", "expected a size such as 512, 64KiB, 16MiB or 1G "
                    "(not negative), got \"-1K\"");
    size_bad("16777216TiB",
             "expected a size below 16EiB, got \"16777216TiB\"");
    size_bad("18446744073709551616",
             "expected a size below 16EiB, got \"18446744073709551616\"");
}

static void test_bool(void)
{
    static const char *const yes[] = {"yes", "YES", "Yes", "true", "TRUE",
                                      "on", "On", "1"};
    static const char *const no[] = {"no", "NO", "false", "False", "off",
                                     "OFF", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        bool_is(yes[i], 1);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        bool_is(no[i], 0);

    static const char *const bad[] = {"", "maybe", "y", "n", "2", "yess",
                                      "true ", "01", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int v = 5;
        char want[128];
        snprintf(want, sizeof want, "expected a boolean (yes/no, true/false, "
                 "on/off, 1/0), got \"%s\"", bad[i]);
        ok(value_parse_bool(bad[i], &v, err, sizeof err) == -1 && v == 5,
           "bool \"%s\" is refused", bad[i]);
        is_str(err, want, "bool \"%s\": message", bad[i]);
    }
}

static void test_int(void)
{
    int_ok("0", 0);
    int_ok("42", 42);
    int_ok("-42", -42);
    int_ok("+42", 42);
    int_ok("007", 7);
    int_ok("-0", 0);
    int_ok("9223372036854775807", INT64_MAX);
    int_ok("-9223372036854775808", INT64_MIN);

    int_bad("", "expected an integer, got \"\"");
    int_bad("-", "expected an integer, got \"-\"");
    int_bad("+", "expected an integer, got \"+\"");
    int_bad("12abc", "expected an integer, got \"12abc\"");
    int_bad("1.5", "expected an integer, got \"1.5\"");
    int_bad(" 1", "expected an integer, got \" 1\"");
    int_bad("1 ", "expected an integer, got \"1 \"");
    int_bad("0x10", "expected an integer, got \"0x10\"");
    int_bad("--1", "expected an integer, got \"--1\"");
    int_bad("9223372036854775808",
            "expected an integer from -9223372036854775808 to "
            "9223372036854775807, got \"9223372036854775808\"");
    int_bad("-9223372036854775809",
            "expected an integer from -9223372036854775808 to "
            "9223372036854775807, got \"-9223372036854775809\"");
    int_bad("99999999999999999999999", "expected an integer from "
            "-9223372036854775808 to 9223372036854775807, got "
            "\"99999999999999999999999\"");
    int_bad("99999999999999999999999z",
            "expected an integer, got \"99999999999999999999999z\"");
}

static void test_address(void)
{
    addr_ok("localhost:80", "localhost", 80);
    addr_ok("127.0.0.1:8080", "127.0.0.1", 8080);
    addr_ok("example.com:1", "example.com", 1);
    addr_ok("*:65535", "*", 65535);
    addr_ok("[::1]:80", "::1", 80);
    addr_ok("[::]:443", "::", 443);
    addr_ok("[2001:db8::1]:53", "2001:db8::1", 53);
    addr_ok("[fe80::1%eth0]:53", "fe80::1%eth0", 53);
    addr_ok("[::ffff:192.0.2.1]:8443", "::ffff:192.0.2.1", 8443);
    addr_ok("host:080", "host", 80);

    char longhost[300];
    memset(longhost, 'a', 255);
    strcpy(longhost + 255, ":80");
    {
        struct berth_address a;
        ok(value_parse_address(longhost, &a, err, sizeof err) == 0 &&
               strlen(a.host) == 255 && a.port == 80,
           "a 255-byte host fits");
    }
    memset(longhost, 'a', 256);
    strcpy(longhost + 256, ":80");
    addr_bad(longhost, "expected a host of at most 255 bytes, got 256 bytes");

    addr_bad("[::1", AHINT "\"[::1\" (missing ']')");
    addr_bad("::1:80", "expected an IPv6 address with a port in brackets, "
                       "such as [::1]:80, got \"::1:80\"");
    addr_bad("2001:db8::1", "expected an IPv6 address with a port in "
                            "brackets, such as [::1]:80, got \"2001:db8::1\"");
    addr_bad("localhost", AHINT "\"localhost\" (missing ':port')");
    addr_bad("", AHINT "\"\" (missing ':port')");
    addr_bad(":80", AHINT "\":80\" (missing host)");
    addr_bad("[::1]", AHINT "\"[::1]\" (missing ':port' after ']')");
    addr_bad("[::1]80", AHINT "\"[::1]80\" (missing ':port' after ']')");
    addr_bad("[]:80", "expected an IPv6 address inside [ ], such as "
                      "[::1]:80, got \"[]:80\"");
    addr_bad("[localhost]:80", "expected an IPv6 address inside [ ], such as "
                               "[::1]:80, got \"[localhost]:80\"");
    addr_bad("[fe80::1%]:80", "expected an IPv6 address inside [ ], such as "
                              "[::1]:80, got \"[fe80::1%]:80\"");
    addr_bad("host:0", "expected a port from 1 to 65535, got \"0\" in \"host:0\"");
    addr_bad("host:65536",
             "expected a port from 1 to 65535, got \"65536\" in \"host:65536\"");
    addr_bad("host:99999999999999999999", "expected a port from 1 to 65535, "
             "got \"99999999999999999999\" in \"host:99999999999999999999\"");
    addr_bad("host:", "expected a port from 1 to 65535, got \"\" in \"host:\"");
    addr_bad("host:http", "expected a port from 1 to 65535, got \"http\" in "
                          "\"host:http\"");
    addr_bad("host:-1", "expected a port from 1 to 65535, got \"-1\" in \"host:-1\"");
    addr_bad("host:80 ", "expected a port from 1 to 65535, got \"80 \" in "
                         "\"host:80 \"");
    addr_bad("[::1]:0", "expected a port from 1 to 65535, got \"0\" in \"[::1]:0\"");
    addr_bad("my host:80", "expected a host name or address before ':', got "
                           "\"my host\"");
    addr_bad("a/b:80", "expected a host name or address before ':', got \"a/b\"");
}

static void format_is(enum berth_opt_type type, const void *field,
                      const char *want)
{
    char buf[300];
    value_format(type, field, buf, sizeof buf);
    static int n;
    is_str(buf, want, "format case %d (%s)", ++n, value_type_name(type));
}

static void test_format(void)
{
    const char *s = "hello world", *null = NULL;
    int yes = 1, no = 0;
    int64_t i = -42, big = INT64_MIN;
    uint64_t d0 = 0, d1 = 250, d2 = 5000, d3 = 120000, d4 = 3600000,
             d5 = 86400000, d6 = 90000, d7 = 1500, d8 = 172800000;
    uint64_t s0 = 0, s1 = 512, s2 = 65536, s3 = 16777216, s4 = 1073741824,
             s5 = 1099511627776ULL, s6 = 1536, s7 = 1025;
    struct berth_address a4 = {"127.0.0.1", 80}, a6 = {"::1", 443};

    format_is(BERTH_OPT_STRING, &s, "hello world");
    format_is(BERTH_OPT_STRING, &null, "");
    format_is(BERTH_OPT_BOOL, &yes, "yes");
    format_is(BERTH_OPT_BOOL, &no, "no");
    format_is(BERTH_OPT_INT, &i, "-42");
    format_is(BERTH_OPT_INT, &big, "-9223372036854775808");
    format_is(BERTH_OPT_DURATION, &d0, "0s");
    format_is(BERTH_OPT_DURATION, &d1, "250ms");
    format_is(BERTH_OPT_DURATION, &d2, "5s");
    format_is(BERTH_OPT_DURATION, &d3, "2m");
    format_is(BERTH_OPT_DURATION, &d4, "1h");
    format_is(BERTH_OPT_DURATION, &d5, "1d");
    format_is(BERTH_OPT_DURATION, &d6, "90s");
    format_is(BERTH_OPT_DURATION, &d7, "1500ms");
    format_is(BERTH_OPT_DURATION, &d8, "2d");
    format_is(BERTH_OPT_SIZE, &s0, "0");
    format_is(BERTH_OPT_SIZE, &s1, "512");
    format_is(BERTH_OPT_SIZE, &s2, "64KiB");
    format_is(BERTH_OPT_SIZE, &s3, "16MiB");
    format_is(BERTH_OPT_SIZE, &s4, "1GiB");
    format_is(BERTH_OPT_SIZE, &s5, "1TiB");
    format_is(BERTH_OPT_SIZE, &s6, "1536");
    format_is(BERTH_OPT_SIZE, &s7, "1025");
    format_is(BERTH_OPT_ADDRESS, &a4, "127.0.0.1:80");
    format_is(BERTH_OPT_ADDRESS, &a6, "[::1]:443");

    /* Whatever is formatted parses back to the same value. */
    uint64_t durs[] = {0, 1, 999, 1000, 1001, 59999, 60000, 3600000, 86400000,
                       86400001, UINT64_MAX};
    int all = 1;
    for (size_t k = 0; k < sizeof durs / sizeof *durs; k++) {
        char buf[64];
        uint64_t back = 1;
        value_format(BERTH_OPT_DURATION, &durs[k], buf, sizeof buf);
        if (value_parse_duration(buf, &back, err, sizeof err) != 0 ||
            back != durs[k]) {
            diag("duration %" PRIu64 " -> %s -> %" PRIu64, durs[k], buf, back);
            all = 0;
        }
    }
    ok(all, "durations round-trip through value_format");
    uint64_t sizes[] = {0, 1, 1023, 1024, 1048575, 1048576, 5ULL << 30,
                        3ULL << 40, UINT64_MAX};
    all = 1;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        char buf[64];
        uint64_t back = 1;
        value_format(BERTH_OPT_SIZE, &sizes[k], buf, sizeof buf);
        if (value_parse_size(buf, &back, err, sizeof err) != 0 ||
            back != sizes[k]) {
            diag("size %" PRIu64 " -> %s -> %" PRIu64, sizes[k], buf, back);
            all = 0;
        }
    }
    ok(all, "sizes round-trip through value_format");
    {
        char buf[300];
        struct berth_address back;
        value_format(BERTH_OPT_ADDRESS, &a6, buf, sizeof buf);
        ok(value_parse_address(buf, &back, err, sizeof err) == 0 &&
               strcmp(back.host, "::1") == 0 && back.port == 443,
           "an IPv6 address round-trips");
    }

    char tiny[4];
    value_format(BERTH_OPT_STRING, &s, tiny, sizeof tiny);
    is_str(tiny, "hel", "value_format truncates to the buffer");

    is_str(value_type_name(BERTH_OPT_STRING), "string", "type name string");
    is_str(value_type_name(BERTH_OPT_BOOL), "bool", "type name bool");
    is_str(value_type_name(BERTH_OPT_INT), "integer", "type name integer");
    is_str(value_type_name(BERTH_OPT_DURATION), "duration", "type name duration");
    is_str(value_type_name(BERTH_OPT_SIZE), "size", "type name size");
    is_str(value_type_name(BERTH_OPT_ADDRESS), "address", "type name address");
    is_str(value_type_name((enum berth_opt_type)99), "unknown",
           "type name of an unknown type");
}

/* ------------------------------------------------------------------ */
/* log.c                                                              */

static void quote_is(const char *s, size_t size, const char *want)
{
    char buf[256];
    memset(buf, 'Z', sizeof buf);
    log_quote(buf, size, s);
    static int n;
    is_str(buf, want, "log_quote case %d (%zu bytes)", ++n, size);
}

static void test_log_quote(void)
{
    quote_is("plain", 64, "plain");
    quote_is("a/b:c.d-e_f", 64, "a/b:c.d-e_f");
    quote_is("back\\slash", 64, "back\\slash");
    quote_is("caf\xc3\xa9", 64, "caf\xc3\xa9");
    quote_is("", 64, "\"\"");
    quote_is(NULL, 64, "\"\"");
    quote_is("two words", 64, "\"two words\"");
    quote_is("a=b", 64, "\"a=b\"");
    quote_is("say \"hi\"", 64, "\"say \\\"hi\\\"\"");
    quote_is("q\"", 64, "\"q\\\"\"");
    quote_is("a b\\c", 64, "\"a b\\\\c\"");
    quote_is("line\nbreak", 64, "\"line\\nbreak\"");
    quote_is("cr\rtab\t", 64, "\"cr\\rtab\\t\"");
    quote_is("bell\007del\177", 64, "\"bell\\x07del\\x7f\"");
    /* Truncation keeps the closing quote and never splits an escape. */
    quote_is("abcdef", 4, "abc");
    quote_is("ab cdef", 6, "\"ab \"");
    quote_is("a\nb c", 6, "\"a\\n\"");
    quote_is("a\nb c", 5, "\"a\"");
    quote_is("a\nb c", 4, "\"a\"");
    quote_is("a b", 2, "");
    quote_is("a b", 3, "\"\"");

    char one = 'x';
    log_quote(&one, 0, "abc");
    ok(one == 'x', "log_quote with size 0 writes nothing");
    char buf[8];
    ok(log_quote(buf, sizeof buf, "x") == buf, "log_quote returns buf");
}

static void test_log_levels(void)
{
    ok(log_level_parse("error") == BERTH_LOG_ERROR, "level error");
    ok(log_level_parse("warn") == BERTH_LOG_WARN, "level warn");
    ok(log_level_parse("info") == BERTH_LOG_INFO, "level info");
    ok(log_level_parse("debug") == BERTH_LOG_DEBUG, "level debug");
    ok(log_level_parse("INFO") == -1, "level names are lower case");
    ok(log_level_parse("warning") == -1, "unknown level: -1");
    ok(log_level_parse("") == -1, "empty level: -1");
    is_str(log_level_name(BERTH_LOG_ERROR), "error", "name of error");
    is_str(log_level_name(BERTH_LOG_WARN), "warn", "name of warn");
    is_str(log_level_name(BERTH_LOG_INFO), "info", "name of info");
    is_str(log_level_name(BERTH_LOG_DEBUG), "debug", "name of debug");
    is_str(log_level_name(5), "unknown", "name of an unknown level");
}

/* Runs the log calls of fn with stderr sent to a file; returns its text. */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/test_log.XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    char *text = calloc(1, 65536);

    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, text, 65535);
    text[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return text;
}

static int errno_after;

static void emit_basic(void)
{
    log_setup(LOG_TARGET_STDERR, BERTH_LOG_INFO);
    log_info("plugin.loaded", "name=%s", "example");
    log_debug("dropped", "x=%d", 1);
    log_warn("multi", "error=\"%s\"", "line one\nline two\tand\x01");
    errno = ENOENT;
    log_error("agent.failed", "%s", "");
    errno_after = errno;
}

static void emit_long(void)
{
    char *big = malloc(5001);
    memset(big, 'v', 5000);
    big[5000] = '\0';
    log_setup(LOG_TARGET_STDERR, BERTH_LOG_DEBUG);
    log_debug("long", "value=%s end=1", big);
    log_setup(LOG_TARGET_STDERR, BERTH_LOG_ERROR);
    log_warn("dropped", "%s", "warn below error");
    log_event(BERTH_LOG_ERROR, "ev\nil", "k=%d", 2);
    free(big);
}

/* "ts=2026-11-23T10:00:00.123Z " */
static int is_timestamp(const char *s)
{
    const char *pat = "ts=dddd-dd-ddTdd:dd:dd.dddZ ";
    for (; *pat; pat++, s++) {
        if (*pat == 'd' ? !(*s >= '0' && *s <= '9') : *s != *pat)
            return 0;
    }
    return 1;
}

static void test_log_lines(void)
{
    char *out = capture(emit_basic);
    char *l1 = out, *l2 = strchr(l1, '\n'), *l3, *l4;

    ok(l2 && (l3 = strchr(l2 + 1, '\n')) && (l4 = strchr(l3 + 1, '\n')) &&
           l4[1] == '\0', "three lines: debug dropped at level info");
    if (!(l2 && l3 && l4)) {
        diag("output: %s", out);
        free(out);
        return;
    }
    *l2++ = *l3++ = *l4 = '\0';
    ok(is_timestamp(l1), "ts= first, ISO 8601 UTC with milliseconds: %s", l1);
    is_str(l1 + 28, "level=info event=plugin.loaded name=example", "info line");
    is_str(l2 + 28, "level=warn event=multi error=\"line one\\nline two\\tand\\x01\"",
           "control characters escaped: one call, one line");
    is_str(l3 + 28, "level=error event=agent.failed", "no trailing space without fields");
    ok(errno_after == ENOENT, "logging keeps errno");
    ok(log_get_level() == BERTH_LOG_INFO, "log_get_level");
    free(out);

    out = capture(emit_long);
    l2 = strchr(out, '\n');
    ok(l2 && strlen(out) > 5000 && l2 - out > 5000, "a long line is written whole");
    if (l2) {
        *l2++ = '\0';
        like(out, "level=debug event=long value=vvvv", "long line start");
        ok(strlen(out) > 12 && strcmp(out + strlen(out) - 6, " end=1") == 0,
           "long line end");
        is_str(l2 + 28, "level=error event=ev\\nil k=2\n",
               "event names are escaped too; warn dropped at level error");
    }
    free(out);
    log_setup(LOG_TARGET_STDERR, BERTH_LOG_INFO);
}

int main(void)
{
    test_log_quote();
    test_log_levels();
    test_log_lines();
    test_duration();
    test_size();
    test_bool();
    test_int();
    test_address();
    test_format();
    return done_testing();
}
