/* test_options.c: option tables applied to structs (agent/options.c). */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>

#include "agent/options.h"
#include "tests/lib/tap.h"

struct cfg {
    char *name;
    char *path;
    int enabled;
    int64_t count;
    uint64_t interval_ms;
    uint64_t limit;
    struct berth_address listen;
    char *nodefault;
};

#define OPT(n, t, d, f) {n, t, d, offsetof(struct cfg, f), "help for " n, 0}

static const struct berth_option table[] = {
    OPT("name", BERTH_OPT_STRING, "berth", name),
    OPT("path", BERTH_OPT_STRING, "", path),
    OPT("enabled", BERTH_OPT_BOOL, "yes", enabled),
    OPT("count", BERTH_OPT_INT, "-3", count),
    OPT("interval", BERTH_OPT_DURATION, "1.5s", interval_ms),
    OPT("limit", BERTH_OPT_SIZE, "64KiB", limit),
    OPT("listen", BERTH_OPT_ADDRESS, "[::1]:8080", listen),
    {"nodefault", BERTH_OPT_STRING, NULL, offsetof(struct cfg, nodefault),
     "no default", BERTH_OPT_REQUIRED},
    {NULL, 0, NULL, 0, NULL, 0},
};

static const struct berth_option broken[] = {
    OPT("count", BERTH_OPT_INT, "many", count),
    {NULL, 0, NULL, 0, NULL, 0},
};

