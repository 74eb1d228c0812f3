/* json_walk.h: checks a JSON document against tables of fields (the shapes of
 * an AWS API model) and fills C structs from it, collecting every error with
 * its JSON path.
 *
 * A shape is a table of fields, as data: each names a JSON member, the JSON
 * type it must have, what becomes of it (parsed into the struct at an
 * offset, accepted and reported as ignored, or refused as unsupported) and,
 * for ints, a range; for enums, the choices.  Members that no field names
 * are errors ("unknown field"); so are wrong types and missing required
 * members.  The walk never stops at the first error: it reports all of them,
 * each as {path, message}, the path as in containerDefinitions[1].cpu.
 *
 * Memory: allocation failures abort (the documents are small and a parser
 * that half-fails on OOM is worse than a crash the supervisor restarts).
 * What a walk allocates into a struct is released with jw_free_shape(). */
#ifndef BERTH_JSON_WALK_H
#define BERTH_JSON_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "berth/plugin.h"

/* One error: where in the document, and which rule it breaks. */
struct json_error {
    char *path;    /* "" for the document itself */
    char *message; /* says what was expected and what was found */
};

/* Everything a walk found wrong, plus the members it accepted but ignores
 * ("taskRoleArn: ignored: IAM roles have no meaning on a Berth host"). */
struct json_errors {
    struct json_error *v;
    size_t n;
    char **ignored;
    size_t n_ignored;
};

void json_errors_add(struct json_errors *e, const char *path, const char *fmt, ...)
    BERTH_PRINTF(3, 4);
void json_errors_clear(struct json_errors *e);
/* All errors as one line, "PATH: MESSAGE; PATH: MESSAGE" (the message alone
 * for an empty path), for the message of an API error.  Caller frees. */
char *json_errors_message(const struct json_errors *e);

/* Containers the walker fills. */
struct jw_strv {
    char **v;
    size_t n;
};
struct jw_intv {
    int64_t *v;
    size_t n;
};
struct jw_kv {
    char *name;
    char *value;
};
/* A JSON object of strings, sorted by name (JSON maps have no order, and
 * sorted maps render the same text for the same content). */
struct jw_map {
    struct jw_kv *v;
    size_t n;
};

enum jw_kind {
    JW_STRING,  /* char * */
    JW_INT,     /* int64_t; a JSON number with no fraction, 32-bit range */
    JW_BOOL,    /* bool */
    JW_ENUM,    /* int: index into choices; JSON string */
    JW_STRINGS, /* struct jw_strv; JSON array of strings */
    JW_INTS,    /* struct jw_intv; JSON array of integers */
    JW_MAP,     /* struct jw_map; JSON object of strings */
    JW_OBJECT,  /* an embedded struct walked with shape */
    JW_ARRAY,   /* array of objects: pointer at offset, size_t count at
                   count_offset, elements walked with shape */
};

enum jw_use {
    JW_PARSE,       /* into the struct */
    JW_IGNORE,      /* type-checked, then reported in ignored with reason */
    JW_UNSUPPORTED, /* an error: "not supported by Berth: " reason */
};

struct jw_shape;

struct jw_field {
    const char *name;
    enum jw_kind kind;
    enum jw_use use;
    bool required;
    size_t offset;       /* of the value in the struct */
    size_t has;          /* offset + 1 of a bool set when present; 0: none */
    size_t count_offset; /* JW_ARRAY: of the size_t count */
    bool ranged;         /* min..max applies: the inclusive range of a
                            JW_INT, or the element count of an array */
    int64_t min, max;
    const char *const *choices; /* JW_ENUM: NULL-terminated */
    const struct jw_shape *shape; /* JW_OBJECT, JW_ARRAY */
    const char *reason;  /* JW_IGNORE, JW_UNSUPPORTED */
};

struct jw;

struct jw_shape {
    size_t size; /* of the struct */
    const struct jw_field *fields; /* ends with a NULL name */
    /* Optional: checks across members once they are in the struct, with
     * the walker's path at this object (use jw_error_at). */
    void (*check)(struct jw *w, void *obj);
};

/* The walker's state: the current path and where errors go. */
struct jw {
    struct json_errors *errs;
    char path[1024];
    size_t len;
};

/* Walks obj (which must be a JSON object) into target (shape->size bytes,
 * zeroed by the caller).  Returns the number of errors it added. */
size_t jw_walk(struct jw *w, const cJSON *obj, const struct jw_shape *shape,
               void *target);
/* Releases what jw_walk allocated into target (not target itself). */
void jw_free_shape(const struct jw_shape *shape, void *target);

/* Paths: push returns the length to pop back to. */
size_t jw_push_key(struct jw *w, const char *key);
size_t jw_push_index(struct jw *w, size_t i);
void jw_pop(struct jw *w, size_t len);
/* An error at the current path, or at its member key (key may be NULL). */
void jw_error_at(struct jw *w, const char *key, const char *fmt, ...)
    BERTH_PRINTF(3, 4);

/* Whether an error was already reported at path or inside it (path.x,
 * path[0]): lets checks across members stay quiet about what failed. */
bool json_errors_under(const struct json_errors *e, const char *path);

/* Reports the current path's member key (NULL: the path itself) as
 * ignored, with the reason, as a field marked JW_IGNORE would be. */
void jw_ignored_at(struct jw *w, const char *key, const char *reason);

/* "a string", "an integer", "null"...: how a JSON value is named in errors. */
const char *jw_type_name(const cJSON *item);

/* Allocation that aborts on failure. */
void *jw_calloc(size_t n, size_t size);
char *jw_strdup(const char *s);

#endif
