/* store_clusters.c: clusters, the container-instance ID and tags by ARN
 * (store_clusters.h).  These calls are rare (an operator's CreateCluster,
 * a describe), so their statements are prepared per call rather than
 * cached at store_open(). */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agent/clock.h"
#include "agent/store_clusters.h"
#include "agent/store_priv.h"

__attribute__((format(printf, 3, 4))) static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

/* A prepared statement, or NULL after writing the error. */
static sqlite3_stmt *prep(struct store *st, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(store_priv_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
        store_priv_db_error(st, "cannot prepare a statement", err, errlen);
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

/* Runs a statement that returns no rows. */
static enum store_rc exec1(struct store *st, sqlite3_stmt *s, const char *what,
                           char *err, size_t errlen)
{
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return store_priv_db_error(st, what, err, errlen);
    return STORE_OK;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > STORE_CLUSTER_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* The cluster name ref names, in name (STORE_CLUSTER_NAME_MAX + 1). */
static enum store_rc parse_ref(struct store *st, const char *ref, char *name,
                               char *err, size_t errlen)
{
    char prefix[300];
    if (!ref || !*ref) {
        seterr(err, errlen, "cluster name is empty");
        return STORE_INVALID;
    }
    if (strncmp(ref, "arn:", 4) == 0) {
        snprintf(prefix, sizeof prefix, "arn:aws:ecs:%s:%s:cluster/",
                 store_priv_region(st), store_priv_account(st));
        size_t n = strlen(prefix);
        if (strncmp(ref, prefix, n) != 0) {
            if (strstr(ref, ":cluster/")) {
                seterr(err, errlen, "cluster %s is not in this region and "
                       "account", ref);
                return STORE_NOT_FOUND;
            }
            seterr(err, errlen, "%s is not a cluster ARN", ref);
            return STORE_INVALID;
        }
        ref += n;
    }
    if (!valid_name(ref)) {
        seterr(err, errlen, "cluster name \"%.260s\" is not valid: 1-255 letters, "
               "digits, hyphens and underscores", ref);
        return STORE_INVALID;
    }
    snprintf(name, STORE_CLUSTER_NAME_MAX + 1, "%s", ref);
    return STORE_OK;
}

static char *cluster_arn(struct store *st, const char *name)
{
    char *arn;
    if (asprintf(&arn, "arn:aws:ecs:%s:%s:cluster/%s", store_priv_region(st),
                 store_priv_account(st), name) < 0)
        abort();
    return arn;
}

void store_cluster_free(struct store_cluster *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->arn);
    free(c->json);
    memset(c, 0, sizeof *c);
}

/* Reads the cluster called name into out (may be NULL). */
static enum store_rc get(struct store *st, const char *name, struct store_cluster *out,
                         char *err, size_t errlen)
{
    sqlite3_stmt *s = prep(st, "SELECT status, created_at, json FROM cluster"
                               " WHERE name = ?1", err, errlen);
    if (!s)
        return STORE_IO;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    enum store_rc r = STORE_OK;
    if (rc == SQLITE_ROW) {
        if (out) {
            out->name = xstrdup(name);
            out->arn = cluster_arn(st, name);
            out->status = strcmp((const char *)sqlite3_column_text(s, 0), "ACTIVE") == 0
                              ? STORE_ACTIVE
                              : STORE_INACTIVE;
            out->created_at_ms = sqlite3_column_int64(s, 1);
            out->json = xstrdup((const char *)sqlite3_column_text(s, 2));
        }
    } else if (rc == SQLITE_DONE) {
        seterr(err, errlen, "cluster %s does not exist", name);
        r = STORE_NOT_FOUND;
    } else {
        r = store_priv_db_error(st, "cannot read a cluster", err, errlen);
    }
    sqlite3_finalize(s);
    return r;
}

static enum store_rc put_tags(struct store *st, const char *arn,
                              const struct store_tag *tags, size_t n, char *err,
                              size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = prep(st, "INSERT INTO resource_tag (arn, key, value)"
                                   " VALUES (?1, ?2, ?3) ON CONFLICT (arn, key)"
                                   " DO UPDATE SET value = excluded.value",
                               err, errlen);
        if (!s)
            return STORE_IO;
        sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, tags[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, tags[i].value ? tags[i].value : "", -1, SQLITE_STATIC);
        enum store_rc r = exec1(st, s, "cannot write a tag", err, errlen);
        if (r != STORE_OK)
            return r;
    }
    sqlite3_stmt *s = prep(st, "SELECT count(*) FROM resource_tag WHERE arn = ?1",
                           err, errlen);
    if (!s)
        return STORE_IO;
    sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int64_t total = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return store_priv_db_error(st, "cannot count tags", err, errlen);
    if (total > STORE_MAX_TAGS) {
        seterr(err, errlen, "too many tags on %s: %lld (at most %d)", arn,
               (long long)total, STORE_MAX_TAGS);
        return STORE_INVALID;
    }
    return STORE_OK;
}

static enum store_rc drop_tags(struct store *st, const char *arn, char *err,
                               size_t errlen)
{
    sqlite3_stmt *s = prep(st, "DELETE FROM resource_tag WHERE arn = ?1", err, errlen);
    if (!s)
        return STORE_IO;
    sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
    return exec1(st, s, "cannot remove tags", err, errlen);
}

enum store_rc store_cluster_create(struct store *st, const char *name,
                                   const char *json, const struct store_tag *tags,
                                   size_t n_tags, struct store_cluster *out,
                                   int *created, char *err, size_t errlen)
{
    struct store_cluster cur = {0};
    char nm[STORE_CLUSTER_NAME_MAX + 1];
    enum store_rc r;

    if (out)
        memset(out, 0, sizeof *out);
    if (created)
        *created = 0;
    if (!name || !valid_name(name)) {
        seterr(err, errlen, "clusterName \"%.260s\" is not valid: 1-255 letters, "
               "digits, hyphens and underscores", name ? name : "");
        return STORE_INVALID;
    }
    snprintf(nm, sizeof nm, "%s", name);
    if ((r = store_tags_check(tags, n_tags, err, errlen)) != STORE_OK)
        return r;
    if ((r = store_priv_tx_begin(st, err, errlen)) != STORE_OK)
        return r;
    r = get(st, nm, &cur, err, errlen);
    if (r == STORE_OK && cur.status == STORE_ACTIVE) {
        store_cluster_free(&cur);
        r = store_priv_tx_end(st, STORE_OK, err, errlen);
        return r == STORE_OK ? get(st, nm, out, err, errlen) : r;
    }
    if (r == STORE_OK || r == STORE_NOT_FOUND) {
        char *arn = cluster_arn(st, nm);
        sqlite3_stmt *s = prep(st, "INSERT INTO cluster (name, status, created_at, json)"
                                   " VALUES (?1, 'ACTIVE', ?2, ?3) ON CONFLICT (name)"
                                   " DO UPDATE SET status = 'ACTIVE',"
                                   " created_at = excluded.created_at,"
                                   " json = excluded.json",
                               err, errlen);
        if (!s) {
            r = STORE_IO;
        } else {
            sqlite3_bind_text(s, 1, nm, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, clock_wall_ms());
            sqlite3_bind_text(s, 3, json ? json : "{}", -1, SQLITE_STATIC);
            r = exec1(st, s, "cannot write a cluster", err, errlen);
        }
        if (r == STORE_OK)
            r = drop_tags(st, arn, err, errlen);
        if (r == STORE_OK)
            r = put_tags(st, arn, tags, n_tags, err, errlen);
        free(arn);
    }
    store_cluster_free(&cur);
    r = store_priv_tx_end(st, r, err, errlen);
    if (r != STORE_OK)
        return r;
    if (created)
        *created = 1;
    return get(st, nm, out, err, errlen);
}

enum store_rc store_cluster_get(struct store *st, const char *ref,
                                struct store_cluster *out, char *err, size_t errlen)
{
    char nm[STORE_CLUSTER_NAME_MAX + 1];
    enum store_rc r;
    if (out)
        memset(out, 0, sizeof *out);
    if ((r = parse_ref(st, ref, nm, err, errlen)) != STORE_OK)
        return r;
    return get(st, nm, out, err, errlen);
}

enum store_rc store_cluster_delete(struct store *st, const char *ref,
                                   struct store_cluster *out, char *err,
                                   size_t errlen)
{
    char nm[STORE_CLUSTER_NAME_MAX + 1];
    enum store_rc r;
    if (out)
        memset(out, 0, sizeof *out);
    if ((r = parse_ref(st, ref, nm, err, errlen)) != STORE_OK)
        return r;
    if ((r = store_priv_tx_begin(st, err, errlen)) != STORE_OK)
        return r;
    r = get(st, nm, NULL, err, errlen);
    if (r == STORE_OK) {
        sqlite3_stmt *s = prep(st, "UPDATE cluster SET status = 'INACTIVE'"
                                   " WHERE name = ?1", err, errlen);
        if (!s) {
            r = STORE_IO;
        } else {
            sqlite3_bind_text(s, 1, nm, -1, SQLITE_STATIC);
            r = exec1(st, s, "cannot write a cluster", err, errlen);
        }
    }
    if ((r = store_priv_tx_end(st, r, err, errlen)) != STORE_OK)
        return r;
    return get(st, nm, out, err, errlen);
}

/* The token is the last name of the page, in hex: opaque, and any name
 * decodes back. */
static char *token_make(const char *name)
{
    size_t n = strlen(name);
    char *t = malloc(2 * n + 2);
    if (!t)
        abort();
    t[0] = 'c';
    for (size_t i = 0; i < n; i++)
        snprintf(t + 1 + 2 * i, 3, "%02x", (unsigned char)name[i]);
    t[1 + 2 * n] = '\0';
    return t;
}

static int token_parse(const char *tok, char *name)
{
    size_t n = strlen(tok);
    if (n < 3 || tok[0] != 'c' || (n - 1) % 2 || (n - 1) / 2 > STORE_CLUSTER_NAME_MAX)
        return -1;
    for (size_t i = 0; i < (n - 1) / 2; i++) {
        unsigned v;
        if (sscanf(tok + 1 + 2 * i, "%2x", &v) != 1)
            return -1;
        name[i] = (char)v;
    }
    name[(n - 1) / 2] = '\0';
    return valid_name(name) ? 0 : -1;
}

enum store_rc store_cluster_list(struct store *st, int max_results,
                                 const char *next_token, struct store_list *out,
                                 char *err, size_t errlen)
{
    char after[STORE_CLUSTER_NAME_MAX + 1];
    size_t cap = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (max_results < 0 || max_results > STORE_MAX_RESULTS) {
        seterr(err, errlen, "maxResults must be 1-%d, got %d", STORE_MAX_RESULTS,
               max_results);
        return STORE_INVALID;
    }
    int max = max_results ? max_results : STORE_MAX_RESULTS;
    bool has_after = next_token && *next_token;
    if (has_after && token_parse(next_token, after) < 0) {
        seterr(err, errlen, "nextToken is not valid");
        return STORE_INVALID;
    }
    sqlite3_stmt *s = prep(st, "SELECT name FROM cluster WHERE status = 'ACTIVE'"
                               " AND (?1 IS NULL OR name > ?1)"
                               " ORDER BY name LIMIT ?2", err, errlen);
    if (!s)
        return STORE_IO;
    if (has_after)
        sqlite3_bind_text(s, 1, after, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, max + 1);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        if (out->n == (size_t)max) {
            out->next_token = token_make(strrchr(out->items[out->n - 1], '/') + 1);
            break;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            out->items = realloc(out->items, cap * sizeof *out->items);
            if (!out->items)
                abort();
        }
        out->items[out->n++] = cluster_arn(st, name);
    }
    enum store_rc r = STORE_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = store_priv_db_error(st, "cannot list clusters", err, errlen);
        store_list_free(out);
    }
    sqlite3_finalize(s);
    return r;
}

