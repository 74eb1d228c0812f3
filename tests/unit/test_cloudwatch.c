/* test_cloudwatch: the CloudWatch sink's pure parts: batching by count and
 * size with NaN/Inf skipped, the PutMetricData form body and its
 * dimensions, counters and histograms as increments, Container Insights'
 * figures, the bounded queue, the retry decisions and backoff, the
 * credentials profile reader, and EMF events of up to 100 metrics. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/cloudwatch/cw.h"
#include "tests/lib/tap.h"

static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static const struct cw_value *
value_of(const struct cw_record *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].name, name) == 0)
            return &r->v[i];
    return NULL;
}

/* Records from samples, as the series mode makes them (gauges only, so
 * no previous export is needed). */
static void
records_of(const struct berth_metric *m, size_t n, const char *cluster, uint64_t now,
           struct cw_records *rs)
{
    struct cw_delta *d = cw_delta_new();
    memset(rs, 0, sizeof(*rs));
    cw_series_samples(d, cluster, m, n, now, rs);
    cw_delta_free(d);
}

static void
test_body(void)
{
    struct berth_label l[] = {
        {"cluster", "prod"}, {"service", "web app"}, {"family", "web"},
        {"container", "nginx"},
    };
    struct berth_metric m[] = {
        {.name = "CpuUtilized", .type = BERTH_METRIC_GAUGE, .value = 12.5,
         .labels = l, .n_labels = 4, .time_ms = 1700000000123ULL},
        {.name = "agent_up", .type = BERTH_METRIC_GAUGE, .value = 1e300},
        {.name = "berth_x_seconds", .type = BERTH_METRIC_GAUGE, .value = 2},
    };
    struct cw_batch_opts o = {"ECS/ContainerInsights", 1000, CW_MAX_BYTES};
    struct cw_records rs;
    struct cw_batches b;
    char err[200];

    records_of(m, 3, "dflt", 1700000000000ULL, &rs);
    ok(rs.n == 2 && rs.r[0].n == 1 && rs.r[1].n == 2,
       "records group samples by their dimensions (%zu)", rs.n);
    ok(cw_batch_build(&o, &rs, &b, err, sizeof(err)) == 0 && b.n == 1,
       "three values, one body");
    const char *t = b.n ? b.v[0].text : "";
    like(t, "Action=PutMetricData&Version=2010-08-01&Namespace=ECS%2FContainerInsights",
         "action, version and the namespace form-encoded");
    like(t, "&MetricData.member.1.MetricName=CpuUtilized&MetricData.member.1.Value=12.5"
            "&MetricData.member.1.Timestamp=2023-11-14T22%3A13%3A20.123Z"
            "&MetricData.member.1.Unit=None",
         "name, value, the sample's own timestamp (ISO 8601) and unit");
    like(t, "MetricData.member.1.Dimensions.member.1.Name=ClusterName"
            "&MetricData.member.1.Dimensions.member.1.Value=prod"
            "&MetricData.member.1.Dimensions.member.2.Name=ServiceName"
            "&MetricData.member.1.Dimensions.member.2.Value=web%20app"
            "&MetricData.member.1.Dimensions.member.3.Name=TaskDefinitionFamily"
            "&MetricData.member.1.Dimensions.member.3.Value=web"
            "&MetricData.member.1.Dimensions.member.4.Name=container",
         "labels mapped to ClusterName, ServiceName, TaskDefinitionFamily, others kept");
    like(t, "MetricData.member.2.Value=1.0000000000000001e%2B300",
         "an exponent's '+' is escaped");
    like(t, "MetricData.member.2.Timestamp=2023-11-14T22%3A13%3A20.000Z",
         "a sample without time takes now");
    like(t, "MetricData.member.2.Unit=None&MetricData.member.2.Dimensions.member.1.Name="
            "ClusterName&MetricData.member.2.Dimensions.member.1.Value=dflt",
         "ClusterName defaults to the agent's cluster");
    like(t, "MetricData.member.3.MetricName=berth_x_seconds&MetricData.member.3.Value=2&"
            "MetricData.member.3.Timestamp=2023-11-14T22%3A13%3A20.000Z&"
            "MetricData.member.3.Unit=Seconds", "a _seconds series has unit Seconds");
    ok(b.v[0].n_metrics == 3 && strlen(t) == b.v[0].len, "length and count recorded");
    cw_batches_free(&b);

    o.max_metrics = 0;
    ok(cw_batch_build(&o, &rs, &b, err, sizeof(err)) < 0, "0 metrics per batch refused");
    like(err, "1..1000", "the error names the limit");
    o.max_metrics = 1001;
    ok(cw_batch_build(&o, &rs, &b, err, sizeof(err)) < 0, "1001 metrics refused");
    cw_records_free(&rs);

    ok(strcmp(cw_unit("container_network_receive_bytes_total", BERTH_METRIC_COUNTER),
              "Bytes") == 0 &&
       strcmp(cw_unit("ecs_task_cpu_utilization_percent", BERTH_METRIC_GAUGE),
              "Percent") == 0 &&
       strcmp(cw_unit("berth_api_requests_total", BERTH_METRIC_COUNTER), "Count") == 0,
       "units from names: Bytes, Percent, Count");
}

