/* cw.h: the CloudWatch metrics sink's internal interfaces.
 *
 * Contract
 *   - An export goes through records (cw_record.c): values grouped by their
 *     dimensions.  Two sources fill them: cw_series (every series under its
 *     own name, counters and histograms as increments since the previous
 *     export, kept by cw_delta) and cw_insights (Container Insights' ECS
 *     names, summed per cluster, service and task family).
 *   - cw_batch: records to PutMetricData form bodies (Query protocol,
 *     Version 2010-08-01), split so that none holds more than max_metrics
 *     data or max_bytes bytes.  NaN and infinite values cannot be sent:
 *     they are skipped and counted.  Pure.
 *   - cw_emf: records to Embedded Metric Format events (JSON lines), one
 *     event per record and at most 100 metrics each.
 *   - cw_queue: a bounded FIFO of bodies waiting to be sent, and the
 *     decisions about an answer: retry (transport errors, 5xx, 429,
 *     400 Throttling) with exponential backoff and jitter, up to
 *     max_retries; give up (other 4xx, or retries exhausted).  Pushing
 *     onto a full queue drops the oldest batch and says so.  Pure.
 *   - cw_creds: one profile of an AWS CLI credentials file.
 * Everything here runs on the host loop; nothing blocks. */
#ifndef BERTH_CW_H
#define BERTH_CW_H

#include <stddef.h>
#include <stdint.h>

#include <berth/plugin.h>

#define CW_MAX_METRICS 1000      /* PutMetricData: data per request */
#define CW_MAX_BYTES 1048576     /* PutMetricData: bytes of a request body */
#define CW_MAX_DIMENSIONS 30
#define CW_MAX_VALUES 150        /* PutMetricData: Values of one datum */

/* ---- records: what one export publishes ---- */

/* A dimension; in a record both strings are owned by the record. */
struct cw_dim {
    const char *name, *value;
};

/* One value: a number, or a distribution (PutMetricData Values/Counts). */
struct cw_value {
    char *name;
    const char *unit; /* a CloudWatch unit (static string) */
    double value;     /* when n_values is 0 */
    size_t n_values;  /* 1..CW_MAX_VALUES distinct values */
    double *values, *counts;
};

/* Values sharing one set of dimensions: one EMF event, or as many
 * PutMetricData data (each with the record's dimensions). */
struct cw_record {
    struct cw_dim dims[CW_MAX_DIMENSIONS];
    size_t n_dims;
    const char *type; /* EMF "Type" member (static), or NULL */
    uint64_t time_ms;
    struct cw_value *v;
    size_t n, cap;
};

struct cw_records {
    struct cw_record *r;
    size_t n, cap;
    size_t last;            /* the record found last: samples come grouped */
    size_t skipped_invalid; /* NaN or infinite values */
    size_t dims_truncated;  /* samples with more than 30 dimensions */
};

/* The record with exactly these dimensions and type, appended (strings
 * copied) when there is none yet; its time is the newest time_ms given. */
struct cw_record *cw_records_get(struct cw_records *rs, const struct cw_dim *d, size_t nd,
                                 const char *type, uint64_t time_ms);
/* Adds a value; a NaN or infinite one is counted in rs and left out. */
void cw_record_add(struct cw_records *rs, struct cw_record *r, const char *name,
                   const char *unit, double v);
/* Adds a distribution: values[i] seen counts[i] times, i < n (n >= 1; more
 * than CW_MAX_VALUES are merged into neighbours, weighted). */
void cw_record_add_dist(struct cw_records *rs, struct cw_record *r, const char *name,
                        const char *unit, const double *values, const double *counts,
                        size_t n);
/* Removes the last record. */
void cw_records_pop(struct cw_records *rs);
void cw_records_free(struct cw_records *rs);

/* The dimensions of a label set: ClusterName (label cluster, else the
 * agent's cluster), ServiceName, TaskDefinitionFamily, then the other
 * non-empty labels under their own names, at most 30; *truncated when some
 * were left out.  Pointers into labels (not copied). */
size_t cw_dimensions(const struct berth_label *l, size_t nl, const char *cluster,
                     struct cw_dim out[CW_MAX_DIMENSIONS], int *truncated);

/* The ECS dimension a label maps to, or NULL when it keeps its name. */
const char *cw_dimension_name(const char *label);

/* The CloudWatch unit a series' name implies: *_seconds[_total] Seconds,
 * *_bytes[_total] Bytes, *_percent Percent; else Count for a counter,
 * None for a gauge. */
const char *cw_unit(const char *name, enum berth_metric_type t);

/* strdup that aborts when memory is out (as the host does). */
char *cw_strdup(const char *s);

/* ---- counters as deltas ---- */

/* The values each series had at the previous export, to publish what a
 * counter or histogram gained since (CloudWatch sums data points; it
 * wants increments, not running totals). */
struct cw_delta;

struct cw_delta *cw_delta_new(void);
void cw_delta_free(struct cw_delta *d);
/* Stores cur[0..n) for key and marks it seen.  Returns 1 and copies the
 * previous values into prev when key held n values before; 0 the first
 * time (or when n changed). */
int cw_delta_step(struct cw_delta *d, const char *key, const double *cur, size_t n,
                  double *prev);
/* The n values stored under key (marked seen), or NULL. */
const double *cw_delta_get(struct cw_delta *d, const char *key, size_t n);
/* Forgets the keys not stepped since the previous sweep (series gone). */
void cw_delta_sweep(struct cw_delta *d);
/* Sweeps so far: 0 during the first export. */
uint64_t cw_delta_sweeps(const struct cw_delta *d);
size_t cw_delta_size(const struct cw_delta *d);