void store_instance_free(struct store_instance *in)
{
    if (!in)
        return;
    free(in->id);
    free(in->cluster);
    free(in->arn);
    memset(in, 0, sizeof *in);
}

enum store_rc store_instance_get(struct store *st, struct store_instance *out, char *err,
                                 size_t errlen)
{
    sqlite3_stmt *s = prep(st, "SELECT key, value FROM meta WHERE key IN"
                               " ('container_instance_id', 'registered_at', 'cluster')",
                           err, errlen);
    int rc;
    memset(out, 0, sizeof *out);
    if (!s)
        return STORE_IO;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(s, 0);
        const char *v = (const char *)sqlite3_column_text(s, 1);
        if (strcmp(k, "container_instance_id") == 0 && !out->id)
            out->id = xstrdup(v);
        else if (strcmp(k, "cluster") == 0 && !out->cluster)
            out->cluster = xstrdup(v);
        else if (strcmp(k, "registered_at") == 0)
            out->registered_at_ms = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        store_instance_free(out);
        return store_priv_db_error(st, "cannot read the container instance", err, errlen);
    }
    if (!out->id) {
        store_instance_free(out);
        seterr(err, errlen, "the database has no container-instance ID");
        return STORE_IO;
    }
    if (out->cluster &&
        asprintf(&out->arn, "arn:aws:ecs:%s:%s:container-instance/%s/%s",
                 store_priv_region(st), store_priv_account(st), out->cluster,
                 out->id) < 0)
        abort();
    return STORE_OK;
}