static void
test_split(void)
{
    enum { N = 2500 };
    struct berth_metric *m = calloc(N, sizeof(*m));
    struct cw_batch_opts o = {"Berth", 1000, CW_MAX_BYTES};
    struct cw_records rs;
    struct cw_batches b;
    char err[200];
    size_t total = 0, maxlen = 0;
    int numbered = 1;

    for (size_t i = 0; i < N; i++) {
        m[i].name = "m";
        m[i].type = BERTH_METRIC_GAUGE;
        m[i].value = (double)i;
    }
    m[5].value = NAN;
    m[6].value = INFINITY;
    m[7].value = -INFINITY;
    records_of(m, N, "c", 1700000000000ULL, &rs);
    ok(rs.skipped_invalid == 3, "NaN, +Inf and -Inf skipped and counted (%zu)",
       rs.skipped_invalid);
    ok(cw_batch_build(&o, &rs, &b, err, sizeof(err)) == 0, "2497 values batched");
    ok(b.n == 3 && b.v[0].n_metrics == 1000 && b.v[1].n_metrics == 1000 &&
       b.v[2].n_metrics == 497, "split by count: 1000 + 1000 + 497");
    for (size_t i = 0; i < b.n; i++) {
        char want[64];
        snprintf(want, sizeof(want), "MetricData.member.%zu.MetricName=",
                 b.v[i].n_metrics);
        numbered &= strstr(b.v[i].text, want) != NULL &&
                    count(b.v[i].text, "MetricName=") == b.v[i].n_metrics;
    }
    ok(numbered, "each body numbers its data from 1");
    cw_batches_free(&b);

    o.max_bytes = 8192;
    ok(cw_batch_build(&o, &rs, &b, err, sizeof(err)) == 0 && b.n > 3, "split by size");
    for (size_t i = 0; i < b.n; i++) {
        total += b.v[i].n_metrics;
        if (b.v[i].len > maxlen)
            maxlen = b.v[i].len;
    }
    ok(maxlen <= 8192 && total == N - 3, "no body over 8192 bytes (%zu), none lost (%zu)",
       maxlen, total);
    ok(b.v[0].len > 8192 - 200, "bodies are filled close to the limit (%zu)", b.v[0].len);
    cw_batches_free(&b);
    cw_records_free(&rs);

    /* One datum bigger than a body can ever be. */
    char *big = malloc(9000);
    memset(big, 'x', 8999);
    big[8999] = '\0';
    struct berth_label l = {"path", big};
    struct berth_metric one[2] = {
        {.name = "m", .type = BERTH_METRIC_GAUGE, .value = 1, .labels = &l, .n_labels = 1},
        {.name = "m", .type = BERTH_METRIC_GAUGE, .value = 2},
    };
    records_of(one, 2, "c", 1, &rs);
    ok(cw_batch_build(&o, &rs, &b, err, sizeof(err)) == 0 && b.skipped_too_big == 1 &&
       b.n == 1 && b.v[0].n_metrics == 1, "a datum larger than max-bytes is skipped, "
       "counted, and the rest sent");
    cw_batches_free(&b);
    cw_records_free(&rs);
    free(big);

    /* More than 30 dimensions. */
    struct berth_label many[40];
    char names[40][16]; /* room for any int: -Wformat-truncation under -O1 */
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "l%d", i);
        many[i] = (struct berth_label){names[i], "v"};
    }
    struct berth_metric d = {.name = "m", .type = BERTH_METRIC_GAUGE, .value = 1,
                             .labels = many, .n_labels = 40};
    o.max_bytes = CW_MAX_BYTES;
    records_of(&d, 1, "c", 1, &rs);
    ok(rs.dims_truncated == 1 && cw_batch_build(&o, &rs, &b, err, sizeof(err)) == 0 &&
       count(b.v[0].text, ".Name=") == 30 &&
       strstr(b.v[0].text, "Dimensions.member.30.") &&
       !strstr(b.v[0].text, "Dimensions.member.31."),
       "at most 30 dimensions, truncation counted");
    cw_batches_free(&b);
    cw_records_free(&rs);
    free(m);
}

