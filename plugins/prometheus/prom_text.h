/* prom_text.h: the Prometheus text exposition format 0.0.4.
 *
 * Contract
 *   - prom_render() writes every sample of a metrics snapshot: each name's
 *     samples contiguous, in the order names first appear, with one "# HELP"
 *     (backslash and newline escaped) and one "# TYPE" line before them;
 *     label values escape backslash, double quote and newline; values are
 *     shortest-round-trip doubles, NaN, +Inf or -Inf; every line ends in
 *     "\n".  No timestamps: Prometheus stamps the scrape.
 *   - Samples the format cannot carry are left out, never emitted broken:
 *     an invalid metric or label name, a type this writer does not know
 *     (a newer ABI's), or a name already used with another type.
 *   - prom_render_histograms() writes histograms the same way, with
 *     "# TYPE NAME histogram" and, per series, NAME_bucket{...,le="B"} for
 *     each bound (cumulative), le="+Inf" (the count), NAME_sum and
 *     NAME_count.  le is formatted as Prometheus' Go client does
 *     (shortest round-trip, "1e+06" from a million up).  The agent's store
 *     keeps histogram names apart from sample names; the caller appends
 *     this text after prom_render()'s.
 *   - Pure: no I/O, no state; the caller frees the result. */
#ifndef PROM_TEXT_H
#define PROM_TEXT_H

#include <stddef.h>

#include <berth/plugin.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The exposition of m[0..n); NULL on OOM.  *len gets its length and
 * *skipped (may be NULL) how many samples were left out. */
char *prom_render(const struct berth_metric *m, size_t n, size_t *len, size_t *skipped);

/* The exposition of h[0..n), as prom_render. */
char *prom_render_histograms(const struct berth_histogram *h, size_t n, size_t *len,
                             size_t *skipped);

/* A bucket bound as le's value ("0.005", "1", "2.5", "1e+06", "+Inf"). */
void prom_format_le(char *out, size_t outlen, double v);

int prom_valid_name(const char *s);
int prom_valid_label_name(const char *s);

#endif
