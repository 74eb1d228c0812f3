/* histo.h: a latency histogram that a worker thread fills without locks and
 * the control loop sums and records (host_histogram).
 *
 * Each worker owns one struct histo and is its only writer; the loop reads
 * every worker's copy with histo_add() into a loop-owned total.  Counters are
 * C11 atomics used with relaxed order, and a writer updates them with a
 * plain load and store (one writer, so no read-modify-write is needed): a
 * reader sees each counter whole, never torn.  The loop may see one
 * observation's bucket before its sum (the fields are not one snapshot);
 * the exported count is the sum of the buckets, so count and buckets always
 * agree, and sum catches up at the next export.  No seqlock: a reader never
 * waits or retries, and a worker never waits for the loop.
 *
 * Bounds are copied in at init and fixed thereafter; every copy that
 * histo_add() sums must have the same bounds (the loop makes them from one
 * list). */
#ifndef BERTH_HISTO_H
#define BERTH_HISTO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/plugin.h"

#define HISTO_MAX_BOUNDS 32

/* Prometheus' default buckets, in seconds: .005 .. 10. */
extern const double histo_default_bounds[];
extern const size_t histo_default_n;

struct histo {
    size_t n; /* finite bounds; bucket n is +Inf */
    double bounds[HISTO_MAX_BOUNDS];
    _Atomic uint64_t buckets[HISTO_MAX_BOUNDS + 1]; /* per bucket, not cumulative */
    _Atomic uint64_t sum_bits;                      /* a double's bits */
};

/* 0, or -1 with err when bounds are not finite and strictly ascending or
 * more than HISTO_MAX_BOUNDS.  bounds NULL: the default buckets. */
int histo_init(struct histo *h, const double *bounds, size_t n, char *err,
               size_t errlen);

/* The owning worker (or the loop, for a loop-owned histogram).  A NaN is
 * ignored; a negative value counts in the first bucket. */
void histo_observe(struct histo *h, double v);

/* The loop: dst += src (bucket by bucket, and the sum).  dst is the loop's
 * own; src may be a worker's, being written meanwhile.  -1 when their
 * bounds differ (nothing is added). */
int histo_add(struct histo *dst, const struct histo *src);

/* Zeroes the counts (the loop, on its own total before summing anew). */
void histo_reset(struct histo *h);

/* A struct berth_histogram view of h, with its cumulative counts in out's
 * storage; name, help and labels are the caller's, borrowed. */
struct histo_view {
    uint64_t cumulative[HISTO_MAX_BOUNDS];
    struct berth_histogram h;
};
void histo_view(const struct histo *h, const char *name, const char *help,
                const struct berth_label *labels, size_t n_labels,
                struct histo_view *out);

#endif