/* Counters go as what they gained since the previous export. */
static void
test_counter_deltas(void)
{
    struct cw_delta *d = cw_delta_new();
    struct berth_label a = {"result", "ok"}, b = {"result", "failed"};
    struct berth_metric m[] = {
        {.name = "reqs_total", .type = BERTH_METRIC_COUNTER, .value = 100, .labels = &a,
         .n_labels = 1},
        {.name = "reqs_total", .type = BERTH_METRIC_COUNTER, .value = 7, .labels = &b,
         .n_labels = 1},
        {.name = "temp", .type = BERTH_METRIC_GAUGE, .value = 20},
    };
    struct cw_records rs = {0};

    cw_series_samples(d, "c", m, 3, 1000, &rs);
    cw_delta_sweep(d);
    ok(rs.n == 1 && rs.r[0].n == 1 && strcmp(rs.r[0].v[0].name, "temp") == 0,
       "first export: the gauge only; a counter's first value is its baseline");
    cw_records_free(&rs);

    m[0].value = 130;
    m[1].value = 2; /* went back: the process restarted, 2 are new */
    m[2].value = 21;
    cw_series_samples(d, "c", m, 3, 2000, &rs);
    cw_delta_sweep(d);
    ok(rs.n == 3 && rs.r[0].v[0].value == 30 && strcmp(rs.r[0].v[0].unit, "Count") == 0,
       "second export: a counter sends its increase (30), unit Count");
    ok(rs.r[1].v[0].value == 2, "a counter that went back sends its new value (2)");
    ok(rs.r[2].v[0].value == 21, "a gauge sends its value");
    cw_records_free(&rs);
    ok(cw_delta_size(d) == 2, "two counters remembered");

    cw_series_samples(d, "c", m + 2, 1, 3000, &rs);
    cw_delta_sweep(d);
    cw_series_samples(d, "c", m, 1, 4000, &rs);
    cw_delta_sweep(d);
    ok(cw_delta_size(d) == 1, "a series missing from an export is forgotten");
    ok(rs.n == 2 && rs.r[1].n == 1 && rs.r[1].v[0].value == 130,
       "a counter born since the previous export sends all it counted (130)");
    cw_records_free(&rs);
    cw_delta_free(d);
}

