/* cw_queue.c: the bounded send queue and the retry decisions; see cw.h. */
#include <stdlib.h>
#include <string.h>

#include "cw.h"

int
cw_queue_init(struct cw_queue *q, size_t cap)
{
    memset(q, 0, sizeof(*q));
    if (cap < 1 || !(q->v = calloc(cap, sizeof(*q->v))))
        return -1;
    q->cap = cap;
    return 0;
}

void
cw_queue_free(struct cw_queue *q)
{
    while (q->n)
        cw_queue_pop(q);
    free(q->v);
    memset(q, 0, sizeof(*q));
}

int
cw_queue_push(struct cw_queue *q, char *body, size_t len, size_t n_metrics,
              int keep_head, struct cw_item *dropped)
{
    struct cw_item item = {body, len, n_metrics, 0};

    if (q->n == q->cap) {
        if (keep_head && q->cap == 1) {
            *dropped = item; /* nothing else to give up */
            return 1;
        }
        if (keep_head) {
            /* The head is being sent: give up the one after it. */
            size_t second = (q->head + 1) % q->cap;
            *dropped = q->v[second];
            q->v[second] = q->v[q->head];
        } else {
            *dropped = q->v[q->head];
        }
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->v[(q->head + q->n) % q->cap] = item;
        q->n++;
        return 1;
    }
    q->v[(q->head + q->n) % q->cap] = item;
    q->n++;
    return 0;
}

struct cw_item *
cw_queue_head(struct cw_queue *q)
{
    return q->n ? &q->v[q->head] : NULL;
}

void
cw_queue_pop(struct cw_queue *q)
{
    if (!q->n)
        return;
    free(q->v[q->head].body);
    q->head = (q->head + 1) % q->cap;
    q->n--;
}

enum cw_verdict
cw_verdict(long status, const char *body, unsigned attempts, unsigned max_retries)
{
    int retryable;

    if (status >= 200 && status < 300)
        return CW_SENT;
    /* Query-protocol errors name their code in <Code>; CloudWatch says
     * "Throttling" for the request rate. */
    retryable = status == 0 || status >= 500 || status == 429 ||
                (status == 400 && body &&
                 (strstr(body, "<Code>Throttling</Code>") ||
                  strstr(body, "<Code>ThrottlingException</Code>") ||
                  strstr(body, "<Code>RequestThrottled</Code>")));
    if (!retryable)
        return CW_REJECTED;
    return attempts > max_retries ? CW_GIVE_UP : CW_RETRY;
}

uint64_t
cw_backoff_ms(unsigned attempts, uint64_t base_ms, uint64_t max_ms, double rnd)
{
    uint64_t d = base_ms;

    for (unsigned i = 1; i < attempts && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    if (rnd < 0)
        rnd = 0;
    if (rnd >= 1)
        rnd = 0.999999;
    return d / 2 + (uint64_t)((double)(d - d / 2) * rnd);
}
