/* cloudwatch.c: the CloudWatch metrics sink (plugin "cloudwatch").
 *
 * At each export the host hands the sink every series (write()), then every
 * histogram (write_histograms(), the end of the export).  They become
 * records (cw_insights.c: Container Insights' names; cw_series.c: every
 * series as increments), and at the end of the export PutMetricData bodies
 * (cw_batch.c), queued (cw_queue.c), or EMF events.  One request is in
 * flight at a time, through the host's
 * asynchronous HTTP client, signed with SigV4 (common/sigv4_sign.c) at the
 * moment it is sent.  Throttling, 5xx and transport errors are retried
 * after an exponential backoff with jitter, on a host timer; a full queue
 * drops its oldest batch.  Every drop is logged and counted
 * (berth_cloudwatch_* metrics), so a slow or dead endpoint costs the agent
 * only memory bounded by queue-limit, and never time on the loop.
 *
 * mode = emf writes Embedded Metric Format lines instead (cw_emf.c). */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <berth/plugin.h>

#include "common/sigv4_sign.h"
#include "cw.h"
#include "cw_emf_out.h"

struct cw_config {
    const char *mode;
    const char *metrics;
    const char *endpoint;
    const char *region;
    const char *namespace_;
    const char *credentials_file;
    const char *profile;
    const char *emf_target;
    int64_t max_batch_metrics;
    uint64_t max_batch_bytes;
    int64_t max_retries;
    uint64_t retry_base_ms;
    uint64_t retry_max_ms;
    int64_t queue_limit;
    uint64_t request_timeout_ms;
};

#define OPT(n, t, d, f, h, fl) {n, t, d, offsetof(struct cw_config, f), h, fl}
static const struct berth_option cw_options[] = {
    OPT("mode", BERTH_OPT_STRING, "put-metric-data", mode,
        "put-metric-data (signed API requests) or emf (Embedded Metric Format lines)", 0),
    OPT("metrics", BERTH_OPT_STRING, "container-insights", metrics,
        "what is published: container-insights (ECS Container Insights' names, per "
        "cluster, service and task family), series (every series under its own name, "
        "counters and histograms as increments) or both", 0),
    OPT("endpoint", BERTH_OPT_STRING, NULL, endpoint,
        "PutMetricData endpoint URL (default https://monitoring.REGION.amazonaws.com/)", 0),
    OPT("region", BERTH_OPT_STRING, NULL, region,
        "region of the signature's scope (default: the agent's [agent] region)", 0),
    OPT("namespace", BERTH_OPT_STRING, "ECS/ContainerInsights", namespace_,
        "CloudWatch namespace of every metric", 0),
    OPT("credentials-file", BERTH_OPT_STRING, NULL, credentials_file,
        "AWS CLI credentials file (put-metric-data mode)", 0),
    OPT("profile", BERTH_OPT_STRING, "default", profile,
        "profile of credentials-file to sign with", 0),
    OPT("emf-target", BERTH_OPT_STRING, NULL, emf_target,
        "where EMF lines go: file:PATH, unix:PATH, tcp:HOST:PORT or udp:HOST:PORT", 0),
    OPT("max-batch-metrics", BERTH_OPT_INT, "1000", max_batch_metrics,
        "data per PutMetricData request (1..1000)", 0),
    OPT("max-batch-bytes", BERTH_OPT_SIZE, "1MiB", max_batch_bytes,
        "bytes per PutMetricData request body (at most 1MiB)", 0),
    OPT("max-retries", BERTH_OPT_INT, "4", max_retries,
        "retries of a throttled or failed request before its batch is dropped", 0),
    OPT("retry-base", BERTH_OPT_DURATION, "500ms", retry_base_ms,
        "first retry delay; doubles at each retry, half of it random", 0),
    OPT("retry-max", BERTH_OPT_DURATION, "30s", retry_max_ms,
        "longest retry delay", 0),
    OPT("queue-limit", BERTH_OPT_INT, "16", queue_limit,
        "batches waiting to be sent; beyond it the oldest is dropped", 0),
    OPT("request-timeout", BERTH_OPT_DURATION, "10s", request_timeout_ms,
        "how long one request may take", 0),
    {NULL, 0, NULL, 0, NULL, 0},
};

