/* options.c: generic setters for tables of typed options (struct berth_option). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/options.h"
#include "agent/value.h"

#define FIELD(base, opt) ((char *)(base) + (opt)->offset)
#define CFIELD(base, opt) ((const char *)(base) + (opt)->offset)

const struct berth_option *options_find(const struct berth_option *table,
                                        const char *name)
{
    for (const struct berth_option *o = table; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

/* Parses into a temporary first so a bad value leaves the field as it was. */
static int set_one(const struct berth_option *o, void *base, const char *text,
                   char *err, size_t errlen)
{
    void *field = FIELD(base, o);

    switch (o->type) {
    case BERTH_OPT_STRING: {
        char *copy = strdup(text);
        if (!copy) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case BERTH_OPT_BOOL: {
        int v;
        if (value_parse_bool(text, &v, err, errlen) < 0)
            return -1;
        *(int *)field = v;
        return 0;
    }
    case BERTH_OPT_INT: {
        int64_t v;
        if (value_parse_int(text, &v, err, errlen) < 0)
            return -1;
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case BERTH_OPT_DURATION:
    case BERTH_OPT_SIZE: {
        uint64_t v;
        int r = o->type == BERTH_OPT_DURATION
                    ? value_parse_duration(text, &v, err, errlen)
                    : value_parse_size(text, &v, err, errlen);
        if (r < 0)
            return -1;
        memcpy(field, &v, sizeof v);
        return 0;
    }
    case BERTH_OPT_ADDRESS: {
        struct berth_address a;
        if (value_parse_address(text, &a, err, errlen) < 0)
            return -1;
        memcpy(field, &a, sizeof a);
        return 0;
    }
    }
    snprintf(err, errlen, "option type %d is not supported", (int)o->type);
    return -1;
}

int options_defaults(const struct berth_option *table, void *base, char *err,
                     size_t errlen)
{
    char msg[512];

    for (const struct berth_option *o = table; o && o->name; o++) {
        if (!o->default_value)
            continue;
        if (set_one(o, base, o->default_value, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "default of %s: %s", o->name, msg);
            return -1;
        }
    }
    return 0;
}

int options_set(const struct berth_option *table, void *base, const char *key,
                const char *text, char *err, size_t errlen)
{
    const struct berth_option *o = options_find(table, key);

    if (!o) {
        snprintf(err, errlen, "unknown key");
        return -1;
    }
    return set_one(o, base, text, err, errlen);
}

size_t options_field_size(enum berth_opt_type type)
{
    switch (type) {
    case BERTH_OPT_STRING:
        return sizeof(char *);
    case BERTH_OPT_BOOL:
        return sizeof(int);
    case BERTH_OPT_INT:
        return sizeof(int64_t);
    case BERTH_OPT_DURATION:
    case BERTH_OPT_SIZE:
        return sizeof(uint64_t);
    case BERTH_OPT_ADDRESS:
        return sizeof(struct berth_address);
    }
    return 0;
}

void options_free(const struct berth_option *table, void *base)
{
    for (const struct berth_option *o = table; o && o->name; o++) {
        if (o->type == BERTH_OPT_STRING)
            free(*(char **)FIELD(base, o));
        memset(FIELD(base, o), 0, options_field_size(o->type));
    }
}

static int streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static int field_equal(const struct berth_option *o, const void *a, const void *b)
{
    const void *fa = CFIELD(a, o), *fb = CFIELD(b, o);

    switch (o->type) {
    case BERTH_OPT_STRING:
        return streq(*(const char *const *)fa, *(const char *const *)fb);
    case BERTH_OPT_BOOL:
        return *(const int *)fa == *(const int *)fb;
    case BERTH_OPT_ADDRESS: {
        /* Bytes past the host's NUL may differ; compare the values. */
        const struct berth_address *x = fa, *y = fb;
        return x->port == y->port && strcmp(x->host, y->host) == 0;
    }
    default:
        return memcmp(fa, fb, options_field_size(o->type)) == 0;
    }
}

int options_equal(const struct berth_option *table, const void *a, const void *b)
{
    for (const struct berth_option *o = table; o && o->name; o++)
        if (!field_equal(o, a, b))
            return 0;
    return 1;
}