enum store_rc store_instance_register(struct store *st, const char *cluster, char *err,
                                      size_t errlen)
{
    enum store_rc r = store_cluster_create(st, cluster, NULL, NULL, 0, NULL, NULL, err,
                                           errlen);
    if (r != STORE_OK)
        return r;
    sqlite3_stmt *s = prep(st, "INSERT INTO meta (key, value) VALUES ('cluster', ?1)"
                               " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           err, errlen);
    if (!s)
        return STORE_IO;
    sqlite3_bind_text(s, 1, cluster, -1, SQLITE_STATIC);
    return exec1(st, s, "cannot record the instance's cluster", err, errlen);
}

enum store_rc store_rtags_get(struct store *st, const char *arn,
                              struct store_tags *out, char *err, size_t errlen)
{
    size_t cap = 0;
    int rc;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = prep(st, "SELECT key, value FROM resource_tag WHERE arn = ?1"
                               " ORDER BY rowid", err, errlen);
    if (!s)
        return STORE_IO;
    sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            out->v = realloc(out->v, cap * sizeof *out->v);
            if (!out->v)
                abort();
        }
        out->v[out->n].key = xstrdup((const char *)sqlite3_column_text(s, 0));
        out->v[out->n].value = xstrdup((const char *)sqlite3_column_text(s, 1));
        out->n++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        store_tags_free(out);
        return store_priv_db_error(st, "cannot read tags", err, errlen);
    }
    return STORE_OK;
}

