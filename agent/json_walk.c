/* json_walk.c: the table-driven JSON walker: types, ranges, unknown and
 * ignored members, errors with paths. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/json_walk.h"

/* ------------------------------------------------------------------ */
/* Allocation and errors                                              */

void *jw_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

char *jw_strdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

static char *vformat(const char *fmt, va_list ap)
{
    char *s;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    return s;
}

static void errors_push(struct json_errors *e, const char *path, char *message)
{
    struct json_error *grown = realloc(e->v, (e->n + 1) * sizeof *e->v);
    if (!grown)
        abort();
    e->v = grown;
    e->v[e->n].path = jw_strdup(path);
    e->v[e->n].message = message;
    e->n++;
}

void json_errors_add(struct json_errors *e, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    errors_push(e, path, msg);
}

static void ignored_push(struct json_errors *e, const char *path, const char *reason)
{
    char **grown = realloc(e->ignored, (e->n_ignored + 1) * sizeof *e->ignored);
    if (!grown)
        abort();
    e->ignored = grown;
    if (asprintf(&e->ignored[e->n_ignored], "%s: ignored: %s", path, reason) < 0)
        abort();
    e->n_ignored++;
}

bool json_errors_under(const struct json_errors *e, const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < e->n; i++) {
        const char *p = e->v[i].path;
        if (strncmp(p, path, n) == 0 && (p[n] == '\0' || p[n] == '.' || p[n] == '['))
            return true;
    }
    return false;
}

void json_errors_clear(struct json_errors *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].path);
        free(e->v[i].message);
    }
    for (size_t i = 0; i < e->n_ignored; i++)
        free(e->ignored[i]);
    free(e->v);
    free(e->ignored);
    memset(e, 0, sizeof *e);
}

char *json_errors_message(const struct json_errors *e)
{
    size_t len = 1;
    for (size_t i = 0; i < e->n; i++)
        len += strlen(e->v[i].path) + strlen(e->v[i].message) + 4;
    char *s = jw_calloc(1, len), *p = s;
    for (size_t i = 0; i < e->n; i++) {
        const struct json_error *x = &e->v[i];
        p += sprintf(p, "%s%s%s%s", i ? "; " : "", x->path, x->path[0] ? ": " : "",
                     x->message);
    }
    return s;
}

/* ------------------------------------------------------------------ */
/* Paths                                                              */

static size_t path_append(struct jw *w, const char *fmt, ...) BERTH_PRINTF(2, 3);

static size_t path_append(struct jw *w, const char *fmt, ...)
{
    size_t old = w->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->path + w->len, sizeof w->path - w->len, fmt, ap);
    va_end(ap);
    /* A path too deep to print whole is cut, never overrun. */
    if (n > 0)
        w->len += (size_t)n < sizeof w->path - w->len ? (size_t)n
                                                       : sizeof w->path - 1 - w->len;
    return old;
}

size_t jw_push_key(struct jw *w, const char *key)
{
    return w->len ? path_append(w, ".%s", key) : path_append(w, "%s", key);
}

size_t jw_push_index(struct jw *w, size_t i)
{
    return path_append(w, "[%zu]", i);
}

void jw_pop(struct jw *w, size_t len)
{
    w->len = len;
    w->path[len] = '\0';
}

void jw_error_at(struct jw *w, const char *key, const char *fmt, ...)
{
    size_t old = key ? jw_push_key(w, key) : w->len;
    va_list ap;
    va_start(ap, fmt);
    errors_push(w->errs, w->path, vformat(fmt, ap));
    va_end(ap);
    jw_pop(w, old);
}

void jw_ignored_at(struct jw *w, const char *key, const char *reason)
{
    size_t old = key ? jw_push_key(w, key) : w->len;
    ignored_push(w->errs, w->path, reason);
    jw_pop(w, old);
}

static void error_here(struct jw *w, const char *fmt, ...) BERTH_PRINTF(2, 3);

static void error_here(struct jw *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errors_push(w->errs, w->path, vformat(fmt, ap));
    va_end(ap);
}

const char *jw_type_name(const cJSON *item)
{
    if (!item || cJSON_IsNull(item))
        return "null";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsObject(item))
        return "an object";
    return "an invalid value";
}

/* ------------------------------------------------------------------ */
/* Values                                                             */

static const char *kind_name(enum jw_kind k)
{
    switch (k) {
    case JW_STRING:
    case JW_ENUM:
        return "a string";
    case JW_INT:
        return "an integer";
    case JW_BOOL:
        return "a boolean";
    case JW_STRINGS:
        return "an array of strings";
    case JW_INTS:
        return "an array of integers";
    case JW_MAP:
        return "an object of strings";
    case JW_OBJECT:
        return "an object";
    case JW_ARRAY:
        return "an array of objects";
    }
    return "?";
}