static void
test_histograms(void)
{
    struct cw_delta *d = cw_delta_new();
    const double bounds[] = {0.1, 0.5, 1};
    uint64_t cum[] = {2, 5, 6};
    struct berth_label l = {"action", "RunTask"};
    struct berth_histogram h = {.name = "api_seconds", .labels = &l, .n_labels = 1,
                                .n_buckets = 3, .upper_bounds = bounds,
                                .cumulative_counts = cum, .count = 7, .sum = 3.5};
    struct cw_records rs = {0};

    cw_series_histograms(d, "c", &h, 1, 1000, 1, &rs);
    cw_delta_sweep(d);
    ok(rs.n == 0, "first export: a histogram's baseline only");
    cum[0] = 12; /* +10 in (0, 0.1] */
    cum[1] = 15; /* +0 in (0.1, 0.5] */
    cum[2] = 20; /* +4 in (0.5, 1] */
    h.count = 23;/* +2 over 1 */
    h.sum = 9;
    cw_series_histograms(d, "c", &h, 1, 2000, 1, &rs);
    cw_delta_sweep(d);
    const struct cw_value *v = rs.n && rs.r[0].n ? &rs.r[0].v[0] : NULL;
    ok(v && v->n_values == 3, "one datum of three values: the buckets that grew");
    ok(v && v->values[0] == 0.05 && v->counts[0] == 10 && v->values[1] == 0.75 &&
       v->counts[1] == 4 && v->values[2] == 1 && v->counts[2] == 2,
       "each bucket's growth at its midpoint; the +Inf bucket at the last bound");
    ok(v && strcmp(v->unit, "Seconds") == 0, "unit Seconds from the name");

    struct cw_batch_opts o = {"N", 1000, CW_MAX_BYTES};
    struct cw_batches b;
    char err[100];
    ok(cw_batch_build(&o, &rs, &b, err, sizeof(err)) == 0 && b.n == 1, "batched");
    like(b.n ? b.v[0].text : "", "&MetricData.member.1.MetricName=api_seconds"
         "&MetricData.member.1.Values.member.1=0.050000000000000003"
         "&MetricData.member.1.Counts.member.1=10"
         "&MetricData.member.1.Values.member.2=0.75&MetricData.member.1.Counts.member.2=4"
         "&MetricData.member.1.Values.member.3=1&MetricData.member.1.Counts.member.3=2"
         "&MetricData.member.1.Timestamp=", "PutMetricData Values and Counts");
    ok(b.n && !strstr(b.v[0].text, "MetricData.member.1.Value="), "no single Value beside them");
    cw_batches_free(&b);
    cw_records_free(&rs);

    cw_series_histograms(d, "c", &h, 1, 3000, 1, &rs);
    ok(rs.n == 0, "nothing observed since: nothing sent");

    struct berth_label l2 = {"action", "StopTask"};
    struct berth_histogram both[2] = {h, h};
    both[1].labels = &l2;
    cw_series_histograms(d, "c", both, 2, 3500, 1, &rs);
    cw_delta_sweep(d);
    ok(rs.n == 1 && rs.r[0].n == 1 && rs.r[0].v[0].n_values == 4 &&
       strcmp(rs.r[0].dims[1].value, "StopTask") == 0,
       "a histogram born since the previous export sends all it observed");
    cw_records_free(&rs);

    h.count = 25;
    h.sum = 10;
    cum[2] = 22; /* +2 in (0.5, 1] */
    cw_series_histograms(d, "c", &h, 1, 4000, 0, &rs);
    ok(rs.n == 1 && rs.r[0].n == 2 && strcmp(rs.r[0].v[0].name, "api_seconds_count") == 0 &&
       rs.r[0].v[0].value == 2 && strcmp(rs.r[0].v[1].name, "api_seconds_sum") == 0 &&
       rs.r[0].v[1].value == 1, "without distributions (EMF): _count 2 and _sum 1");
    cw_records_free(&rs);

    /* No finite bucket: everything is in +Inf, sent at the mean. */
    struct berth_histogram h0 = {.name = "x_seconds", .n_buckets = 0, .count = 0, .sum = 0};
    cw_series_histograms(d, "c", &h0, 1, 5000, 1, &rs);
    h0.count = 4;
    h0.sum = 2;
    cw_series_histograms(d, "c", &h0, 1, 6000, 1, &rs);
    ok(rs.n == 1 && rs.r[0].v[0].n_values == 1 && rs.r[0].v[0].values[0] == 0.5 &&
       rs.r[0].v[0].counts[0] == 4, "a histogram without buckets: 4 values at the mean 0.5");
    cw_records_free(&rs);

    /* More distinct values than one datum takes. */
    double many[400], ones[400];
    for (int i = 0; i < 400; i++) {
        many[i] = i;
        ones[i] = 1;
    }
    struct cw_records r2 = {0};
    struct cw_dim none[1];
    struct cw_record *rec = cw_records_get(&r2, none, 0, NULL, 1);
    cw_record_add_dist(&r2, rec, "x", "None", many, ones, 400);
    double total = 0;
    for (size_t i = 0; i < rec->v[0].n_values; i++)
        total += rec->v[0].counts[i];
    ok(rec->v[0].n_values <= CW_MAX_VALUES && total == 400,
       "400 values merged into at most 150 (%zu), no count lost", rec->v[0].n_values);
    cw_records_free(&r2);
    cw_delta_free(d);
}

