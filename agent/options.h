/* options.h: tables of typed options applied to a struct (nginx-style
 * options as data).  Used for the agent's own sections and for each
 * plugin's option table; both are arrays of struct berth_option ending with
 * a row whose name is NULL.
 *
 * Strings set through these functions are heap copies owned by the struct;
 * options_free() releases them and zeroes the fields. */
#ifndef BERTH_OPTIONS_H
#define BERTH_OPTIONS_H

#include <stddef.h>

#include "berth/plugin.h"

const struct berth_option *options_find(const struct berth_option *table,
                                        const char *name);

/* Applies every row's default_value to base.  -1 with err if a default does
 * not parse (a bug in the table, reported rather than ignored). */
int options_defaults(const struct berth_option *table, void *base, char *err,
                     size_t errlen);

/* Parses text as the option's type into base.  -1 with err: "unknown key"
 * (err lists nothing else) or the parser's message; the field is then left
 * as it was.  Setting a string frees the one it replaces, so base must
 * start zeroed (as must it for options_defaults). */
int options_set(const struct berth_option *table, void *base, const char *key,
                const char *text, char *err, size_t errlen);

void options_free(const struct berth_option *table, void *base);

/* Bytes a field of this type takes in the struct; 0 for an unknown type. */
size_t options_field_size(enum berth_opt_type type);

/* 1 when the two structs hold equal values for every option. */
int options_equal(const struct berth_option *table, const void *a, const void *b);

#endif