/* The botocore Integer shape is 32-bit; a fraction is not an integer. */
static int as_int(struct jw *w, const cJSON *item, int64_t *out)
{
    if (!cJSON_IsNumber(item)) {
        error_here(w, "expected an integer, got %s", jw_type_name(item));
        return -1;
    }
    double d = item->valuedouble;
    if (!isfinite(d) || d != floor(d)) {
        error_here(w, "expected an integer, got %g", d);
        return -1;
    }
    if (d < INT32_MIN || d > INT32_MAX) {
        error_here(w, "expected an integer, got %.0f (out of the 32-bit range)", d);
        return -1;
    }
    *out = (int64_t)d;
    return 0;
}

/* Checks the JSON type of item against the field's kind, shallowly. */
static int type_ok(struct jw *w, const struct jw_field *f, const cJSON *item)
{
    int good;
    switch (f->kind) {
    case JW_STRING:
    case JW_ENUM:
        good = cJSON_IsString(item);
        break;
    case JW_INT:
        good = cJSON_IsNumber(item);
        break;
    case JW_BOOL:
        good = cJSON_IsBool(item);
        break;
    case JW_STRINGS:
    case JW_INTS:
    case JW_ARRAY:
        good = cJSON_IsArray(item);
        break;
    default:
        good = cJSON_IsObject(item);
        break;
    }
    if (!good) {
        const char *want = kind_name(f->kind);
        /* "an array of strings" reads oddly when the value is no array. */
        if (f->kind == JW_STRINGS || f->kind == JW_INTS || f->kind == JW_ARRAY)
            want = "an array";
        if (f->kind == JW_MAP)
            want = "an object";
        error_here(w, "expected %s, got %s", want, jw_type_name(item));
    }
    return good;
}

static int count_ok(struct jw *w, const struct jw_field *f, size_t n)
{
    if (!f->ranged || ((int64_t)n >= f->min && (int64_t)n <= f->max))
        return 1;
    if (f->min == 0)
        error_here(w, "at most %lld elements allowed, got %zu", (long long)f->max, n);
    else
        error_here(w, "expected %lld to %lld elements, got %zu", (long long)f->min,
                   (long long)f->max, n);
    return 0;
}

static void parse_strings(struct jw *w, const cJSON *arr, struct jw_strv *out)
{
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    out->v = jw_calloc(n, sizeof *out->v);
    const cJSON *el;
    cJSON_ArrayForEach(el, arr) {
        size_t old = jw_push_index(w, i++);
        if (cJSON_IsString(el))
            out->v[out->n++] = jw_strdup(el->valuestring);
        else
            error_here(w, "expected a string, got %s", jw_type_name(el));
        jw_pop(w, old);
    }
}

static void parse_ints(struct jw *w, const cJSON *arr, struct jw_intv *out)
{
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    out->v = jw_calloc(n, sizeof *out->v);
    const cJSON *el;
    cJSON_ArrayForEach(el, arr) {
        size_t old = jw_push_index(w, i++);
        int64_t v;
        if (as_int(w, el, &v) == 0)
            out->v[out->n++] = v;
        jw_pop(w, old);
    }
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct jw_kv *)a)->name, ((const struct jw_kv *)b)->name);
}

static void parse_map(struct jw *w, const cJSON *obj, struct jw_map *out)
{
    size_t n = (size_t)cJSON_GetArraySize(obj);
    out->v = jw_calloc(n, sizeof *out->v);
    const cJSON *el;
    cJSON_ArrayForEach(el, obj) {
        if (cJSON_IsString(el)) {
            out->v[out->n].name = jw_strdup(el->string);
            out->v[out->n++].value = jw_strdup(el->valuestring);
        } else {
            jw_error_at(w, el->string, "expected a string, got %s", jw_type_name(el));
        }
    }
    qsort(out->v, out->n, sizeof *out->v, kv_cmp);
}

static void parse_enum(struct jw *w, const struct jw_field *f, const cJSON *item, int *out)
{
    for (int i = 0; f->choices[i]; i++) {
        if (strcmp(f->choices[i], item->valuestring) == 0) {
            *out = i;
            return;
        }
    }
    char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; f->choices[i] && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                f->choices[i]);
    error_here(w, "expected one of %s, got \"%.64s\"", list, item->valuestring);
}