/* Container Insights figures from two exports of a service's containers. */
static void
test_insights(void)
{
    struct cw_delta *d = cw_delta_new();
    struct berth_label c1[] = {{"id", "c1"}, {"name", "web"}, {"cluster", "prod"},
                               {"service", "web"}, {"task", "t1"}, {"family", "webfam"}};
    struct berth_label c2[] = {{"id", "c2"}, {"name", "web"}, {"cluster", "prod"},
                               {"service", "web"}, {"task", "t2"}, {"family", "webfam"}};
    struct berth_label t1[] = {{"cluster", "prod"}, {"service", "web"}, {"task", "t1"},
                               {"family", "webfam"}};
    struct berth_label t2[] = {{"cluster", "prod"}, {"service", "web"}, {"task", "t2"},
                               {"family", "webfam"}};
    struct berth_label sv[] = {{"cluster", "prod"}, {"service", "web"}};
    struct berth_label running = {"state", "RUNNING"};
    const enum berth_metric_type C = BERTH_METRIC_COUNTER, G = BERTH_METRIC_GAUGE;
#define S(n, t, v, l) {.name = n, .type = t, .value = v, .labels = l, \
                       .n_labels = sizeof(l) / sizeof(l[0])}
    struct berth_metric m[] = {
        S("container_last_seen", G, 100, c1),
        S("container_cpu_usage_seconds_total", C, 10, c1),
        S("container_network_receive_bytes_total", C, 1000, c1),
        S("container_network_transmit_bytes_total", C, 500, c1),
        S("container_fs_reads_bytes_total", C, 0, c1),
        S("container_fs_writes_bytes_total", C, 0, c1),
        S("container_memory_working_set_bytes", G, 64 * 1048576.0, c1),
        S("container_last_seen", G, 100, c2),
        S("container_cpu_usage_seconds_total", C, 20, c2),
        S("container_network_receive_bytes_total", C, 0, c2),
        S("container_network_transmit_bytes_total", C, 0, c2),
        S("container_fs_reads_bytes_total", C, 4096, c2),
        S("container_fs_writes_bytes_total", C, 0, c2),
        S("container_memory_working_set_bytes", G, 32 * 1048576.0, c2),
        S("ecs_task_cpu_reserved_units", G, 256, t1),
        S("ecs_task_memory_reserved_bytes", G, 512 * 1048576.0, t1),
        S("ecs_task_cpu_reserved_units", G, 256, t2),
        S("ecs_task_memory_reserved_bytes", G, 512 * 1048576.0, t2),
        S("ecs_service_running_tasks", G, 2, sv),
        S("ecs_service_pending_tasks", G, 0, sv),
        S("ecs_service_desired_tasks", G, 3, sv),
        {.name = "berth_tasks", .type = G, .value = 2, .labels = &running, .n_labels = 1},
    };
#undef S
    const size_t n = sizeof(m) / sizeof(m[0]);
    struct cw_records rs = {0};

    cw_insights(d, "prod", m, n, 1000, &rs);
    cw_delta_sweep(d);
    const struct cw_record *cl = NULL, *svc = NULL, *fam = NULL;
    for (size_t i = 0; i < rs.n; i++) {
        if (strcmp(rs.r[i].type, "Cluster") == 0)
            cl = &rs.r[i];
        else if (strcmp(rs.r[i].type, "Service") == 0)
            svc = &rs.r[i];
        else if (strcmp(rs.r[i].type, "TaskDefinitionFamily") == 0)
            fam = &rs.r[i];
    }
    ok(rs.n == 3 && cl && svc && fam, "three records: cluster, service, family (%zu)",
       rs.n);
    ok(cl && cl->n_dims == 1 && strcmp(cl->dims[0].name, "ClusterName") == 0 &&
       strcmp(cl->dims[0].value, "prod") == 0, "the cluster's: ClusterName=prod");
    ok(svc && svc->n_dims == 2 && strcmp(svc->dims[1].name, "ServiceName") == 0 &&
       strcmp(svc->dims[1].value, "web") == 0, "the service's: ClusterName, ServiceName");
    ok(fam && fam->n_dims == 2 && strcmp(fam->dims[1].name, "TaskDefinitionFamily") == 0,
       "the family's: ClusterName, TaskDefinitionFamily");
