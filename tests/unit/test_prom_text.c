/* test_prom_text.c: the Prometheus text format writer: HELP/TYPE once per
 * name before its samples, each name's samples contiguous in first-seen
 * order, escaping of HELP and label values, special values, and samples
 * the format cannot carry left out. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_text.h"
#include "tests/lib/tap.h"

#define C BERTH_METRIC_COUNTER
#define G BERTH_METRIC_GAUGE

static char *render(const struct berth_metric *m, size_t n, size_t *skipped)
{
    size_t len = 0;
    char *s = prom_render(m, n, &len, skipped);
    if (s && strlen(s) != len)
        diag("length %zu differs from strlen %zu", len, strlen(s));
    return s;
}

static void test_grouping(void)
{
    struct berth_label a = {"code", "200"}, b = {"code", "500"}, x = {"state", "RUNNING"};
    struct berth_metric m[] = {
        {.name = "req_total", .help = "Requests.", .type = C, .value = 3, .labels = &a, .n_labels = 1},
        {.name = "tasks", .help = "Tasks.", .type = G, .value = 2, .labels = &x, .n_labels = 1},
        {.name = "req_total", .help = "Requests.", .type = C, .value = 1, .labels = &b, .n_labels = 1},
    };
    size_t skipped = 9;
    char *s = render(m, 3, &skipped);

    is_str(s,
           "# HELP req_total Requests.\n"
           "# TYPE req_total counter\n"
           "req_total{code=\"200\"} 3\n"
           "req_total{code=\"500\"} 1\n"
           "# HELP tasks Tasks.\n"
           "# TYPE tasks gauge\n"
           "tasks{state=\"RUNNING\"} 2\n",
           "TYPE once per name, samples contiguous, first-seen order");
    ok(skipped == 0, "nothing skipped");
    free(s);
}

static void test_escaping(void)
{
    struct berth_label l[] = {{"path", "C:\\dir\\\"x\"\nend"}, {"empty", ""}};
    struct berth_metric m[] = {
        {.name = "odd", .help = "Back\\slash and\nnewline, \"quotes\" kept.", .type = G,
         .value = 0.5, .labels = l, .n_labels = 2},
        {.name = "nohelp", .type = G, .value = -1},
    };
    char *s = render(m, 2, NULL);

    is_str(s,
           "# HELP odd Back\\\\slash and\\nnewline, \"quotes\" kept.\n"
           "# TYPE odd gauge\n"
           "odd{path=\"C:\\\\dir\\\\\\\"x\\\"\\nend\",empty=\"\"} 0.5\n"
           "# HELP nohelp \n"
           "# TYPE nohelp gauge\n"
           "nohelp -1\n",
           "HELP escapes \\\\ and \\n; label values also \\\"");
    free(s);
}

static void test_values(void)
{
    struct berth_metric m[] = {
        {.name = "a", .type = G, .value = NAN},
        {.name = "b", .type = G, .value = INFINITY},
        {.name = "c", .type = G, .value = -INFINITY},
        {.name = "d", .type = G, .value = 0.1},
        {.name = "e", .type = C, .value = 25276026880.0},
        {.name = "f", .type = G, .value = 1.0 / 3.0},
    };
    char *s = render(m, 6, NULL);

    like(s, "\na NaN\n", "NaN");
    like(s, "\nb +Inf\n", "+Inf");
    like(s, "\nc -Inf\n", "-Inf");
    like(s, "\nd 0.1\n", "0.1 stays short");
    like(s, "\ne 25276026880\n", "large integer exact");
    const char *f = s ? strstr(s, "\nf ") : NULL;
    ok(f && strtod(f + 3, NULL) == 1.0 / 3.0, "1/3 reads back exactly");
    ok(s && s[strlen(s) - 1] == '\n', "the last line ends in \\n");
    free(s);
}

static void test_refused(void)
{
    struct berth_label bad = {"bad:label", "x"}, good = {"ok", "y"};
    struct berth_metric m[] = {
        {.name = "1bad", .type = G, .value = 1},
        {.name = "has-dash", .type = G, .value = 1},
        {.name = "lab", .type = G, .value = 1, .labels = &bad, .n_labels = 1},
        {.name = "newtype", .type = (enum berth_metric_type)3, .value = 1},
        {.name = "mixed", .type = G, .value = 1, .labels = &good, .n_labels = 1},
        {.name = "mixed", .type = C, .value = 2},
        {.name = "ns:ok_total", .type = C, .value = 4},
    };
    size_t skipped = 0;
    char *s = render(m, 7, &skipped);

    is_str(s,
           "# HELP mixed \n# TYPE mixed gauge\nmixed{ok=\"y\"} 1\n"
           "# HELP ns:ok_total \n# TYPE ns:ok_total counter\nns:ok_total 4\n",
           "bad names, a label name with ':', unknown types and a type clash are left out");
    ok(skipped == 5, "five skipped (got %zu)", skipped);
    free(s);

    s = render(NULL, 0, NULL);
    is_str(s, "", "no series: an empty page");
    free(s);
}

static void test_names(void)
{
    ok(prom_valid_name("container_cpu_usage_seconds_total"), "cAdvisor name");
    ok(prom_valid_name(":a:b"), "colons allowed in names");
    ok(!prom_valid_name("") && !prom_valid_name("9a") && !prom_valid_name("a b"),
       "empty, leading digit, space refused");
    ok(prom_valid_label_name("_x9") && !prom_valid_label_name("a:b"), "label names");
}

static void test_histograms(void)
{
    static const double b[] = {0.005, 0.1, 1, 2.5, 1e6};
    static const uint64_t c[] = {1, 2, 2, 3, 4};
    static const struct berth_label l[] = {{"action", "Run\"Task\"\\\n"}};
    struct berth_histogram h[] = {
        {.name = "req_seconds", .help = "Latency\nof requests.", .labels = l, .n_labels = 1,
         .n_buckets = 5, .upper_bounds = b, .cumulative_counts = c, .count = 5, .sum = 0.25},
        {.name = "9bad", .n_buckets = 0, .count = 1},
        {.name = "req_seconds", .n_buckets = 1, .upper_bounds = b, .cumulative_counts = c,
         .count = 1, .sum = 1e-3},
    };
    size_t len, skipped;
    char *s = prom_render_histograms(h, 3, &len, &skipped);

    is_str(s,
           "# HELP req_seconds Latency\\nof requests.\n# TYPE req_seconds histogram\n"
           "req_seconds_bucket{action=\"Run\\\"Task\\\"\\\\\\n\",le=\"0.005\"} 1\n"
           "req_seconds_bucket{action=\"Run\\\"Task\\\"\\\\\\n\",le=\"0.1\"} 2\n"
           "req_seconds_bucket{action=\"Run\\\"Task\\\"\\\\\\n\",le=\"1\"} 2\n"
           "req_seconds_bucket{action=\"Run\\\"Task\\\"\\\\\\n\",le=\"2.5\"} 3\n"
           "req_seconds_bucket{action=\"Run\\\"Task\\\"\\\\\\n\",le=\"1e+06\"} 4\n"
           "req_seconds_bucket{action=\"Run\\\"Task\\\"\\\\\\n\",le=\"+Inf\"} 5\n"
           "req_seconds_sum{action=\"Run\\\"Task\\\"\\\\\\n\"} 0.25\n"
           "req_seconds_count{action=\"Run\\\"Task\\\"\\\\\\n\"} 5\n"
           "req_seconds_bucket{le=\"0.005\"} 1\n"
           "req_seconds_bucket{le=\"+Inf\"} 1\n"
           "req_seconds_sum 0.001\n"
           "req_seconds_count 1\n",
           "histograms: one TYPE, buckets with le last, +Inf, _sum, _count, escaping");
    ok(skipped == 1, "the bad name is skipped (got %zu)", skipped);
    free(s);

    struct { double v; const char *want; } le[] = {
        {0.005, "0.005"}, {0.1, "0.1"}, {1, "1"}, {2.5, "2.5"}, {10, "10"},
        {100000, "100000"}, {1e6, "1e+06"}, {0.0001, "0.0001"}, {1e-5, "1e-05"},
        {0.3, "0.3"}, {1.0 / 3, "0.3333333333333333"}, {-2, "-2"}, {INFINITY, "+Inf"},
    };
    int good = 1;
    for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
        char out[40];
        prom_format_le(out, sizeof(out), le[i].v);
        if (strcmp(out, le[i].want) != 0) {
            diag("le %.17g: got %s, want %s", le[i].v, out, le[i].want);
            good = 0;
        }
    }
    ok(good, "le as Go's FormatFloat(v, 'g', -1, 64)");
}

int main(void)
{
    test_histograms();
    test_grouping();
    test_escaping();
    test_values();
    test_refused();
    test_names();
    return done_testing();
}