enum drop_reason { DROP_OVERFLOW, DROP_RETRIES, DROP_REJECTED, DROP_SHUTDOWN, DROP_N };
static const char *const drop_names[DROP_N] = {"overflow", "retries", "rejected",
                                               "shutdown"};

struct cw {
    berth_ctx *ctx;
    const struct berth_host *host;
    const struct cw_config *cfg;
    int emf;
    int insights, series;          /* what is published */
    struct cw_delta *d_insights, *d_series, *d_histo;
    struct cw_records pending;     /* this export's, until its end */
    struct cw_emf_out *out; /* emf mode */
    char *url, *host_hdr, *path, *region, *cluster, *instance;
    struct cw_creds creds;
    struct cw_queue q;
    berth_http *inflight;
    berth_timer *backoff;
    int stopping;
    /* counters, exported as berth_cloudwatch_* */
    uint64_t sent_batches, sent_metrics, retries, skipped_invalid, skipped_other;
    uint64_t dropped_batches[DROP_N], dropped_metrics[DROP_N];
    uint64_t emf_lines, emf_skipped;
};

static void cw_pump(struct cw *cw);

static void
seterr(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
}

/* Splits http[s]://AUTHORITY/PATH into the Host header and path. */
static int
split_url(struct cw *cw, const char *url, char *err, size_t errlen)
{
    const char *p = strstr(url, "://"), *slash;

    if (!p || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        snprintf(err, errlen, "endpoint: expected an http:// or https:// URL, got \"%s\"",
                 url);
        return -1;
    }
    p += 3;
    slash = strchr(p, '/');
    if (slash == p || !*p) {
        snprintf(err, errlen, "endpoint: no host in \"%s\"", url);
        return -1;
    }
    if (strchr(p, '?')) {
        snprintf(err, errlen, "endpoint: a query string is not allowed in \"%s\"", url);
        return -1;
    }
    cw->host_hdr = slash ? strndup(p, (size_t)(slash - p)) : cw_strdup(p);
    cw->path = cw_strdup(slash ? slash : "/");
    if (!cw->host_hdr)
        abort();
    if (slash) {
        cw->url = cw_strdup(url);
    } else {
        size_t n = strlen(url) + 2;
        if (!(cw->url = malloc(n)))
            abort();
        snprintf(cw->url, n, "%s/", url);
    }
    return 0;
}

static int
check_config(const struct cw_config *c, char *err, size_t errlen)
{
    if (strcmp(c->mode, "put-metric-data") != 0 && strcmp(c->mode, "emf") != 0) {
        snprintf(err, errlen, "mode: expected put-metric-data or emf, got \"%s\"",
                 c->mode);
        return -1;
    }
    if (strcmp(c->metrics, "container-insights") != 0 && strcmp(c->metrics, "series") != 0 &&
        strcmp(c->metrics, "both") != 0) {
        snprintf(err, errlen, "metrics: expected container-insights, series or both, "
                 "got \"%s\"", c->metrics);
        return -1;
    }
    if (!*c->namespace_ || strlen(c->namespace_) > 255 || c->namespace_[0] == ':') {
        seterr(err, errlen, "namespace: 1 to 255 characters, not starting with ':'");
        return -1;
    }
    if (strcmp(c->mode, "emf") == 0) {
        if (!c->emf_target) {
            seterr(err, errlen, "emf-target: required when mode = emf");
            return -1;
        }
        if (c->credentials_file || c->endpoint) {
            seterr(err, errlen, "endpoint and credentials-file are for mode = "
                   "put-metric-data, not emf");
            return -1;
        }
        return 0;
    }
    if (c->emf_target) {
        seterr(err, errlen, "emf-target: only with mode = emf");
        return -1;
    }
    if (!c->credentials_file) {
        seterr(err, errlen, "credentials-file: required when mode = put-metric-data");
        return -1;
    }
    if (c->max_batch_metrics < 1 || c->max_batch_metrics > CW_MAX_METRICS) {
        snprintf(err, errlen, "max-batch-metrics: expected 1..%d, got %lld",
                 CW_MAX_METRICS, (long long)c->max_batch_metrics);
        return -1;
    }
    if (c->max_batch_bytes < 4096 || c->max_batch_bytes > CW_MAX_BYTES) {
        snprintf(err, errlen, "max-batch-bytes: expected 4KiB..1MiB, got %llu",
                 (unsigned long long)c->max_batch_bytes);
        return -1;
    }
    if (c->max_retries < 0 || c->max_retries > 100) {
        snprintf(err, errlen, "max-retries: expected 0..100, got %lld",
                 (long long)c->max_retries);
        return -1;
    }
    if (c->queue_limit < 1 || c->queue_limit > 100000) {
        snprintf(err, errlen, "queue-limit: expected 1..100000, got %lld",
                 (long long)c->queue_limit);
        return -1;
    }
    if (c->retry_base_ms < 1 || c->retry_max_ms < c->retry_base_ms) {
        seterr(err, errlen, "retry-base must be at least 1ms and retry-max at least "
               "retry-base");
        return -1;
    }
    return 0;
}