/* A series' key: name and labels, in order. Malloc'ed. */
char *cw_series_key(const char *name, const struct berth_label *l, size_t nl);

/* ---- what is published ---- */

/* Every series under its own name: gauges as they are, counters as their
 * increase since the previous export; after a reset, the new value.  A
 * counter seen at the first export gives its baseline only (what it counted
 * before is not this sink's to send); one born later sends all it counted.
 * One record per label set. */
void cw_series_samples(struct cw_delta *d, const char *cluster, const struct berth_metric *m,
                       size_t n, uint64_t now_ms, struct cw_records *out);
/* Histograms, as what they observed since the previous export (nothing
 * when nothing was; baselines as for counters).  distributions: one datum of Values/Counts, each
 * bucket's observations at the bucket's midpoint (the +Inf bucket's at
 * the last bound), for PutMetricData, which keeps percentiles.  Else (EMF,
 * which has no counts) NAME_count and NAME_sum. */
void cw_series_histograms(struct cw_delta *d, const char *cluster,
                          const struct berth_histogram *h, size_t n, uint64_t now_ms,
                          int distributions, struct cw_records *out);

/* Container Insights' ECS metrics from the agent's series, per cluster,
 * per service and per task definition family (dimension sets ClusterName;
 * ClusterName, ServiceName; ClusterName, TaskDefinitionFamily), each the
 * sum over the group's tasks: CpuUtilized and CpuReserved (cpu units),
 * MemoryUtilized and MemoryReserved (Megabytes), NetworkRxBytes and
 * NetworkTxBytes (Bytes/Second), StorageReadBytes and StorageWriteBytes
 * (Bytes since the previous export), TaskCount; per service also
 * RunningTaskCount, PendingTaskCount, DesiredTaskCount; per cluster
 * ServiceCount.  Rates come from two stats readings of every container
 * (container_last_seen); an export that finds no new reading repeats the
 * last rates (and 0 bytes of storage).  A group publishes a figure only
 * when all its tasks have it, so a sum is never partial. */
void cw_insights(struct cw_delta *d, const char *cluster, const struct berth_metric *m,
                 size_t n, uint64_t now_ms, struct cw_records *out);

/* ---- batching ---- */

struct cw_batch_opts {
    const char *namespace_;
    size_t max_metrics;
    size_t max_bytes;
};

struct cw_body {
    char *text;
    size_t len;
    size_t n_metrics;
};

struct cw_batches {
    struct cw_body *v;
    size_t n;
    size_t skipped_too_big; /* one datum alone exceeds max_bytes */
};

/* PutMetricData bodies for the records: one datum per value, with its
 * record's dimensions.  Returns 0, or -1 with err when the options make no
 * body possible. */
int cw_batch_build(const struct cw_batch_opts *o, const struct cw_records *rs,
                   struct cw_batches *out, char *err, size_t errlen);
void cw_batches_free(struct cw_batches *b);

/* Appends s to *buf (form encoding: unreserved bytes as is, others %XX). */
void cw_form_escape(char **buf, size_t *len, size_t *cap, const char *s);

/* ---- the send queue ---- */

struct cw_item {
    char *body;
    size_t len;
    size_t n_metrics;
    unsigned attempts; /* sends tried so far */
};

struct cw_queue {
    struct cw_item *v; /* ring of cap items */
    size_t cap, head, n;
};

int cw_queue_init(struct cw_queue *q, size_t cap);
void cw_queue_free(struct cw_queue *q);
/* Takes body.  When full, the oldest item is moved to *dropped (caller
 * frees its body) and 1 is returned; else 0.  keep_head: the head is being
 * sent (or waits to be retried), so the oldest after it goes instead (and
 * with a queue of one, the new item itself). */
int cw_queue_push(struct cw_queue *q, char *body, size_t len, size_t n_metrics,
                  int keep_head, struct cw_item *dropped);
struct cw_item *cw_queue_head(struct cw_queue *q); /* NULL when empty */
void cw_queue_pop(struct cw_queue *q);             /* frees the head */

enum cw_verdict {
    CW_SENT = 0,     /* 2xx */
    CW_RETRY = 1,    /* try again after a backoff */
    CW_GIVE_UP = 2,  /* retries exhausted: drop, counted */
    CW_REJECTED = 3, /* the endpoint refused it for good: drop, counted */
};

/* status: HTTP status, 0 when no answer came (transport error); body:
 * the answer.  attempts: sends tried, this one included. */
enum cw_verdict cw_verdict(long status, const char *body, unsigned attempts,
                           unsigned max_retries);
/* Delay before retry number attempts (1 = first retry): base * 2^(n-1)
 * capped at max, of which a random half (rnd in [0,1)) is jitter. */
uint64_t cw_backoff_ms(unsigned attempts, uint64_t base_ms, uint64_t max_ms,
                       double rnd);

/* ---- credentials ---- */

struct cw_creds {
    char *key_id;
    char *secret;
    char *token; /* aws_session_token, or NULL */
};

/* Reads [profile] of an AWS CLI credentials file; -1 with err naming the
 * file (and line) on any problem. */
int cw_creds_load(const char *path, const char *profile, struct cw_creds *c,
                  char *err, size_t errlen);
void cw_creds_free(struct cw_creds *c);

/* ---- Embedded Metric Format ---- */

#define CW_EMF_MAX_METRICS 100 /* metrics per directive */

/* The EMF events of one record, as JSON lines ending in '\n', in one
 * malloc'ed string: one event per CW_EMF_MAX_METRICS values.  A value
 * whose name is also a dimension's (or _aws, Type) cannot be a root
 * member of its own: it is left out and counted in *skipped. */
char *cw_emf_record(const char *namespace_, const struct cw_record *r, size_t *len,
                    size_t *events, size_t *skipped);

#endif