static const struct berth_option badtype[] = {
    {"x", (enum berth_opt_type)42, NULL, 0, "", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static void test_find(void)
{
    ok(options_find(table, "name") == &table[0], "options_find finds the first row");
    ok(options_find(table, "nodefault") == &table[7], "options_find finds the last row");
    ok(options_find(table, "nope") == NULL, "options_find: unknown name is NULL");
    ok(options_find(table, "Name") == NULL, "options_find is case-sensitive");
    ok(options_find(table, "") == NULL, "options_find: empty name is NULL");
    ok(options_find(NULL, "name") == NULL, "options_find on a NULL table is NULL");
}

static void test_defaults(void)
{
    struct cfg c = {0};
    char err[256] = "";

    ok(options_defaults(table, &c, err, sizeof err) == 0, "defaults apply");
    is_str(c.name, "berth", "string default");
    is_str(c.path, "", "empty string default is an empty string");
    ok(c.enabled == 1, "bool default");
    ok(c.count == -3, "int default");
    ok(c.interval_ms == 1500, "duration default");
    ok(c.limit == 65536, "size default");
    ok(strcmp(c.listen.host, "::1") == 0 && c.listen.port == 8080,
       "address default");
    ok(c.nodefault == NULL, "a NULL default leaves the field zero");

    /* Applying defaults twice must not leak (valgrind checks). */
    ok(options_defaults(table, &c, err, sizeof err) == 0, "defaults apply twice");
    options_free(table, &c);
    ok(c.name == NULL && c.path == NULL, "options_free NULLs the strings");
    ok(c.enabled == 0 && c.count == 0 && c.interval_ms == 0 && c.limit == 0 &&
           c.listen.port == 0 && c.listen.host[0] == '\0',
       "options_free zeroes the other fields");
    options_free(table, &c); /* idempotent */
    ok(1, "options_free twice is harmless");

    struct cfg b = {0};
    ok(options_defaults(broken, &b, err, sizeof err) == -1,
       "a default that does not parse is reported");
    is_str(err, "default of count: expected an integer, got \"many\"",
           "the broken default's message names the option");

    ok(options_defaults(NULL, &b, err, sizeof err) == 0, "a NULL table has no defaults");
}

static void test_set(void)
{
    struct cfg c = {0};
    char err[256];

    options_defaults(table, &c, err, sizeof err);

    ok(options_set(table, &c, "name", "other", err, sizeof err) == 0, "set string");
    is_str(c.name, "other", "string set (old value freed: valgrind)");
    ok(options_set(table, &c, "nodefault", "x y z", err, sizeof err) == 0,
       "set a string that had no default");
    is_str(c.nodefault, "x y z", "string kept verbatim");
    ok(options_set(table, &c, "enabled", "off", err, sizeof err) == 0 &&
           c.enabled == 0, "set bool");
    ok(options_set(table, &c, "count", "9000", err, sizeof err) == 0 &&
           c.count == 9000, "set int");
    ok(options_set(table, &c, "interval", "2m", err, sizeof err) == 0 &&
           c.interval_ms == 120000, "set duration");
    ok(options_set(table, &c, "limit", "1G", err, sizeof err) == 0 &&
           c.limit == 1073741824, "set size");
    ok(options_set(table, &c, "listen", "0.0.0.0:53", err, sizeof err) == 0 &&
           strcmp(c.listen.host, "0.0.0.0") == 0 && c.listen.port == 53,
       "set address");

    ok(options_set(table, &c, "bogus", "1", err, sizeof err) == -1,
       "unknown key refused");
    is_str(err, "unknown key", "unknown key message");

    ok(options_set(table, &c, "interval", "soon", err, sizeof err) == -1,
       "bad duration refused");
    is_str(err, "expected a duration such as 250ms, 5s, 2m or 1h, got \"soon\"",
           "the parser's message is passed on");
    ok(c.interval_ms == 120000, "a bad value leaves the field as it was");
    ok(options_set(table, &c, "enabled", "maybe", err, sizeof err) == -1 &&
           c.enabled == 0, "bad bool refused, field kept");
    ok(options_set(table, &c, "count", "1x", err, sizeof err) == -1 &&
           c.count == 9000, "bad int refused, field kept");
    ok(options_set(table, &c, "limit", "lots", err, sizeof err) == -1 &&
           c.limit == 1073741824, "bad size refused, field kept");
    ok(options_set(table, &c, "listen", "nope", err, sizeof err) == -1 &&
           strcmp(c.listen.host, "0.0.0.0") == 0 && c.listen.port == 53,
       "bad address refused, field kept");

    ok(options_set(badtype, &c, "x", "1", err, sizeof err) == -1,
       "an unsupported type is refused");
    is_str(err, "option type 42 is not supported", "unsupported type message");

    options_free(table, &c);
}

static void test_equal(void)
{
    struct cfg a = {0}, b = {0};
    char err[256];

    options_defaults(table, &a, err, sizeof err);
    options_defaults(table, &b, err, sizeof err);
    ok(options_equal(table, &a, &b), "same defaults are equal");
    ok(a.name != b.name, "each struct owns its own copy of a string");

    options_set(table, &b, "name", "berth", err, sizeof err);
    ok(options_equal(table, &a, &b), "strings compare by value");

    /* Garbage after the host's NUL must not matter. */
    memset(b.listen.host, 'x', sizeof b.listen.host);
    options_set(table, &b, "listen", "[::1]:8080", err, sizeof err);
    ok(options_equal(table, &a, &b), "addresses compare by host and port");

    static const char *const changes[][2] = {
        {"name", "other"},   {"path", "/x"},      {"enabled", "no"},
        {"count", "4"},      {"interval", "2s"},  {"limit", "1K"},
        {"listen", "[::1]:8081"}, {"listen", "[::2]:8080"}, {"nodefault", "x"},
    };
    for (size_t i = 0; i < sizeof changes / sizeof *changes; i++) {
        struct cfg c = {0};
        options_defaults(table, &c, err, sizeof err);
        options_set(table, &c, changes[i][0], changes[i][1], err, sizeof err);
        ok(!options_equal(table, &a, &c) && !options_equal(table, &c, &a),
           "a change of %s to %s is seen", changes[i][0], changes[i][1]);
        options_free(table, &c);
    }

    struct cfg n1 = {0}, n2 = {0};
    ok(options_equal(table, &n1, &n2), "two zeroed structs are equal");
    n2.name = (char *)"";
    ok(!options_equal(table, &n1, &n2), "NULL and \"\" differ");
    ok(options_equal(NULL, &n1, &n2), "with a NULL table everything is equal");

    options_free(table, &a);
    options_free(table, &b);
}

int main(void)
{
    test_find();
    test_defaults();
    test_set();
    test_equal();
    return done_testing();
}