static void cw_destroy(void *state);

static int
cw_init(berth_ctx *ctx, const struct berth_host *host, const void *config, void **state,
        char *err, size_t errlen)
{
    const struct cw_config *c = config;
    const char *v;
    struct cw *cw;

    if (check_config(c, err, errlen) < 0)
        return -1;
    if (!(cw = calloc(1, sizeof(*cw))))
        abort();
    cw->ctx = ctx;
    cw->host = host;
    cw->cfg = c;
    cw->emf = strcmp(c->mode, "emf") == 0;
    cw->insights = strcmp(c->metrics, "series") != 0;
    cw->series = strcmp(c->metrics, "container-insights") != 0;
    cw->d_insights = cw_delta_new();
    cw->d_series = cw_delta_new();
    cw->d_histo = cw_delta_new();
    v = host->agent_value(ctx, "cluster");
    cw->cluster = cw_strdup(v ? v : "default");
    v = host->agent_value(ctx, "instance");
    cw->instance = cw_strdup(v ? v : "cloudwatch");
    if (cw->emf) {
        if (!(cw->out = cw_emf_out_new(host, ctx, c->emf_target, err, errlen)))
            goto fail;
        *state = cw;
        return 0;
    }
    v = c->region ? c->region : host->agent_value(ctx, "region");
    if (!v || !*v) {
        seterr(err, errlen, "region: not set here nor in [agent]");
        goto fail;
    }
    cw->region = cw_strdup(v);
    if (c->endpoint) {
        if (split_url(cw, c->endpoint, err, errlen) < 0)
            goto fail;
    } else {
        char u[512];
        snprintf(u, sizeof(u), "https://monitoring.%s.amazonaws.com/", cw->region);
        if (split_url(cw, u, err, errlen) < 0)
            goto fail;
    }
    if (cw_creds_load(c->credentials_file, c->profile, &cw->creds, err, errlen) < 0)
        goto fail;
    if (cw_queue_init(&cw->q, (size_t)c->queue_limit) < 0) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    *state = cw;
    return 0;
fail:
    cw_destroy(cw);
    return -1;
}

static int
cw_start(void *state, char *err, size_t errlen)
{
    struct cw *cw = state;

    if (cw->emf)
        return cw_emf_out_start(cw->out, err, errlen);
    cw->host->log(cw->ctx, BERTH_LOG_INFO,
                  "cloudwatch.start endpoint=%s region=%s namespace=\"%s\"", cw->url,
                  cw->region, cw->cfg->namespace_);
    return 0;
}

static void
emit(struct cw *cw, const char *name, const char *help, enum berth_metric_type t,
     double v, const char *lname, const char *lvalue)
{
    /* plugin: the instance, so that two sinks' counters stay apart. */
    struct berth_label l[2] = {{"plugin", cw->instance}, {lname, lvalue}};
    struct berth_metric m = {.name = name, .help = help, .type = t, .value = v,
                             .labels = l, .n_labels = lname ? 2 : 1};
    cw->host->metric(cw->ctx, &m);
}

