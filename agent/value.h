/* value.h: typed conf values, shared by berth.conf and plugin options.
 *
 * Each parser takes the raw text of a value (already unquoted, trimmed) and
 * either fills *out and returns 0, or returns -1 with a message in err that
 * says what was expected and what was found, e.g.
 *   expected a duration such as 250ms, 5s, 2m or 1h, got "5 parsecs"
 * The message names neither file nor key: the caller adds those. */
#ifndef BERTH_VALUE_H
#define BERTH_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "berth/plugin.h"

/* Units: ms, s, m, h, d; a bare number is seconds.  Fractions allowed
 * ("1.5s"; what is finer than 1ms is dropped).  Units are case-insensitive
 * and may follow a space ("5 s").  Overflow and negative values are errors. */
int value_parse_duration(const char *text, uint64_t *ms, char *err, size_t errlen);
/* Units: B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (all binary: 1K = 1024);
 * a bare number is bytes.  Fractions, case and a space as for durations. */
int value_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen);
/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int value_parse_bool(const char *text, int *out, char *err, size_t errlen);
/* Decimal, optional sign; the whole text must be a number in range. */
int value_parse_int(const char *text, int64_t *out, char *err, size_t errlen);
/* host:port, [v6]:port; port 1-65535 required; host non-empty, <256 bytes.
 * An IPv6 literal must be bracketed ("::1:80" is refused as ambiguous);
 * inside brackets only an IPv6 literal (with an optional %zone) is taken. */
int value_parse_address(const char *text, struct berth_address *out, char *err,
                        size_t errlen);

/* Formats a value of the given type back to text (for dumps and man pages),
 * in the largest unit that is exact, so the text parses back to the value. */
void value_format(enum berth_opt_type type, const void *field, char *buf, size_t size);
const char *value_type_name(enum berth_opt_type type);

#endif
