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
 *   - Pure: no I/O, no state; the caller frees the result. */
#ifndef PROM_TEXT_H
#define PROM_TEXT_H

#include <stddef.h>

#include <berth/plugin.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The exposition of m[0..n); NULL on OOM.  *len gets its length and
 * *skipped (may be NULL) how many samples were left out. */
char *prom_render(const struct berth_metric *m, size_t n, size_t *len, size_t *skipped);

int prom_valid_name(const char *s);
int prom_valid_label_name(const char *s);

#endif