static void
emit_counters(struct cw *cw)
{
    emit(cw, "berth_cloudwatch_sent_batches_total", "Batches the endpoint accepted.",
         BERTH_METRIC_COUNTER, (double)cw->sent_batches, NULL, NULL);
    emit(cw, "berth_cloudwatch_sent_metrics_total", "Data the endpoint accepted.",
         BERTH_METRIC_COUNTER, (double)cw->sent_metrics, NULL, NULL);
    emit(cw, "berth_cloudwatch_retries_total", "Requests sent again after throttling "
         "or a failure.", BERTH_METRIC_COUNTER, (double)cw->retries, NULL, NULL);
    static const char skipped[] = "Values that cannot be sent: NaN or infinite "
        "(invalid), one datum over max-batch-bytes (too_big), an EMF member name taken "
        "by a dimension (name_taken).";
    emit(cw, "berth_cloudwatch_skipped_metrics_total", skipped, BERTH_METRIC_COUNTER,
         (double)cw->skipped_invalid, "reason", "invalid");
    emit(cw, "berth_cloudwatch_skipped_metrics_total", skipped, BERTH_METRIC_COUNTER,
         (double)cw->skipped_other, "reason", "too_big");
    if (cw->emf)
        emit(cw, "berth_cloudwatch_skipped_metrics_total", skipped, BERTH_METRIC_COUNTER,
             (double)cw->emf_skipped, "reason", "name_taken");
    for (int r = 0; r < DROP_N; r++) {
        emit(cw, "berth_cloudwatch_dropped_batches_total", "Batches given up, by reason.",
             BERTH_METRIC_COUNTER, (double)cw->dropped_batches[r], "reason",
             drop_names[r]);
        emit(cw, "berth_cloudwatch_dropped_metrics_total", "Data in the batches given "
             "up, by reason.", BERTH_METRIC_COUNTER, (double)cw->dropped_metrics[r],
             "reason", drop_names[r]);
    }
    emit(cw, "berth_cloudwatch_queue_batches", "Batches waiting to be sent.",
         BERTH_METRIC_GAUGE, (double)cw->q.n, NULL, NULL);
    if (cw->emf)
        emit(cw, "berth_cloudwatch_emf_lines_total", "EMF events written.",
             BERTH_METRIC_COUNTER, (double)cw->emf_lines, NULL, NULL);
}

static void
drop(struct cw *cw, enum drop_reason r, size_t n_metrics, unsigned attempts,
     const char *why)
{
    cw->dropped_batches[r]++;
    cw->dropped_metrics[r] += n_metrics;
    cw->host->log(cw->ctx, BERTH_LOG_WARN,
                  "cloudwatch.batch.dropped reason=%s metrics=%zu attempts=%u "
                  "detail=\"%s\" dropped_batches_total=%llu", drop_names[r], n_metrics,
                  attempts, why, (unsigned long long)cw->dropped_batches[r]);
}

static void
backoff_fired(void *arg)
{
    struct cw *cw = arg;
    cw->backoff = NULL;
    cw_pump(cw);
}

static void
sent(void *arg, const struct berth_http_response *res)
{
    struct cw *cw = arg;
    struct cw_item *it = cw_queue_head(&cw->q);
    long status = res->error ? 0 : res->status;
    enum cw_verdict v;
    char why[200];

    cw->inflight = NULL;
    if (!it)
        return;
    v = cw_verdict(status, res->body, it->attempts, (unsigned)cw->cfg->max_retries);
    if (res->error)
        snprintf(why, sizeof(why), "%s", res->error_msg ? res->error_msg : "error");
    else
        snprintf(why, sizeof(why), "HTTP %ld %.120s", status, res->body ? res->body : "");
    for (char *p = why; *p; p++)
        if (*p == '"' || *p == '\n' || *p == '\r')
            *p = ' ';
    switch (v) {
    case CW_SENT:
        cw->sent_batches++;
        cw->sent_metrics += it->n_metrics;
        cw->host->log(cw->ctx, BERTH_LOG_DEBUG, "cloudwatch.batch.sent metrics=%zu "
                      "attempts=%u", it->n_metrics, it->attempts);
        cw_queue_pop(&cw->q);
        break;
    case CW_RETRY: {
        uint64_t d = cw_backoff_ms(it->attempts, cw->cfg->retry_base_ms,
                                   cw->cfg->retry_max_ms, drand48());
        cw->retries++;
        cw->host->log(cw->ctx, BERTH_LOG_INFO, "cloudwatch.batch.retry attempts=%u "
                      "delay_ms=%llu detail=\"%s\"", it->attempts, (unsigned long long)d,
                      why);
        if (!cw->stopping)
            cw->backoff = cw->host->timer_start(cw->ctx, d, 0, backoff_fired, cw);
        emit_counters(cw);
        return;
    }
    case CW_GIVE_UP:
        drop(cw, DROP_RETRIES, it->n_metrics, it->attempts, why);
        cw_queue_pop(&cw->q);
        break;
    case CW_REJECTED:
        drop(cw, DROP_REJECTED, it->n_metrics, it->attempts, why);
        cw_queue_pop(&cw->q);
        break;
    }
    emit_counters(cw);
    cw_pump(cw);
}

