/* cw.h: the CloudWatch metrics sink's internal interfaces.
 *
 * Contract
 *   - cw_batch: turns the samples the host hands a metrics sink into
 *     PutMetricData form bodies (Query protocol, Version 2010-08-01): one
 *     datum per sample, MetricName = the sample's name, dimensions
 *     ClusterName (the label cluster, else the agent's cluster),
 *     ServiceName (label service), TaskDefinitionFamily (label
 *     task_definition_family or family), then the sample's other labels
 *     under their own names, at most 30 in all.  Bodies are split so that
 *     none holds more than max_metrics data or max_bytes bytes.  NaN and
 *     infinite values cannot be sent: they are skipped and counted.  Pure.
 *   - cw_queue: a bounded FIFO of bodies waiting to be sent, and the
 *     decisions about an answer: retry (transport errors, 5xx, 429,
 *     400 Throttling) with exponential backoff and jitter, up to
 *     max_retries; give up (other 4xx, or retries exhausted).  Pushing
 *     onto a full queue drops the oldest batch and says so.  Pure.
 *   - cw_creds: one profile of an AWS CLI credentials file.
 *   - cw_emf: Embedded Metric Format events (one JSON object per line).
 * Everything here runs on the host loop; nothing blocks. */
#ifndef BERTH_CW_H
#define BERTH_CW_H

#include <stddef.h>
#include <stdint.h>

#include <berth/plugin.h>

#define CW_MAX_METRICS 1000      /* PutMetricData: data per request */
#define CW_MAX_BYTES 1048576     /* PutMetricData: bytes of a request body */
#define CW_MAX_DIMENSIONS 30

/* ---- batching ---- */

struct cw_batch_opts {
    const char *namespace_;
    const char *cluster; /* ClusterName when a sample has no cluster label */
    size_t max_metrics;
    size_t max_bytes;
    uint64_t now_ms;     /* wall clock, for samples with time_ms 0 */
};

struct cw_body {
    char *text;
    size_t len;
    size_t n_metrics;
};

struct cw_batches {
    struct cw_body *v;
    size_t n;
    size_t skipped_invalid; /* NaN or infinite */
    size_t skipped_too_big; /* one datum alone exceeds max_bytes */
    size_t dims_truncated;  /* samples with more than 30 dimensions */
};

/* Returns 0, or -1 with err when the options make no body possible. */
int cw_batch_build(const struct cw_batch_opts *o, const struct berth_metric *m,
                   size_t n, struct cw_batches *out, char *err, size_t errlen);
void cw_batches_free(struct cw_batches *b);

/* The ECS dimension a label maps to, or NULL when it keeps its name. */
const char *cw_dimension_name(const char *label);

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

/* One EMF event per sample, as a JSON line ending in '\n' (malloc'ed).
 * NULL for a sample whose value cannot be written (NaN, infinite). */
char *cw_emf_line(const char *namespace_, const char *cluster,
                  const struct berth_metric *m, uint64_t now_ms);

#endif