#define VAL(r, nm) value_of(r, nm)
    ok(svc && VAL(svc, "CpuUtilized") == NULL,
       "first export: no CpuUtilized (a rate needs two readings)");
    ok(svc && VAL(svc, "MemoryUtilized") && VAL(svc, "MemoryUtilized")->value == 96 &&
       strcmp(VAL(svc, "MemoryUtilized")->unit, "Megabytes") == 0,
       "MemoryUtilized: the working sets summed, in Megabytes (96)");
    ok(svc && VAL(svc, "MemoryReserved") && VAL(svc, "MemoryReserved")->value == 1024 &&
       VAL(svc, "CpuReserved") && VAL(svc, "CpuReserved")->value == 512,
       "MemoryReserved 1024 and CpuReserved 512: the tasks' reservations summed");
    ok(svc && VAL(svc, "RunningTaskCount") && VAL(svc, "RunningTaskCount")->value == 2 &&
       VAL(svc, "DesiredTaskCount")->value == 3 && VAL(svc, "PendingTaskCount")->value == 0,
       "RunningTaskCount, PendingTaskCount, DesiredTaskCount from the service's series");
    ok(cl && VAL(cl, "TaskCount") && VAL(cl, "TaskCount")->value == 2 &&
       VAL(cl, "ServiceCount") && VAL(cl, "ServiceCount")->value == 1,
       "the cluster's TaskCount 2 and ServiceCount 1");
    cw_records_free(&rs);

    /* 10 s later: c1 used 5 s of cpu, received 10000 bytes; c2 used 2.5 s
     * and read 8192 bytes. */
    m[0].value = 110, m[1].value = 15, m[2].value = 11000;
    m[7].value = 110, m[8].value = 22.5, m[11].value = 4096 + 8192;
    cw_insights(d, "prod", m, n, 2000, &rs);
    cw_delta_sweep(d);
    svc = NULL;
    for (size_t i = 0; i < rs.n; i++)
        if (strcmp(rs.r[i].type, "Service") == 0)
            svc = &rs.r[i];
    ok(svc && VAL(svc, "CpuUtilized") && VAL(svc, "CpuUtilized")->value == 768,
       "CpuUtilized: (0.5 + 0.25) cores x 1024 = 768 units");
    ok(svc && VAL(svc, "NetworkRxBytes") && VAL(svc, "NetworkRxBytes")->value == 1000 &&
       strcmp(VAL(svc, "NetworkRxBytes")->unit, "Bytes/Second") == 0,
       "NetworkRxBytes: 10000 bytes over 10 s = 1000 Bytes/Second");
    ok(svc && VAL(svc, "StorageReadBytes") && VAL(svc, "StorageReadBytes")->value == 8192,
       "StorageReadBytes: what was read since the previous reading (8192)");
    cw_records_free(&rs);

    /* An export before the next stats reading: the same rates again, and
     * nothing read since. */
    cw_insights(d, "prod", m, n, 2500, &rs);
    cw_delta_sweep(d);
    svc = NULL;
    for (size_t i = 0; i < rs.n; i++)
        if (strcmp(rs.r[i].type, "Service") == 0)
            svc = &rs.r[i];
    ok(svc && VAL(svc, "CpuUtilized") && VAL(svc, "CpuUtilized")->value == 768 &&
       VAL(svc, "StorageReadBytes") && VAL(svc, "StorageReadBytes")->value == 0,
       "no new reading since: the last rates again (768), 0 bytes read");
    cw_records_free(&rs);

    /* c2's counters went back (restarted in place): no rate for the service
     * this time, rather than a partial sum. */
    m[0].value = 120, m[1].value = 16;
    m[7].value = 120, m[8].value = 1;
    cw_insights(d, "prod", m, n, 3000, &rs);
    cw_delta_sweep(d);
    svc = NULL;
    for (size_t i = 0; i < rs.n; i++)
        if (strcmp(rs.r[i].type, "Service") == 0)
            svc = &rs.r[i];
    ok(svc && !VAL(svc, "CpuUtilized") && VAL(svc, "MemoryUtilized"),
       "a task without a rate: the group publishes no CpuUtilized, still its memory");
#undef VAL
    cw_records_free(&rs);
    cw_delta_free(d);
}
static char *
sdup(const char *s)
{
    return strdup(s);
}

