/* test_metrics.c: the series store's histograms (ABI 1.4): validation with
 * clear errors, replacement, forget, name clashes with samples; the export
 * to sinks of the 1.3 and 1.4 struct sizes; the per-worker histo helper,
 * including a writer thread summed by a reader meanwhile. */

#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/histo.h"
#include "agent/host.h"
#include "agent/metrics.h"
#include "tests/lib/tap.h"

static const double B3[] = {0.1, 1, 10};

static struct berth_histogram
hist(const char *name, const double *b, const uint64_t *c, size_t n, uint64_t count)
{
    static const struct berth_label l[] = {{"action", "RunTask"}};
    return (struct berth_histogram){
        .name = name, .help = "h", .labels = l, .n_labels = 1, .n_buckets = n,
        .upper_bounds = b, .cumulative_counts = c, .count = count, .sum = 1.5,
    };
}

static void
test_validation(void)
{
    struct metrics *m = metrics_new();
    char err[256];
    const uint64_t c[] = {1, 2, 3};
    struct berth_histogram h = hist("lat_seconds", B3, c, 3, 4);

    ok(metrics_record_histogram(m, &h, 7, err, sizeof(err)) == 0, "a valid histogram is kept");
    size_t n;
    const struct berth_histogram *all = metrics_histograms(m, &n);
    ok(n == 1 && all[0].count == 4 && all[0].cumulative_counts[2] == 3 &&
           all[0].upper_bounds[1] == 1 && all[0].time_ms == 7 &&
           strcmp(all[0].labels[0].value, "RunTask") == 0,
       "its state is copied, time defaulted");

    const double desc[] = {0.1, 0.05, 10};
    h = hist("lat_seconds", desc, c, 3, 4);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "descending bounds are refused");
    like(err, "histogram lat_seconds: bound #1 (0.05) is not finite and above", "the error names the bound");
    const double inf[] = {0.1, INFINITY};
    h = hist("lat_seconds", inf, c, 2, 4);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "an infinite bound is refused (+Inf is implied)");
    const double dup[] = {1, 1};
    h = hist("lat_seconds", dup, c, 2, 4);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "equal bounds are refused");

    const uint64_t dec[] = {2, 1, 3};
    h = hist("lat_seconds", B3, dec, 3, 4);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "decreasing counts are refused");
    like(err, "count #1 (1) is not cumulative", "the error names the count");
    h = hist("lat_seconds", B3, c, 3, 2);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "a bucket above count is refused");
    like(err, "above count 2", "the error says so");

    h = hist("9bad", B3, c, 3, 4);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "a bad name is refused");
    like(err, "invalid histogram name \"9bad\"", "naming it");
    struct berth_label le[] = {{"le", "1"}};
    h = hist("lat_seconds", B3, c, 3, 4);
    h.labels = le;
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "label le is refused");
    like(err, "label le is reserved", "with a reason");
    struct berth_label twice[] = {{"a", "1"}, {"a", "2"}};
    h.labels = twice;
    h.n_labels = 2;
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "a label given twice is refused");
    like(err, "histogram lat_seconds: label a given twice", "naming it");
    h = hist("lat_seconds", B3, c, 3, 4);
    h.sum = NAN;
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "a NaN sum is refused");
    h = hist("lat_seconds", B3, c, METRICS_MAX_BUCKETS + 1, 4);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "too many buckets are refused");
    like(err, "at most 64", "saying the limit");

    /* A new state replaces the old one, bounds included; 0 buckets is fine. */
    const uint64_t c2[] = {5};
    const double b1[] = {2};
    h = hist("lat_seconds", b1, c2, 1, 9);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) == 0, "a new layout replaces the old");
    all = metrics_histograms(m, &n);
    ok(n == 1 && all[0].n_buckets == 1 && all[0].upper_bounds[0] == 2 && all[0].count == 9,
       "one series, with the new state");
    h = hist("only_inf", NULL, NULL, 0, 3);
    h.n_labels = 0;
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) == 0, "no finite bucket: only +Inf");

    /* Names: a sample and a histogram may not share one. */
    struct berth_metric s = {.name = "lat_seconds", .type = BERTH_METRIC_GAUGE, .value = 1};
    ok(metrics_record(m, &s, 0, err, sizeof(err)) < 0, "a sample cannot take a histogram's name");
    like(err, "metric lat_seconds: the name is a histogram's", "naming it");
    s.name = "up";
    ok(metrics_record(m, &s, 0, err, sizeof(err)) == 0, "a sample is kept");
    h = hist("up", B3, c, 3, 4);
    ok(metrics_record_histogram(m, &h, 0, err, sizeof(err)) < 0, "a histogram cannot take a gauge's name");
    like(err, "histogram up: the name is a gauge's", "naming it");

    /* forget drops histograms with the label too. */
    ok(metrics_forget(m, "action", "RunTask") == 1, "forget drops the labelled histogram");
    all = metrics_histograms(m, &n);
    ok(n == 1 && strcmp(all[0].name, "only_inf") == 0, "and keeps the others");
    metrics_free(m);
}