static void parse_array(struct jw *w, const struct jw_field *f, const cJSON *arr,
                        char *base)
{
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    char *v = jw_calloc(n, f->shape->size);
    *(void **)(base + f->offset) = v;
    /* Element i stays at index i, zeroed when it is no object, so that
     * checks across elements name the right index in their paths. */
    *(size_t *)(base + f->count_offset) = n;
    const cJSON *el;
    cJSON_ArrayForEach(el, arr) {
        size_t old = jw_push_index(w, i);
        if (cJSON_IsObject(el))
            jw_walk(w, el, f->shape, v + i * f->shape->size);
        else
            error_here(w, "expected an object, got %s", jw_type_name(el));
        jw_pop(w, old);
        i++;
    }
}

static void parse_field(struct jw *w, const struct jw_field *f, const cJSON *item,
                        char *base)
{
    void *at = base + f->offset;
    int64_t v;

    switch (f->kind) {
    case JW_STRING:
        *(char **)at = jw_strdup(item->valuestring);
        break;
    case JW_INT:
        if (as_int(w, item, &v) < 0)
            return;
        if (f->ranged && (v < f->min || v > f->max)) {
            if (f->max == INT32_MAX)
                error_here(w, "must be at least %lld, got %lld", (long long)f->min,
                           (long long)v);
            else
                error_here(w, "must be between %lld and %lld, got %lld",
                           (long long)f->min, (long long)f->max, (long long)v);
            return;
        }
        *(int64_t *)at = v;
        break;
    case JW_BOOL:
        *(bool *)at = cJSON_IsTrue(item);
        break;
    case JW_ENUM:
        parse_enum(w, f, item, (int *)at);
        break;
    case JW_STRINGS:
        if (count_ok(w, f, (size_t)cJSON_GetArraySize(item)))
            parse_strings(w, item, at);
        break;
    case JW_INTS:
        if (count_ok(w, f, (size_t)cJSON_GetArraySize(item)))
            parse_ints(w, item, at);
        break;
    case JW_MAP:
        parse_map(w, item, at);
        break;
    case JW_OBJECT:
        jw_walk(w, item, f->shape, at);
        break;
    case JW_ARRAY:
        if (count_ok(w, f, (size_t)cJSON_GetArraySize(item)))
            parse_array(w, f, item, base);
        break;
    }
    if (f->has)
        *(bool *)(base + f->has - 1) = true;
}

/* ------------------------------------------------------------------ */
/* Objects                                                            */

static const struct jw_field *find_field(const struct jw_shape *shape, const char *name)
{
    for (const struct jw_field *f = shape->fields; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

size_t jw_walk(struct jw *w, const cJSON *obj, const struct jw_shape *shape, void *target)
{
    size_t before = w->errs->n;
    const cJSON *m;

    cJSON_ArrayForEach(m, obj) {
        size_t old = jw_push_key(w, m->string);
        const struct jw_field *f = find_field(shape, m->string);
        int dup = 0;
        for (const cJSON *p = obj->child; p != m; p = p->next)
            dup |= strcmp(p->string, m->string) == 0;
        if (dup)
            error_here(w, "appears more than once");
        else if (!f)
            error_here(w, "unknown field");
        else if (!type_ok(w, f, m))
            ;
        else if (f->use == JW_IGNORE)
            ignored_push(w->errs, w->path, f->reason);
        else if (f->use == JW_UNSUPPORTED)
            error_here(w, "not supported by Berth: %s", f->reason);
        else
            parse_field(w, f, m, target);
        jw_pop(w, old);
    }
    for (const struct jw_field *f = shape->fields; f->name; f++)
        if (f->required && !cJSON_GetObjectItemCaseSensitive(obj, f->name))
            jw_error_at(w, f->name, "required field is missing");
    if (shape->check)
        shape->check(w, target);
    return w->errs->n - before;
}

void jw_free_shape(const struct jw_shape *shape, void *target)
{
    char *base = target;
    for (const struct jw_field *f = shape->fields; f->name; f++) {
        if (f->use != JW_PARSE)
            continue;
        void *at = base + f->offset;
        switch (f->kind) {
        case JW_STRING:
            free(*(char **)at);
            break;
        case JW_STRINGS: {
            struct jw_strv *s = at;
            for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
            free(s->v);
            break;
        }
        case JW_INTS:
            free(((struct jw_intv *)at)->v);
            break;
        case JW_MAP: {
            struct jw_map *m = at;
            for (size_t i = 0; i < m->n; i++) {
                free(m->v[i].name);
                free(m->v[i].value);
            }
            free(m->v);
            break;
        }
        case JW_OBJECT:
            jw_free_shape(f->shape, at);
            break;
        case JW_ARRAY: {
            char *v = *(char **)at;
            size_t n = *(size_t *)(base + f->count_offset);
            for (size_t i = 0; i < n; i++)
                jw_free_shape(f->shape, v + i * f->shape->size);
            free(v);
            break;
        }
        default:
            break;
        }
    }
}
