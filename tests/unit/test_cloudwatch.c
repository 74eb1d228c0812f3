/* test_cloudwatch: the CloudWatch sink's pure parts: batching by count and
 * size with NaN/Inf skipped, the PutMetricData form body and its
 * dimensions, the bounded queue, the retry decisions and backoff, the
 * credentials profile reader, and EMF lines. */
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
        {.name = "agent_up", .type = BERTH_METRIC_COUNTER, .value = 1e300},
    };
    struct cw_batch_opts o = {"ECS/ContainerInsights", "dflt", 1000, CW_MAX_BYTES,
                              1700000000000ULL};
    struct cw_batches b;
    char err[200];

    ok(cw_batch_build(&o, m, 2, &b, err, sizeof(err)) == 0 && b.n == 1,
       "two samples, one body");
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
    like(t, "MetricData.member.2.Unit=Count&MetricData.member.2.Dimensions.member.1.Name="
            "ClusterName&MetricData.member.2.Dimensions.member.1.Value=dflt",
         "a counter's unit is Count; ClusterName defaults to the agent's cluster");
    ok(b.v[0].n_metrics == 2 && strlen(t) == b.v[0].len, "length and count recorded");
    cw_batches_free(&b);

    o.max_metrics = 0;
    ok(cw_batch_build(&o, m, 2, &b, err, sizeof(err)) < 0, "0 metrics per batch refused");
    like(err, "1..1000", "the error names the limit");
    o.max_metrics = 1001;
    ok(cw_batch_build(&o, m, 2, &b, err, sizeof(err)) < 0, "1001 metrics refused");
}

static void
test_split(void)
{
    enum { N = 2500 };
    struct berth_metric *m = calloc(N, sizeof(*m));
    struct cw_batch_opts o = {"Berth", "c", 1000, CW_MAX_BYTES, 1700000000000ULL};
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
    ok(cw_batch_build(&o, m, N, &b, err, sizeof(err)) == 0, "2500 samples batched");
    ok(b.skipped_invalid == 3, "NaN, +Inf and -Inf skipped and counted (%zu)",
       b.skipped_invalid);
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
    ok(cw_batch_build(&o, m, N, &b, err, sizeof(err)) == 0 && b.n > 3, "split by size");
    for (size_t i = 0; i < b.n; i++) {
        total += b.v[i].n_metrics;
        if (b.v[i].len > maxlen)
            maxlen = b.v[i].len;
    }
    ok(maxlen <= 8192 && total == N - 3, "no body over 8192 bytes (%zu), none lost (%zu)",
       maxlen, total);
    ok(b.v[0].len > 8192 - 200, "bodies are filled close to the limit (%zu)", b.v[0].len);
    cw_batches_free(&b);

    /* One datum bigger than a body can ever be. */
    char *big = malloc(9000);
    memset(big, 'x', 8999);
    big[8999] = '\0';
    struct berth_label l = {"path", big};
    struct berth_metric one[2] = {
        {.name = "m", .type = BERTH_METRIC_GAUGE, .value = 1, .labels = &l, .n_labels = 1},
        {.name = "m", .type = BERTH_METRIC_GAUGE, .value = 2},
    };
    ok(cw_batch_build(&o, one, 2, &b, err, sizeof(err)) == 0 && b.skipped_too_big == 1 &&
       b.n == 1 && b.v[0].n_metrics == 1, "a datum larger than max-bytes is skipped, "
       "counted, and the rest sent");
    cw_batches_free(&b);
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
    ok(cw_batch_build(&o, &d, 1, &b, err, sizeof(err)) == 0 && b.dims_truncated == 1 &&
       count(b.v[0].text, ".Name=") == 30 &&
       strstr(b.v[0].text, "Dimensions.member.30.") &&
       !strstr(b.v[0].text, "Dimensions.member.31."),
       "at most 30 dimensions, truncation counted");
    cw_batches_free(&b);
    free(m);
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
    char *s = cw_emf_line("ECS/ContainerInsights", "dflt", &m, 1700000000000ULL);

    is_str(s, "{\"_aws\":{\"Timestamp\":1700000000000,\"CloudWatchMetrics\":[{"
              "\"Namespace\":\"ECS/ContainerInsights\",\"Dimensions\":[[\"ClusterName\","
              "\"ServiceName\",\"container\"]],\"Metrics\":[{\"Name\":\"MemoryUtilized\","
              "\"Unit\":\"None\"}]}]},\"ClusterName\":\"prod\",\"ServiceName\":\"w\\\"eb\","
              "\"container\":\"c1\",\"MemoryUtilized\":42}\n",
           "EMF line: _aws with Timestamp and the directive, dimension members, value");
    free(s);
    m.value = NAN;
    ok(cw_emf_line("N", "c", &m, 1) == NULL, "NaN cannot be written as EMF");
}

int
main(void)
{
    test_body();
    test_split();
    test_queue();
    test_verdicts();
    test_creds();
    test_emf();
    return done_testing();
}
