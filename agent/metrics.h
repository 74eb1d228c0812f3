/* metrics.h: the agent's metric series, latest value per series, and its
 * histograms, latest cumulative state per series.
 *
 * Plugins and the agent record samples; a series is its name plus its label
 * set (order-insensitive).  Histograms are kept beside the series, with
 * their own identity (a histogram and a sample may not share a name).  At each export interval the host hands a
 * snapshot to every metrics sink.  Strings are copied on record, so callers
 * may pass stack data.  Not thread-safe: control loop only. */
#ifndef BERTH_METRICS_H
#define BERTH_METRICS_H

#include <stddef.h>

#include "berth/plugin.h"

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* 0, or -1 when the sample is invalid (bad name or label name, NaN type,
 * too many labels), with a reason in err. */
int metrics_record(struct metrics *m, const struct berth_metric *s,
                   uint64_t now_ms, char *err, size_t errlen);

/* 0, or -1 when the histogram is invalid (bad name or labels, label "le",
 * bounds not finite and strictly ascending, counts decreasing or above
 * count, too many buckets), with a reason in err.  A new state replaces the
 * series' previous one, bounds included. */
int metrics_record_histogram(struct metrics *m, const struct berth_histogram *h,
                             uint64_t now_ms, char *err, size_t errlen);

/* Drops every series and histogram with label name=value (a container or
 * task that is gone), keeping the others' order; returns how many. */
size_t metrics_forget(struct metrics *m, const char *name, const char *value);

/* Every series, in first-recorded order; valid until the next record. */
const struct berth_metric *metrics_all(const struct metrics *m, size_t *n);

/* Every histogram, in first-recorded order; valid until the next record. */
const struct berth_histogram *metrics_histograms(const struct metrics *m, size_t *n);

/* The most buckets (finite bounds) a histogram may have. */
#define METRICS_MAX_BUCKETS 64

/* Prometheus' name rules. */
int metrics_valid_name(const char *name);
int metrics_valid_label_name(const char *name);

#endif