/* Sends the head of the queue unless a request or a backoff is pending. */
static void
cw_pump(struct cw *cw)
{
    struct cw_item *it;
    char amz_date[17], *auth, *hauth, *hdate, *hhost, *htok = NULL;
    const char *ctype = "Content-Type: application/x-www-form-urlencoded; charset=utf-8";

    if (cw->inflight || cw->backoff || cw->stopping || !(it = cw_queue_head(&cw->q)))
        return;
    sigv4_amz_date(time(NULL), amz_date);
    struct sigv4_header hv[4] = {
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"Host", cw->host_hdr},
        {"X-Amz-Date", amz_date},
        {"X-Amz-Security-Token", cw->creds.token},
    };
    auth = sigv4_authorization("POST", cw->path, NULL, hv, cw->creds.token ? 4 : 3,
                               it->body, it->len, cw->creds.key_id, cw->creds.secret,
                               cw->region, "monitoring", amz_date);
    if (asprintf(&hauth, "Authorization: %s", auth) < 0 ||
        asprintf(&hdate, "X-Amz-Date: %s", amz_date) < 0 ||
        asprintf(&hhost, "Host: %s", cw->host_hdr) < 0 ||
        (cw->creds.token &&
         asprintf(&htok, "X-Amz-Security-Token: %s", cw->creds.token) < 0))
        abort();
    const char *headers[] = {ctype, hhost, hdate, hauth, "Expect:", htok, NULL};
    struct berth_http_request req = {
        .struct_size = sizeof(req), .method = "POST", .url = cw->url,
        .headers = headers, .body = it->body, .body_len = it->len,
        .timeout_ms = cw->cfg->request_timeout_ms,
    };
    it->attempts++;
    cw->inflight = cw->host->http_request(cw->ctx, &req, NULL, sent, cw);
    free(auth);
    free(hauth);
    free(hdate);
    free(hhost);
    free(htok);
    if (!cw->inflight) {
        drop(cw, DROP_REJECTED, it->n_metrics, it->attempts, "the host refused the request");
        cw_queue_pop(&cw->q);
    }
}

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The end of an export: this export's records go out, as EMF events or
 * PutMetricData bodies on the queue. */
static void
publish(struct cw *cw)
{
    struct cw_records *rs = &cw->pending;
    struct cw_batches b;
    char err[256];

    cw->skipped_invalid += rs->skipped_invalid;
    if (cw->emf) {
        for (size_t i = 0; i < rs->n; i++) {
            size_t len, events, skipped;
            char *text = cw_emf_record(cw->cfg->namespace_, &rs->r[i], &len, &events,
                                       &skipped);
            cw->emf_skipped += skipped;
            if (text && cw_emf_out_write(cw->out, text, len) == 0)
                cw->emf_lines += events;
            free(text);
        }
        goto done;
    }
    struct cw_batch_opts o = {
        .namespace_ = cw->cfg->namespace_,
        .max_metrics = (size_t)cw->cfg->max_batch_metrics,
        .max_bytes = (size_t)cw->cfg->max_batch_bytes,
    };
    if (cw_batch_build(&o, rs, &b, err, sizeof(err)) < 0) {
        cw->host->log(cw->ctx, BERTH_LOG_ERROR, "cloudwatch.batch.failed error=\"%s\"",
                      err);
        goto done;
    }
    if (rs->skipped_invalid || b.skipped_too_big) {
        cw->skipped_other += b.skipped_too_big;
        cw->host->log(cw->ctx, BERTH_LOG_DEBUG, "cloudwatch.samples.skipped invalid=%zu "
                      "too_big=%zu", rs->skipped_invalid, b.skipped_too_big);
    }
    for (size_t i = 0; i < b.n; i++) {
        struct cw_item old;
        if (cw_queue_push(&cw->q, b.v[i].text, b.v[i].len, b.v[i].n_metrics,
                          cw->inflight || cw->backoff, &old)) {
            drop(cw, DROP_OVERFLOW, old.n_metrics, old.attempts, "queue full");
            free(old.body);
        }
        b.v[i].text = NULL;
    }
    cw_batches_free(&b);
done:
    cw_records_free(rs);
    emit_counters(cw);
    if (!cw->emf)
        cw_pump(cw);
}

