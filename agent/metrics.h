/* metrics.h: the agent's metric series, latest value per series.
 *
 * Plugins and the agent record samples; a series is its name plus its label
 * set (order-insensitive).  At each export interval the host hands a
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

/* Drops every series with label name=value (a container or task that is
 * gone), keeping the others' order; returns how many. */
size_t metrics_forget(struct metrics *m, const char *name, const char *value);

/* Every series, in first-recorded order; valid until the next record. */
const struct berth_metric *metrics_all(const struct metrics *m, size_t *n);

/* Prometheus' name rules. */
int metrics_valid_name(const char *name);
int metrics_valid_label_name(const char *name);

#endif