static void
test_queue(void)
{
    struct cw_queue q;
    struct cw_item old;

    ok(cw_queue_init(&q, 3) == 0, "queue of 3");
    ok(cw_queue_push(&q, sdup("a"), 1, 1, 0, &old) == 0 &&
       cw_queue_push(&q, sdup("b"), 1, 2, 0, &old) == 0 &&
       cw_queue_push(&q, sdup("c"), 1, 3, 0, &old) == 0, "three fit");
    ok(cw_queue_push(&q, sdup("d"), 1, 4, 0, &old) == 1 && strcmp(old.body, "a") == 0 &&
       old.n_metrics == 1, "a fourth drops the oldest");
    free(old.body);
    is_str(cw_queue_head(&q)->body, "b", "b is now the head");
    cw_queue_head(&q)->attempts = 2;
    ok(cw_queue_push(&q, sdup("e"), 1, 5, 1, &old) == 1 && strcmp(old.body, "c") == 0,
       "with the head in flight, the oldest after it is dropped");
    free(old.body);
    ok(strcmp(cw_queue_head(&q)->body, "b") == 0 && cw_queue_head(&q)->attempts == 2,
       "the head in flight stays the head, its attempts kept");
    cw_queue_pop(&q);
    is_str(cw_queue_head(&q)->body, "d", "then d");
    cw_queue_pop(&q);
    is_str(cw_queue_head(&q)->body, "e", "then e");
    cw_queue_pop(&q);
    ok(cw_queue_head(&q) == NULL && q.n == 0, "empty");
    cw_queue_push(&q, sdup("x"), 1, 1, 0, &old);
    cw_queue_free(&q);

    ok(cw_queue_init(&q, 1) == 0, "queue of 1");
    cw_queue_push(&q, sdup("busy"), 4, 1, 0, &old);
    ok(cw_queue_push(&q, sdup("new"), 3, 1, 1, &old) == 1 && strcmp(old.body, "new") == 0,
       "queue of 1 with its head in flight drops the new batch");
    free(old.body);
    cw_queue_free(&q);
}

static void
test_verdicts(void)
{
    const char *thr = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                      "<Message>Rate exceeded</Message></Error></ErrorResponse>";
    const char *bad = "<ErrorResponse><Error><Code>InvalidParameterValue</Code>"
                      "</Error></ErrorResponse>";

    ok(cw_verdict(200, "", 1, 3) == CW_SENT, "200: sent");
    ok(cw_verdict(500, "", 1, 3) == CW_RETRY, "500: retry");
    ok(cw_verdict(503, "", 3, 3) == CW_RETRY, "503 on the 3rd send of 3 retries: retry");
    ok(cw_verdict(503, "", 4, 3) == CW_GIVE_UP, "503 after 3 retries: give up");
    ok(cw_verdict(0, NULL, 1, 3) == CW_RETRY, "no answer: retry");
    ok(cw_verdict(429, "", 1, 3) == CW_RETRY, "429: retry");
    ok(cw_verdict(400, thr, 1, 3) == CW_RETRY, "400 Throttling: retry");
    ok(cw_verdict(400, bad, 1, 3) == CW_REJECTED, "400 InvalidParameterValue: rejected");
    ok(cw_verdict(403, "", 1, 3) == CW_REJECTED, "403: rejected");
    ok(cw_verdict(500, "", 1, 0) == CW_GIVE_UP, "max-retries 0: no retry");

    ok(cw_backoff_ms(1, 500, 30000, 0) == 250 && cw_backoff_ms(1, 500, 30000, 0.999) >= 499,
       "first retry: between half and all of the base");
    ok(cw_backoff_ms(3, 500, 30000, 0) == 1000 && cw_backoff_ms(3, 500, 30000, 0.5) == 1500,
       "third retry: 2000 ms, half of it jitter");
    ok(cw_backoff_ms(20, 500, 30000, 0.999) <= 30000 &&
       cw_backoff_ms(20, 500, 30000, 0) == 15000, "capped at retry-max");
    ok(cw_backoff_ms(200, 500, 30000, 0.3) <= 30000, "no overflow for large attempts");
}