static void
cw_write(void *state, const struct berth_metric *m, size_t n)
{
    struct cw *cw = state;
    uint64_t now = now_ms();

    if (cw->stopping)
        return;
    if (cw->pending.n) /* the previous export had no end (no histograms call) */
        publish(cw);
    if (cw->insights) {
        cw_insights(cw->d_insights, cw->cluster, m, n, now, &cw->pending);
        cw_delta_sweep(cw->d_insights);
    }
    if (cw->series) {
        cw_series_samples(cw->d_series, cw->cluster, m, n, now, &cw->pending);
        cw_delta_sweep(cw->d_series);
    }
}

static void
cw_write_histograms(void *state, const struct berth_histogram *h, size_t n)
{
    struct cw *cw = state;

    if (cw->stopping)
        return;
    if (cw->series) {
        cw_series_histograms(cw->d_histo, cw->cluster, h, n, now_ms(), !cw->emf,
                             &cw->pending);
        cw_delta_sweep(cw->d_histo);
    }
    publish(cw);
}

static int
cw_stop(void *state)
{
    struct cw *cw = state;
    size_t n = 0, batches = cw->q.n;

    cw->stopping = 1;
    if (cw->inflight) {
        cw->host->http_cancel(cw->ctx, cw->inflight);
        cw->inflight = NULL;
    }
    if (cw->backoff) {
        cw->host->timer_stop(cw->ctx, cw->backoff);
        cw->backoff = NULL;
    }
    for (struct cw_item *it; (it = cw_queue_head(&cw->q)); cw_queue_pop(&cw->q))
        n += it->n_metrics;
    if (batches) {
        cw->dropped_batches[DROP_SHUTDOWN] += batches;
        cw->dropped_metrics[DROP_SHUTDOWN] += n;
        cw->host->log(cw->ctx, BERTH_LOG_WARN, "cloudwatch.batch.dropped reason=shutdown "
                      "batches=%zu metrics=%zu", batches, n);
    }
    if (cw->out)
        cw_emf_out_stop(cw->out);
    return 0;
}

static void
cw_destroy(void *state)
{
    struct cw *cw = state;

    if (!cw)
        return;
    if (cw->out)
        cw_emf_out_free(cw->out);
    cw_queue_free(&cw->q);
    cw_records_free(&cw->pending);
    cw_delta_free(cw->d_insights);
    cw_delta_free(cw->d_series);
    cw_delta_free(cw->d_histo);
    cw_creds_free(&cw->creds);
    free(cw->url);
    free(cw->host_hdr);
    free(cw->path);
    free(cw->region);
    free(cw->cluster);
    free(cw->instance);
    free(cw);
}

static const struct berth_metrics_sink_ops cw_ops = {
    .struct_size = sizeof(struct berth_metrics_sink_ops),
    .write = cw_write,
    .write_histograms = cw_write_histograms,
};

BERTH_PLUGIN_DECLARE = {
    BERTH_PLUGIN_HEADER,
    .name = "cloudwatch",
    .version = "1.1",
    .description = "CloudWatch metrics: PutMetricData (SigV4) or Embedded Metric Format",
    .kind = BERTH_KIND_METRICS_SINK,
    .options = cw_options,
    .config_size = sizeof(struct cw_config),
    .init = cw_init,
    .start = cw_start,
    .stop = cw_stop,
    .destroy = cw_destroy,
    .ops = &cw_ops,
};