/* Sinks of two ABI minors. */
struct sink_seen {
    int writes, hwrites;
    size_t n, nh;
};

static void
sink_write(void *st, const struct berth_metric *m, size_t n)
{
    (void)m;
    struct sink_seen *s = st;
    s->writes++;
    s->n = n;
}

static void
sink_write_h(void *st, const struct berth_histogram *h, size_t n)
{
    struct sink_seen *s = st;
    s->hwrites++;
    s->nh = n;
    ok(s->writes == s->hwrites, "write_histograms comes right after write");
    if (n)
        ok(h[0].count == 4, "the sink sees the histogram's state");
}

static void
test_sinks(void)
{
    struct metrics *m = metrics_new();
    char err[256];
    const uint64_t c[] = {1, 2, 3};
    struct berth_histogram h = hist("lat_seconds", B3, c, 3, 4);
    struct berth_metric s = {.name = "up", .type = BERTH_METRIC_GAUGE, .value = 1};
    metrics_record_histogram(m, &h, 0, err, sizeof(err));
    metrics_record(m, &s, 0, err, sizeof(err));

    size_t n, nh;
    const struct berth_metric *all = metrics_all(m, &n);
    const struct berth_histogram *hall = metrics_histograms(m, &nh);

    /* A 1.3 sink: its struct ends at write; the field past it may hold
     * anything (here a function that would count), and must not be read. */
    struct berth_metrics_sink_ops old = {
        .struct_size = (uint32_t)(offsetof(struct berth_metrics_sink_ops, write) +
                                  sizeof(old.write)),
        .write = sink_write,
        .write_histograms = sink_write_h,
    };
    struct sink_seen so = {0};
    host_sink_export(&old, &so, all, n, hall, nh);
    ok(so.writes == 1 && so.n == 1, "a 1.3 sink gets write()");
    ok(so.hwrites == 0, "and no write_histograms call");

    struct berth_metrics_sink_ops cur = {
        .struct_size = sizeof(cur), .write = sink_write, .write_histograms = sink_write_h,
    };
    struct sink_seen sc = {0};
    host_sink_export(&cur, &sc, all, n, hall, nh);
    ok(sc.writes == 1 && sc.hwrites == 1 && sc.nh == 1, "a 1.4 sink gets both");
    host_sink_export(&cur, &sc, all, n, NULL, 0);
    ok(sc.hwrites == 2 && sc.nh == 0, "write_histograms comes even with none");

    struct berth_metrics_sink_ops none = {.struct_size = sizeof(none), .write = sink_write};
    struct sink_seen sn = {0};
    host_sink_export(&none, &sn, all, n, hall, nh);
    ok(sn.writes == 1 && sn.hwrites == 0, "a 1.4 sink without write_histograms gets write only");
    metrics_free(m);
}