static void
test_creds(void)
{
    char path[] = "/tmp/test_cw_credsXXXXXX", err[300];
    int fd = mkstemp(path);
    struct cw_creds c;
    FILE *f = fdopen(fd, "w");

    fputs("# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
          "aws_secret_access_key = s1\n\n[cw]\nregion = eu-west-1\n"
          "aws_access_key_id=AKIDCW\naws_secret_access_key = s2/+x\n"
          "aws_session_token = tok\n[empty]\naws_access_key_id = A\n", f);
    fclose(f);
    ok(cw_creds_load(path, "cw", &c, err, sizeof(err)) == 0 &&
       strcmp(c.key_id, "AKIDCW") == 0 && strcmp(c.secret, "s2/+x") == 0 &&
       c.token && strcmp(c.token, "tok") == 0, "profile cw read with its token");
    cw_creds_free(&c);
    ok(cw_creds_load(path, "default", &c, err, sizeof(err)) == 0 && !c.token &&
       strcmp(c.key_id, "AKIDDEFAULT") == 0, "default profile");
    cw_creds_free(&c);
    ok(cw_creds_load(path, "nope", &c, err, sizeof(err)) < 0, "missing profile refused");
    like(err, "no profile [nope]", "error names the profile");
    ok(cw_creds_load(path, "empty", &c, err, sizeof(err)) < 0, "profile without secret");
    like(err, "[empty] needs aws_access_key_id and aws_secret_access_key",
         "error says what is missing");
    ok(cw_creds_load("/nonexistent/creds", "x", &c, err, sizeof(err)) < 0, "no file");
    like(err, "/nonexistent/creds", "error names the file");
    unlink(path);
}

static void
test_emf(void)
{
    struct berth_label l[] = {{"cluster", "prod"}, {"service", "w\"eb"},
                              {"container", "c1"}};
    struct berth_metric m = {.name = "MemoryUtilized", .type = BERTH_METRIC_GAUGE,
                             .value = 42, .labels = l, .n_labels = 3};
    struct cw_records rs;
    size_t len, events, skipped;

    records_of(&m, 1, "dflt", 1700000000000ULL, &rs);
    char *s = cw_emf_record("ECS/ContainerInsights", &rs.r[0], &len, &events, &skipped);
    is_str(s, "{\"_aws\":{\"Timestamp\":1700000000000,\"CloudWatchMetrics\":[{"
              "\"Namespace\":\"ECS/ContainerInsights\",\"Dimensions\":[[\"ClusterName\","
              "\"ServiceName\",\"container\"]],\"Metrics\":[{\"Name\":\"MemoryUtilized\","
              "\"Unit\":\"None\"}]}]},\"ClusterName\":\"prod\",\"ServiceName\":\"w\\\"eb\","
              "\"container\":\"c1\",\"MemoryUtilized\":42}\n",
           "EMF event: _aws with Timestamp and the directive, dimension members, value");
    ok(events == 1 && skipped == 0 && len == strlen(s), "one event, length given");
    free(s);
    cw_records_free(&rs);

    /* 250 values sharing dimensions: three events of at most 100. */
    enum { N = 250 };
    struct berth_metric many[N];
    char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "m%d", i);
        many[i] = (struct berth_metric){.name = names[i], .type = BERTH_METRIC_GAUGE,
                                        .value = i, .labels = l, .n_labels = 3};
    }
    strcpy(names[7], "container"); /* a value named like a dimension */
    records_of(many, N, "dflt", 1700000000000ULL, &rs);
    ok(rs.n == 1 && rs.r[0].n == N, "one record of 250 values");
    s = cw_emf_record("N", &rs.r[0], &len, &events, &skipped);
    ok(events == 3 && count(s, "\n") == 3, "three events (%zu)", events);
    ok(skipped == 1 && !strstr(s, "{\"Name\":\"container\""),
       "the value named like a dimension is left out, counted");
    ok(count(s, "{\"Name\":\"m") == N - 1 && strstr(s, "\"m249\":249}\n"),
       "every other value is in one of them");
    const char *second = strchr(s, '\n') + 1;
    ok(count(second, "{\"Name\":") >= 100 && strncmp(second, "{\"_aws\"", 7) == 0,
       "each event its own object with its own directive");
    free(s);
    cw_records_free(&rs);
}

int
main(void)
{
    test_body();
    test_split();
    test_counter_deltas();
    test_histograms();
    test_insights();
    test_queue();
    test_verdicts();
    test_creds();
    test_emf();
    return done_testing();
}