enum store_rc store_rtags_set(struct store *st, const char *arn,
                              const struct store_tag *tags, size_t n, char *err,
                              size_t errlen)
{
    enum store_rc r;
    if ((r = store_tags_check(tags, n, err, errlen)) != STORE_OK)
        return r;
    if ((r = store_priv_tx_begin(st, err, errlen)) != STORE_OK)
        return r;
    r = put_tags(st, arn, tags, n, err, errlen);
    return store_priv_tx_end(st, r, err, errlen);
}

enum store_rc store_rtags_remove(struct store *st, const char *arn,
                                 const char *const *keys, size_t n, char *err,
                                 size_t errlen)
{
    enum store_rc r;
    for (size_t i = 0; i < n; i++)
        if ((r = store_tag_key_check(keys[i], err, errlen)) != STORE_OK)
            return r;
    if ((r = store_priv_tx_begin(st, err, errlen)) != STORE_OK)
        return r;
    for (size_t i = 0; r == STORE_OK && i < n; i++) {
        sqlite3_stmt *s = prep(st, "DELETE FROM resource_tag WHERE arn = ?1"
                                   " AND key = ?2", err, errlen);
        if (!s) {
            r = STORE_IO;
            break;
        }
        sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, keys[i], -1, SQLITE_STATIC);
        r = exec1(st, s, "cannot remove a tag", err, errlen);
    }
    return store_priv_tx_end(st, r, err, errlen);
}