static void
test_histo(void)
{
    struct histo a, b;
    char err[128];
    struct histo_view v;

    ok(histo_init(&a, NULL, 0, err, sizeof(err)) == 0 && a.n == 11 && a.bounds[0] == .005 &&
           a.bounds[10] == 10,
       "default bounds are Prometheus' .005 .. 10");
    const double bad[] = {1, 0.5};
    ok(histo_init(&b, bad, 2, err, sizeof(err)) < 0, "descending bounds are refused");
    like(err, "bound #1 (0.5)", "naming the bound");
    double many[HISTO_MAX_BOUNDS + 1];
    for (size_t i = 0; i <= HISTO_MAX_BOUNDS; i++)
        many[i] = (double)i;
    ok(histo_init(&b, many, HISTO_MAX_BOUNDS + 1, err, sizeof(err)) < 0, "too many bounds are refused");

    histo_init(&a, B3, 3, err, sizeof(err));
    histo_observe(&a, 0.1); /* le: on the bound counts in it */
    histo_observe(&a, 0.5);
    histo_observe(&a, 20);
    histo_observe(&a, NAN);
    histo_view(&a, "x_seconds", NULL, NULL, 0, &v);
    ok(v.h.n_buckets == 3 && v.cumulative[0] == 1 && v.cumulative[1] == 2 &&
           v.cumulative[2] == 2 && v.h.count == 3 && fabs(v.h.sum - 20.6) < 1e-9,
       "observe: le buckets, +Inf in count, NaN ignored");
    char e2[256];
    struct metrics *m = metrics_new();
    ok(metrics_record_histogram(m, &v.h, 0, e2, sizeof(e2)) == 0, "a view is a valid histogram");
    metrics_free(m);

    histo_init(&b, B3, 3, err, sizeof(err));
    histo_observe(&b, 2);
    struct histo total;
    histo_init(&total, B3, 3, err, sizeof(err));
    ok(histo_add(&total, &a) == 0 && histo_add(&total, &b) == 0, "add sums copies");
    histo_view(&total, "x_seconds", NULL, NULL, 0, &v);
    ok(v.h.count == 4 && v.cumulative[2] == 3 && fabs(v.h.sum - 22.6) < 1e-9, "to their totals");
    histo_reset(&total);
    histo_view(&total, "x_seconds", NULL, NULL, 0, &v);
    ok(v.h.count == 0 && v.h.sum == 0, "reset zeroes");
    struct histo other;
    histo_init(&other, NULL, 0, err, sizeof(err));
    ok(histo_add(&total, &other) < 0, "add refuses other bounds");
}

/* One writer thread, the reader summing meanwhile: every read is a valid
 * histogram (cumulative, count = +Inf bucket), and the last one is exact. */
#define OBS 200000
static void *
writer(void *arg)
{
    struct histo *h = arg;
    for (int i = 0; i < OBS; i++)
        histo_observe(h, (i % 4) * 0.4); /* 0, .4, .8, 1.2 */
    return NULL;
}

static void
test_histo_threads(void)
{
    static struct histo w, total;
    char err[128], e2[256];
    pthread_t t;
    struct histo_view v;
    struct metrics *m = metrics_new();
    int valid = 1, reads = 0;

    histo_init(&w, B3, 3, err, sizeof(err));
    histo_init(&total, B3, 3, err, sizeof(err));
    pthread_create(&t, NULL, writer, &w);
    for (;;) {
        histo_view(&w, "x", NULL, NULL, 0, &v);
        reads++;
        if (metrics_record_histogram(m, &v.h, 0, e2, sizeof(e2)) < 0)
            valid = 0;
        if (v.h.count == OBS)
            break;
    }
    pthread_join(t, NULL);
    ok(valid, "every view read during writes is a valid histogram (%d reads)", reads);
    histo_add(&total, &w);
    histo_view(&total, "x", NULL, NULL, 0, &v);
    ok(v.h.count == OBS && v.cumulative[0] == OBS / 4 && v.cumulative[1] == 3 * (OBS / 4) &&
           v.cumulative[2] == OBS,
       "the final sum is exact");
    metrics_free(m);
}

int
main(void)
{
    test_validation();
    test_sinks();
    test_histo();
    test_histo_threads();
    return done_testing();
}
