/* store.c: the desired-state store: task definitions and tags in SQLite (WAL, synchronous=FULL). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent/clock.h"
#include "agent/store.h"
#include "agent/store_priv.h"

/* The agent is the only writer; this only rides out a reader (an operator's
 * sqlite3 shell) holding a lock for a moment, and keeps the loop from ever
 * waiting long on one. */
#define BUSY_TIMEOUT_MS 100
#define FAMILY_MAX 255
#define REVISION_MAX INT32_MAX /* ECS revisions are 32-bit Integers */
#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256

/* Forward migrations: entry i takes user_version i to i + 1.  Never edit a
 * shipped entry; append a new one and bump STORE_SCHEMA_VERSION. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    /* The counter outlives every revision of a family, so revisions keep
     * increasing after deregistration and deletion. */
    "CREATE TABLE td_family ("
    "  family TEXT PRIMARY KEY NOT NULL,"
    "  last_revision INTEGER NOT NULL"
    ");"
    "CREATE TABLE task_definition ("
    "  family TEXT NOT NULL REFERENCES td_family(family),"
    "  revision INTEGER NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),"
    "  registered_at INTEGER NOT NULL,"
    "  deregistered_at INTEGER,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (family, revision)"
    ");"
    "CREATE INDEX task_definition_status"
    "  ON task_definition(status, family, revision);"
    /* A rowid table: rowid order is the order keys were first set. */
    "CREATE TABLE td_tag ("
    "  family TEXT NOT NULL,"
    "  revision INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  UNIQUE (family, revision, key),"
    "  FOREIGN KEY (family, revision)"
    "    REFERENCES task_definition(family, revision) ON DELETE CASCADE"
    ");",
    /* 1 -> 2 */
    /* A task is kept whole as JSON (the agent's own record, see task.h),
     * with the definition it runs copied beside it: deleting a revision
     * must not strand a task that still runs it. */
    "CREATE TABLE task ("
    "  arn TEXT PRIMARY KEY NOT NULL,"
    "  last_status TEXT NOT NULL,"
    "  stopped_at INTEGER,"
    "  json TEXT NOT NULL,"
    "  taskdef_json TEXT NOT NULL"
    ");"
    "CREATE INDEX task_stopped ON task(stopped_at);",
    /* 2 -> 3 */
    /* Clusters: the members ECS echoes (settings, configuration...) are
     * kept as the JSON object the caller gave.  Tags of clusters and of
     * this host's container instance are keyed by ARN.  meta holds this
     * host's container-instance ID, made once here so it never changes. */
    "CREATE TABLE cluster ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),"
    "  created_at INTEGER NOT NULL,"
    "  json TEXT NOT NULL"
    ");"
    "CREATE TABLE resource_tag ("
    "  arn TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  UNIQUE (arn, key)"
    ");"
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL"
    ");"
    "INSERT INTO meta VALUES"
    "  ('container_instance_id', lower(hex(randomblob(16)))),"
    "  ('registered_at',"
    "   CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));",
    /* 3 -> 4 */
    /* A service is kept whole as JSON (service.h: its deployments and its
     * last 100 events inside), with the columns it is found by. */
    "CREATE TABLE service ("
    "  arn TEXT PRIMARY KEY NOT NULL,"
    "  cluster TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DRAINING', 'INACTIVE')),"
    "  updated_at INTEGER NOT NULL,"
    "  json TEXT NOT NULL"
    ");"
    "CREATE INDEX service_name ON service(cluster, name);",
};

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_FAM_GET,
    S_FAM_SET,
    S_TD_INSERT,
    S_TD_GET,
    S_TD_LATEST,
    S_TD_DEREG,
    S_TD_DELETE,
    S_TD_LIST_ASC,
    S_TD_LIST_DESC,
    S_FAM_LIST,
    S_TAG_LIST,
    S_TAG_UPSERT,
    S_TAG_DELETE,
    S_TAG_COUNT,
    S_TASK_PUT,
    S_TASK_LOAD,
    S_TASK_PRUNE,
    S_SVC_PUT,
    S_SVC_LOAD,
    S_SVC_DELETE,
    S_COUNT
};

#define TD_COLS "family, revision, status, registered_at, deregistered_at, json"
/* ?1 family (exact, or NULL), ?2 status (or NULL), ?3/?4 the last row of
 * the previous page (or NULL), ?5 limit. */
#define TD_LIST(cmp, order)                                                  \
    "SELECT family, revision FROM task_definition"                           \
    " WHERE (?1 IS NULL OR family = ?1) AND (?2 IS NULL OR status = ?2)"     \
    "   AND (?3 IS NULL OR (family, revision) " cmp " (?3, ?4))"             \
    " ORDER BY family " order ", revision " order " LIMIT ?5"

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_FAM_GET] = "SELECT last_revision FROM td_family WHERE family = ?1",
    [S_FAM_SET] = "INSERT INTO td_family (family, last_revision) VALUES (?1, ?2)"
                  " ON CONFLICT (family) DO UPDATE"
                  " SET last_revision = excluded.last_revision",
    [S_TD_INSERT] = "INSERT INTO task_definition"
                    " (family, revision, status, registered_at, json)"
                    " VALUES (?1, ?2, 'ACTIVE', ?3, ?4)",
    [S_TD_GET] = "SELECT " TD_COLS " FROM task_definition"
                 " WHERE family = ?1 AND revision = ?2",
    [S_TD_LATEST] = "SELECT " TD_COLS " FROM task_definition"
                    " WHERE family = ?1 AND status = 'ACTIVE'"
                    " ORDER BY revision DESC LIMIT 1",
    [S_TD_DEREG] = "UPDATE task_definition"
                   " SET status = 'INACTIVE', deregistered_at = ?3"
                   " WHERE family = ?1 AND revision = ?2 AND status = 'ACTIVE'",
    [S_TD_DELETE] = "DELETE FROM task_definition"
                    " WHERE family = ?1 AND revision = ?2 AND status = 'INACTIVE'",
    [S_TD_LIST_ASC] = TD_LIST(">", "ASC"),
    [S_TD_LIST_DESC] = TD_LIST("<", "DESC"),
    /* A family whose revisions were all deleted is not listed (as in ECS);
     * ?3 'ACTIVE' wants an ACTIVE revision, 'INACTIVE' wants none. */
    [S_FAM_LIST] =
        "SELECT f.family FROM td_family f"
        " WHERE (?1 IS NULL OR substr(f.family, 1, length(?1)) = ?1)"
        "   AND (?2 IS NULL OR f.family > ?2)"
        "   AND EXISTS (SELECT 1 FROM task_definition t"
        "               WHERE t.family = f.family)"
        "   AND (?3 IS NULL OR (?3 = 'ACTIVE') ="
        "        EXISTS (SELECT 1 FROM task_definition t"
        "                WHERE t.family = f.family AND t.status = 'ACTIVE'))"
        " ORDER BY f.family ASC LIMIT ?4",
    [S_TAG_LIST] = "SELECT key, value FROM td_tag"
                   " WHERE family = ?1 AND revision = ?2 ORDER BY rowid",
    [S_TAG_UPSERT] = "INSERT INTO td_tag (family, revision, key, value)"
                     " VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT (family, revision, key) DO UPDATE"
                     " SET value = excluded.value",
    [S_TAG_DELETE] = "DELETE FROM td_tag"
                     " WHERE family = ?1 AND revision = ?2 AND key = ?3",
    [S_TAG_COUNT] = "SELECT count(*) FROM td_tag"
                    " WHERE family = ?1 AND revision = ?2",
    [S_TASK_PUT] = "INSERT INTO task (arn, last_status, stopped_at, json,"
                   " taskdef_json) VALUES (?1, ?2, ?3, ?4, ?5)"
                   " ON CONFLICT (arn) DO UPDATE SET"
                   " last_status = excluded.last_status,"
                   " stopped_at = excluded.stopped_at, json = excluded.json,"
                   " taskdef_json = excluded.taskdef_json",
    [S_TASK_LOAD] = "SELECT json, taskdef_json FROM task"
                    " WHERE stopped_at IS NULL OR stopped_at >= ?1"
                    " ORDER BY rowid",
    [S_TASK_PRUNE] = "DELETE FROM task WHERE stopped_at < ?1",
    [S_SVC_PUT] = "INSERT INTO service (arn, cluster, name, status, updated_at,"
                  " json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                  " ON CONFLICT (arn) DO UPDATE SET status = excluded.status,"
                  " updated_at = excluded.updated_at, json = excluded.json",
    [S_SVC_LOAD] = "SELECT json FROM service ORDER BY rowid",
    [S_SVC_DELETE] = "DELETE FROM service WHERE arn = ?1",
};

struct store {
    sqlite3 *db;
    char *path;
    char *region;
    char *account;
    sqlite3_stmt *stmt[S_COUNT];
};

/* A parsed reference: revision 0 when only the family was named. */
struct ref {
    char family[FAMILY_MAX + 1];
    int64_t revision;
};

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

static enum store_rc db_error(struct store *st, const char *what, char *err,
                              size_t errlen)
{
    seterr(err, errlen, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
    return STORE_IO;
}

static void done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

const char *store_status_name(enum store_status s)
{
    switch (s) {
    case STORE_ACTIVE:
        return "ACTIVE";
    case STORE_INACTIVE:
        return "INACTIVE";
    case STORE_ALL:
        return "ALL";
    }
    return "?";
}

const char *store_rc_name(enum store_rc rc)
{
    switch (rc) {
    case STORE_OK:
        return "ok";
    case STORE_NOT_FOUND:
        return "not found";
    case STORE_INVALID:
        return "invalid";
    case STORE_CONFLICT:
        return "conflict";
    case STORE_IO:
        return "io";
    }
    return "?";
}

/* ---- transactions ---- */

static enum store_rc tx_begin(struct store *st, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_BEGIN];
    int rc = sqlite3_step(s);
    done(s);
    if (rc != SQLITE_DONE)
        return db_error(st, "cannot begin a transaction", err, errlen);
    return STORE_OK;
}

static void tx_rollback(struct store *st)
{
    sqlite3_stmt *s = st->stmt[S_ROLLBACK];
    /* After some errors SQLite has already rolled back by itself. */
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_step(s);
    done(s);
}

/* The caller's result stands only once this returns STORE_OK: with
 * synchronous=FULL the WAL is on disk by then. */
static enum store_rc tx_commit(struct store *st, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_COMMIT];
    int rc = sqlite3_step(s);
    done(s);
    if (rc != SQLITE_DONE) {
        enum store_rc r = db_error(st, "cannot commit", err, errlen);
        tx_rollback(st);
        return r;
    }
    return STORE_OK;
}

/* Ends a write: commit on success, roll back otherwise. */
static enum store_rc tx_end(struct store *st, enum store_rc r, char *err,
                            size_t errlen)
{
    if (r == STORE_OK)
        return tx_commit(st, err, errlen);
    tx_rollback(st);
    return r;
}

/* ---- names and references ---- */

static int valid_family(const char *s, size_t n)
{
    if (n == 0 || n > FAMILY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Decimal 1..REVISION_MAX, digits only, no leading zero. */
static int parse_revision(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    if (n == 0 || n > 10 || s[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v > REVISION_MAX)
        return 0;
    *out = v;
    return 1;
}

/* "family[:rev]" of length n into r. */
static int parse_family_rev(const char *s, size_t n, struct ref *r)
{
    const char *colon = memchr(s, ':', n);
    size_t fl = colon ? (size_t)(colon - s) : n;
    if (!valid_family(s, fl))
        return 0;
    r->revision = 0;
    if (colon && !parse_revision(colon + 1, n - fl - 1, &r->revision))
        return 0;
    memcpy(r->family, s, fl);
    r->family[fl] = '\0';
    return 1;
}

static enum store_rc parse_ref(struct store *st, const char *ref, int need_rev,
                               struct ref *r, char *err, size_t errlen)
{
    static const char arn_prefix[] = "arn:aws:ecs:";
    static const char res_prefix[] = "task-definition/";
    if (!ref || !*ref) {
        seterr(err, errlen, "taskDefinition is empty");
        return STORE_INVALID;
    }
    if (strncmp(ref, "arn:", 4) == 0) {
        const char *p = ref + strlen(arn_prefix);
        const char *region_end, *account_end;
        if (strncmp(ref, arn_prefix, strlen(arn_prefix)) != 0 ||
            !(region_end = strchr(p, ':')) ||
            !(account_end = strchr(region_end + 1, ':')) ||
            strncmp(account_end + 1, res_prefix, strlen(res_prefix)) != 0 ||
            !parse_family_rev(account_end + 1 + strlen(res_prefix),
                              strlen(account_end + 1 + strlen(res_prefix)), r)) {
            seterr(err, errlen, "%.300s is not a valid task definition ARN",
                   ref);
            return STORE_INVALID;
        }
        /* Another region's or account's ARN is well formed but names
         * nothing this host holds. */
        size_t rl = (size_t)(region_end - p);
        size_t al = (size_t)(account_end - region_end - 1);
        if (rl != strlen(st->region) || memcmp(p, st->region, rl) != 0 ||
            al != strlen(st->account) ||
            memcmp(region_end + 1, st->account, al) != 0) {
            seterr(err, errlen, "task definition %.300s does not exist", ref);
            return STORE_NOT_FOUND;
        }
    } else if (!parse_family_rev(ref, strlen(ref), r)) {
        seterr(err, errlen,
               "%.300s is not a valid task definition: expected family, "
               "family:revision or an ARN (family: 1-255 letters, digits, "
               "'_' or '-'; revision: a positive integer)",
               ref);
        return STORE_INVALID;
    }
    if (need_rev && r->revision == 0) {
        seterr(err, errlen,
               "task definition %.300s must name a revision "
               "(family:revision or an ARN)",
               ref);
        return STORE_INVALID;
    }
    return STORE_OK;
}

static char *make_arn(const struct store *st, const char *family, int64_t rev)
{
    char *s;
    if (asprintf(&s, "arn:aws:ecs:%s:%s:task-definition/%s:%lld", st->region,
                 st->account, family, (long long)rev) < 0)
        abort();
    return s;
}

/* ---- rows ---- */

static void read_td(struct store *st, sqlite3_stmt *s, struct store_taskdef *out)
{
    const char *status = (const char *)sqlite3_column_text(s, 2);
    out->family = xstrdup((const char *)sqlite3_column_text(s, 0));
    out->revision = sqlite3_column_int64(s, 1);
    out->status = status && strcmp(status, "ACTIVE") == 0 ? STORE_ACTIVE
                                                          : STORE_INACTIVE;
    out->registered_at_ms = sqlite3_column_int64(s, 3);
    out->deregistered_at_ms = sqlite3_column_int64(s, 4); /* NULL reads 0 */
    out->json = xstrdup((const char *)sqlite3_column_text(s, 5));
    out->arn = make_arn(st, out->family, out->revision);
}

/* Looks up r (latest ACTIVE when r has no revision); out may be NULL to
 * test existence.  ref is the caller's text, for the message. */
static enum store_rc get_td(struct store *st, const struct ref *r,
                            const char *ref, struct store_taskdef *out,
                            char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[r->revision ? S_TD_GET : S_TD_LATEST];
    sqlite3_bind_text(s, 1, r->family, -1, SQLITE_STATIC);
    if (r->revision)
        sqlite3_bind_int64(s, 2, r->revision);
    int rc = sqlite3_step(s);
    enum store_rc ret = STORE_OK;
    if (rc == SQLITE_ROW) {
        if (out)
            read_td(st, s, out);
    } else if (rc == SQLITE_DONE) {
        if (r->revision)
            seterr(err, errlen, "task definition %.300s does not exist", ref);
        else
            seterr(err, errlen,
                   "task definition family %.300s has no ACTIVE revision",
                   ref);
        ret = STORE_NOT_FOUND;
    } else {
        ret = db_error(st, "cannot read a task definition", err, errlen);
    }
    done(s);
    return ret;
}

void store_taskdef_free(struct store_taskdef *td)
{
    if (!td)
        return;
    free(td->arn);
    free(td->family);
    free(td->json);
    memset(td, 0, sizeof(*td));
}

void store_tags_free(struct store_tags *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].value);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

void store_list_free(struct store_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    free(l->next_token);
    memset(l, 0, sizeof(*l));
}

/* ---- tags ---- */

/* Characters in s when it is valid UTF-8 (no overlongs, surrogates or
 * values past U+10FFFF), else -1. */
static long utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        unsigned c = *p;
        int extra;
        uint32_t cp, min;
        if (c < 0x80) {
            p++;
            n++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return -1;
        }
        for (int i = 1; i <= extra; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        p += extra + 1;
        n++;
    }
    return n;
}

/* The model's pattern is [\p{L}\p{Z}\p{N}_.:/=+\-@]*.  ASCII is checked
 * exactly; beyond ASCII any character is taken (classifying it would need
 * Unicode tables the agent does not carry). */
static int tag_chars_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned c = *p;
        if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr(" _.:/=+-@", (int)c))
            continue;
        return 0;
    }
    return 1;
}

static int reserved(const char *s)
{
    return strncasecmp(s, "aws:", 4) == 0;
}

/* Checks one tag key; the message names the key but never a value. */
static enum store_rc check_key(const char *key, char *err, size_t errlen)
{
    long n = key ? utf8_chars(key) : -1;
    if (n < 0) {
        seterr(err, errlen, "tag key is missing or not valid UTF-8");
        return STORE_INVALID;
    }
    if (n < 1 || n > TAG_KEY_MAX) {
        seterr(err, errlen, "tag key \"%.140s\" has %ld characters: "
               "expected 1-%d", key, n, TAG_KEY_MAX);
        return STORE_INVALID;
    }
    if (!tag_chars_ok(key)) {
        seterr(err, errlen, "tag key \"%.140s\" may hold only letters, "
               "digits, spaces and _ . : / = + - @", key);
        return STORE_INVALID;
    }
    if (reserved(key)) {
        seterr(err, errlen, "tag key \"%.140s\": the aws: prefix is "
               "reserved for AWS use", key);
        return STORE_INVALID;
    }
    return STORE_OK;
}

static enum store_rc check_tags(const struct store_tag *tags, size_t n,
                                char *err, size_t errlen)
{
    if (n > STORE_MAX_TAGS) {
        seterr(err, errlen, "too many tags: %zu (at most %d)", n,
               STORE_MAX_TAGS);
        return STORE_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const char *key = tags[i].key, *value = tags[i].value;
        enum store_rc r = check_key(key, err, errlen);
        if (r != STORE_OK)
            return r;
        long vn = utf8_chars(value ? value : "");
        if (vn < 0 || vn > TAG_VALUE_MAX || !tag_chars_ok(value ? value : "")) {
            seterr(err, errlen, "value of tag \"%.140s\" is not valid: "
                   "0-%d letters, digits, spaces and _ . : / = + - @",
                   key, TAG_VALUE_MAX);
            return STORE_INVALID;
        }
        if (value && reserved(value)) {
            seterr(err, errlen, "value of tag \"%.140s\": the aws: prefix is "
                   "reserved for AWS use", key);
            return STORE_INVALID;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(tags[j].key, key) == 0) {
                seterr(err, errlen, "tag key \"%.140s\" is given twice", key);
                return STORE_INVALID;
            }
        }
    }
    return STORE_OK;
}

/* Inside a transaction: upserts tags on (family, rev), then checks the
 * total against the limit. */
static enum store_rc put_tags(struct store *st, const char *family, int64_t rev,
                              const struct store_tag *tags, size_t n,
                              char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_TAG_UPSERT];
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(s, 1, family, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, rev);
        sqlite3_bind_text(s, 3, tags[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, tags[i].value ? tags[i].value : "", -1,
                          SQLITE_STATIC);
        int rc = sqlite3_step(s);
        done(s);
        if (rc != SQLITE_DONE)
            return db_error(st, "cannot write a tag", err, errlen);
    }
    s = st->stmt[S_TAG_COUNT];
    sqlite3_bind_text(s, 1, family, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, rev);
    int rc = sqlite3_step(s);
    int64_t total = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    done(s);
    if (rc != SQLITE_ROW)
        return db_error(st, "cannot count tags", err, errlen);
    if (total > STORE_MAX_TAGS) {
        seterr(err, errlen, "too many tags on %s:%lld: %lld (at most %d)",
               family, (long long)rev, (long long)total, STORE_MAX_TAGS);
        return STORE_INVALID;
    }
    return STORE_OK;
}

/* ---- opening ---- */

/* mkdir -p of path's parent, missing parts made 0750. */
static int make_parent(const char *path, char *err, size_t errlen)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    int ret = 0;
    if (!slash || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            seterr(err, errlen, "%s: cannot create folder %s: %s", path, dir,
                   strerror(errno));
            ret = -1;
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(dir);
    return ret;
}

static int exec_sql(struct store *st, const char *sql)
{
    return sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

/* The single integer or text a PRAGMA answers, via sqlite3_exec's callback. */
struct pragma_answer {
    char text[32];
    int seen;
};

static int pragma_cb(void *arg, int n, char **vals, char **names)
{
    struct pragma_answer *a = arg;
    (void)names;
    if (n > 0 && vals[0] && !a->seen) {
        snprintf(a->text, sizeof(a->text), "%s", vals[0]);
        a->seen = 1;
    }
    return 0;
}

static int pragma(struct store *st, const char *sql, struct pragma_answer *a)
{
    memset(a, 0, sizeof(*a));
    return sqlite3_exec(st->db, sql, pragma_cb, a, NULL);
}

static enum store_rc migrate(struct store *st, int from, char *err,
                             size_t errlen)
{
    for (int v = from; v < STORE_SCHEMA_VERSION; v++) {
        char set[64];
        snprintf(set, sizeof(set), "PRAGMA user_version = %d", v + 1);
        /* user_version is in the header page, so it commits (or not)
         * together with the schema change. */
        if (exec_sql(st, "BEGIN IMMEDIATE") != SQLITE_OK)
            return db_error(st, "cannot begin a migration", err, errlen);
        if (exec_sql(st, migrations[v]) != SQLITE_OK ||
            exec_sql(st, set) != SQLITE_OK) {
            char what[64];
            snprintf(what, sizeof(what), "cannot migrate schema %d to %d", v,
                     v + 1);
            enum store_rc r = db_error(st, what, err, errlen);
            exec_sql(st, "ROLLBACK");
            return r;
        }
        if (exec_sql(st, "COMMIT") != SQLITE_OK) {
            enum store_rc r = db_error(st, "cannot commit a migration", err,
                                       errlen);
            exec_sql(st, "ROLLBACK");
            return r;
        }
    }
    return STORE_OK;
}

static enum store_rc open_db(struct store *st, char *err, size_t errlen)
{
    struct pragma_answer a;
    int rc;

    /* Made here rather than by SQLite so that it is 0600: the JSON may
     * hold secrets, and the -wal and -shm files take the same mode.
     * O_EXCL: an existing file is never truncated or changed. */
    int fd = open(st->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
    } else if (errno != EEXIST) {
        seterr(err, errlen, "%s: cannot create the database: %s", st->path,
               strerror(errno));
        return STORE_IO;
    }

    rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        if (st->db)
            return db_error(st, "cannot open the database", err, errlen);
        seterr(err, errlen, "%s: cannot open the database: %s", st->path,
               sqlite3_errstr(rc));
        return STORE_IO;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);

    /* Read-only checks first: a file that is not a database, or one from a
     * newer berthd, must be left exactly as it is. */
    rc = pragma(st, "PRAGMA user_version", &a);
    if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
        seterr(err, errlen, "%s: not an SQLite database, or a corrupt one "
               "(%s); refusing to use it and leaving it untouched",
               st->path, sqlite3_errmsg(st->db));
        return STORE_IO;
    }
    if (rc != SQLITE_OK)
        return db_error(st, "cannot read the schema version", err, errlen);
    int version = atoi(a.text);
    if (version > STORE_SCHEMA_VERSION || version < 0) {
        seterr(err, errlen, "%s: schema version %d is newer than this berthd "
               "knows (%d); refusing to open it so that state written by a "
               "newer berthd is not damaged (run that berthd, or restore a "
               "backup)", st->path, version, STORE_SCHEMA_VERSION);
        return STORE_IO;
    }
    if (version > 0) {
        /* Catches damage now, naming the file, rather than midway through
         * some later request.  Desired state is small, so this is quick. */
        rc = pragma(st, "PRAGMA quick_check", &a);
        if (rc != SQLITE_OK || strcmp(a.text, "ok") != 0) {
            seterr(err, errlen, "%s: the database is corrupt (%s); refusing "
                   "to use it and leaving it untouched", st->path,
                   rc != SQLITE_OK ? sqlite3_errmsg(st->db) : a.text);
            return STORE_IO;
        }
    }

    rc = pragma(st, "PRAGMA journal_mode = WAL", &a);
    if (rc != SQLITE_OK)
        return db_error(st, "cannot set journal_mode=WAL", err, errlen);
    if (strcasecmp(a.text, "wal") != 0) {
        seterr(err, errlen, "%s: journal_mode is %s, not wal (is the file "
               "on a file system without shared memory?)", st->path, a.text);
        return STORE_IO;
    }
    /* FULL: the WAL is synced at every COMMIT, so a write is durable
     * before it is acknowledged. */
    if (exec_sql(st, "PRAGMA synchronous = FULL") != SQLITE_OK ||
        exec_sql(st, "PRAGMA foreign_keys = ON") != SQLITE_OK)
        return db_error(st, "cannot set pragmas", err, errlen);

    enum store_rc r = migrate(st, version, err, errlen);
    if (r != STORE_OK)
        return r;

    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK)
            return db_error(st, "cannot prepare a statement", err, errlen);
    }
    return STORE_OK;
}

enum store_rc store_open(const char *path, const char *region,
                         const char *account_id, struct store **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    if (!path || !*path || !region || !*region || !account_id ||
        !*account_id) {
        seterr(err, errlen, "store_open: path, region and account are "
               "required");
        return STORE_INVALID;
    }
    if (make_parent(path, err, errlen) != 0)
        return STORE_IO;
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        abort();
    st->path = xstrdup(path);
    st->region = xstrdup(region);
    st->account = xstrdup(account_id);
    enum store_rc r = open_db(st, err, errlen);
    if (r != STORE_OK) {
        store_close(st);
        return r;
    }
    *out = st;
    return STORE_OK;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->path);
    free(st->region);
    free(st->account);
    free(st);
}

/* ---- task definitions ---- */

enum store_rc store_td_register(struct store *st, const char *family,
                                const char *json, const struct store_tag *tags,
                                size_t n_tags, struct store_taskdef *out,
                                char *err, size_t errlen)
{
    enum store_rc r;
    if (out)
        memset(out, 0, sizeof(*out));
    if (!family || !valid_family(family, strlen(family))) {
        seterr(err, errlen, "family \"%.300s\" is not valid: expected 1-255 "
               "letters, digits, '_' or '-'", family ? family : "");
        return STORE_INVALID;
    }
    size_t jl = json ? strlen(json) : 0;
    if (jl == 0 || jl > STORE_MAX_JSON) {
        seterr(err, errlen, "task definition %s: its JSON is %s (at most %d "
               "bytes)", family, jl ? "too large" : "empty", STORE_MAX_JSON);
        return STORE_INVALID;
    }
    if ((r = check_tags(tags, n_tags, err, errlen)) != STORE_OK)
        return r;
    if ((r = tx_begin(st, err, errlen)) != STORE_OK)
        return r;

    sqlite3_stmt *s = st->stmt[S_FAM_GET];
    sqlite3_bind_text(s, 1, family, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    done(s);
    int64_t rev = last + 1;
    int64_t now = clock_wall_ms();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = db_error(st, "cannot read the family", err, errlen);
    } else if (last >= REVISION_MAX) {
        seterr(err, errlen, "family %s has used every revision number",
               family);
        r = STORE_CONFLICT;
    }
    if (r == STORE_OK) {
        s = st->stmt[S_FAM_SET];
        sqlite3_bind_text(s, 1, family, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, rev);
        rc = sqlite3_step(s);
        done(s);
        if (rc != SQLITE_DONE)
            r = db_error(st, "cannot write the family", err, errlen);
    }
    if (r == STORE_OK) {
        s = st->stmt[S_TD_INSERT];
        sqlite3_bind_text(s, 1, family, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, rev);
        sqlite3_bind_int64(s, 3, now);
        sqlite3_bind_text(s, 4, json, (int)jl, SQLITE_STATIC);
        rc = sqlite3_step(s);
        done(s);
        if (rc != SQLITE_DONE)
            r = db_error(st, "cannot write the task definition", err, errlen);
    }
    if (r == STORE_OK)
        r = put_tags(st, family, rev, tags, n_tags, err, errlen);
    r = tx_end(st, r, err, errlen);
    if (r == STORE_OK && out) {
        out->family = xstrdup(family);
        out->revision = rev;
        out->status = STORE_ACTIVE;
        out->registered_at_ms = now;
        out->json = xstrdup(json);
        out->arn = make_arn(st, family, rev);
    }
    return r;
}

enum store_rc store_td_deregister(struct store *st, const char *ref,
                                  struct store_taskdef *out, char *err,
                                  size_t errlen)
{
    struct ref r;
    enum store_rc ret;
    struct store_taskdef td = {0};
    if (out)
        memset(out, 0, sizeof(*out));
    if ((ret = parse_ref(st, ref, 1, &r, err, errlen)) != STORE_OK)
        return ret;
    if ((ret = tx_begin(st, err, errlen)) != STORE_OK)
        return ret;
    ret = get_td(st, &r, ref, &td, err, errlen);
    /* Already INACTIVE: nothing to do, and deregisteredAt keeps the time it
     * was first deregistered. */
    if (ret == STORE_OK && td.status == STORE_ACTIVE) {
        sqlite3_stmt *s = st->stmt[S_TD_DEREG];
        int64_t now = clock_wall_ms();
        sqlite3_bind_text(s, 1, r.family, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, r.revision);
        sqlite3_bind_int64(s, 3, now);
        int rc = sqlite3_step(s);
        done(s);
        if (rc != SQLITE_DONE) {
            ret = db_error(st, "cannot deregister", err, errlen);
        } else {
            td.status = STORE_INACTIVE;
            td.deregistered_at_ms = now;
        }
    }
    ret = tx_end(st, ret, err, errlen);
    if (ret == STORE_OK && out)
        *out = td;
    else
        store_taskdef_free(&td);
    return ret;
}

enum store_rc store_td_describe(struct store *st, const char *ref,
                                struct store_taskdef *out, char *err,
                                size_t errlen)
{
    struct ref r;
    enum store_rc ret;
    memset(out, 0, sizeof(*out));
    if ((ret = parse_ref(st, ref, 0, &r, err, errlen)) != STORE_OK)
        return ret;
    return get_td(st, &r, ref, out, err, errlen);
}

enum store_rc store_td_delete(struct store *st, const char *ref,
                              struct store_taskdef *out, char *err,
                              size_t errlen)
{
    struct ref r;
    enum store_rc ret;
    struct store_taskdef td = {0};
    if (out)
        memset(out, 0, sizeof(*out));
    if ((ret = parse_ref(st, ref, 1, &r, err, errlen)) != STORE_OK)
        return ret;
    if ((ret = tx_begin(st, err, errlen)) != STORE_OK)
        return ret;
    ret = get_td(st, &r, ref, &td, err, errlen);
    if (ret == STORE_OK && td.status == STORE_ACTIVE) {
        seterr(err, errlen, "task definition %s:%lld is ACTIVE: only an "
               "INACTIVE one can be deleted (deregister it first)", r.family,
               (long long)r.revision);
        ret = STORE_CONFLICT;
    }
    if (ret == STORE_OK) {
        /* Its tags go with it (ON DELETE CASCADE); the family's counter
         * stays, so the revision number is never reused. */
        sqlite3_stmt *s = st->stmt[S_TD_DELETE];
        sqlite3_bind_text(s, 1, r.family, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, r.revision);
        int rc = sqlite3_step(s);
        done(s);
        if (rc != SQLITE_DONE)
            ret = db_error(st, "cannot delete", err, errlen);
    }
    ret = tx_end(st, ret, err, errlen);
    if (ret == STORE_OK && out)
        *out = td;
    else
        store_taskdef_free(&td);
    return ret;
}

/* ---- pagination ---- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* URL-safe base64 without padding: the token needs no escaping anywhere. */
static char *b64_encode(const char *in, size_t n)
{
    char *out = malloc(n / 3 * 4 + 5);
    size_t o = 0;
    if (!out)
        abort();
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
    return out;
}

/* Decodes into out (size outsz, NUL-terminated); -1 on any bad input,
 * including non-zero spare bits, so each token has exactly one spelling. */
static int b64_decode(const char *in, char *out, size_t outsz)
{
    size_t n = strlen(in), o = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *p = in[i] ? strchr(b64, in[i]) : NULL;
        if (!p)
            return -1;
        acc = (acc << 6) | (uint32_t)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= outsz)
                return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (acc & ((1u << bits) - 1))
        return -1;
    out[o] = '\0';
    return memchr(out, '\0', o) ? -1 : 0;
}

/* Tokens: "T|A|rev|family" / "T|D|rev|family" for task definitions (the
 * last row seen and the sort it was seen in), "F|family" for families. */
static char *token_make(char kind, int desc, const char *family, int64_t rev)
{
    char buf[FAMILY_MAX + 32];
    int n;
    if (kind == 'T')
        n = snprintf(buf, sizeof(buf), "T|%c|%lld|%s", desc ? 'D' : 'A',
                     (long long)rev, family);
    else
        n = snprintf(buf, sizeof(buf), "F|%s", family);
    return b64_encode(buf, (size_t)n);
}

static enum store_rc token_parse(const char *tok, char kind, int desc,
                                 struct ref *last, char *err, size_t errlen)
{
    char buf[FAMILY_MAX + 32];
    const char *p = buf;
    if (strlen(tok) > 4 * sizeof(buf) / 3 || b64_decode(tok, buf, sizeof(buf)))
        goto bad;
    if (p[0] != kind || p[1] != '|')
        goto bad;
    p += 2;
    last->revision = 0;
    if (kind == 'T') {
        const char *bar;
        if (p[0] != (desc ? 'D' : 'A') || p[1] != '|')
            goto bad;
        p += 2;
        if (!(bar = strchr(p, '|')) ||
            !parse_revision(p, (size_t)(bar - p), &last->revision))
            goto bad;
        p = bar + 1;
    }
    size_t fl = strlen(p);
    if (!valid_family(p, fl)) /* which also bounds fl by FAMILY_MAX */
        goto bad;
    memcpy(last->family, p, fl + 1);
    return STORE_OK;
bad:
    seterr(err, errlen, "nextToken is not valid");
    return STORE_INVALID;
}

static enum store_rc check_max(const struct store_list_opts *o, int *max,
                               char *err, size_t errlen)
{
    *max = o->max_results ? o->max_results : STORE_MAX_RESULTS;
    if (*max < 1 || *max > STORE_MAX_RESULTS) {
        seterr(err, errlen, "maxResults must be between 1 and %d, got %d",
               STORE_MAX_RESULTS, o->max_results);
        return STORE_INVALID;
    }
    return STORE_OK;
}

static const char *status_filter(enum store_status s)
{
    return s == STORE_ALL ? NULL : store_status_name(s);
}

static void list_push(struct store_list *l, char *item, size_t *cap)
{
    if (l->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        l->items = realloc(l->items, *cap * sizeof(*l->items));
        if (!l->items)
            abort();
    }
    l->items[l->n++] = item;
}

enum store_rc store_td_list(struct store *st, const struct store_list_opts *o,
                            struct store_list *out, char *err, size_t errlen)
{
    struct ref last = {.revision = 0}, end = {.revision = 0};
    enum store_rc ret;
    int max, rc;
    size_t cap = 0;
    memset(out, 0, sizeof(*out));
    if ((ret = check_max(o, &max, err, errlen)) != STORE_OK)
        return ret;
    int have_token = o->next_token && *o->next_token;
    if (have_token && (ret = token_parse(o->next_token, 'T', o->desc, &last,
                                         err, errlen)) != STORE_OK)
        return ret;

    sqlite3_stmt *s = st->stmt[o->desc ? S_TD_LIST_DESC : S_TD_LIST_ASC];
    const char *fam = o->family_prefix && *o->family_prefix ? o->family_prefix
                                                            : NULL;
    const char *status = status_filter(o->status);
    if (fam)
        sqlite3_bind_text(s, 1, fam, -1, SQLITE_STATIC);
    if (status)
        sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    if (have_token) {
        sqlite3_bind_text(s, 3, last.family, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, last.revision);
    }
    /* One row more than asked tells whether another page follows. */
    sqlite3_bind_int(s, 5, max + 1);
    int more = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == (size_t)max) {
            more = 1;
            break;
        }
        const char *f = (const char *)sqlite3_column_text(s, 0);
        int64_t rev = sqlite3_column_int64(s, 1);
        list_push(out, make_arn(st, f, rev), &cap);
        /* Not into last: ?3 is bound to it while the query runs. */
        if (out->n == (size_t)max) {
            snprintf(end.family, sizeof(end.family), "%s", f);
            end.revision = rev;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ret = db_error(st, "cannot list task definitions", err, errlen);
        done(s);
        store_list_free(out);
        return ret;
    }
    done(s);
    if (more)
        out->next_token = token_make('T', o->desc, end.family, end.revision);
    return STORE_OK;
}

enum store_rc store_td_families(struct store *st,
                                const struct store_list_opts *o,
                                struct store_list *out, char *err,
                                size_t errlen)
{
    struct ref last = {.revision = 0};
    enum store_rc ret;
    int max, rc;
    size_t cap = 0;
    memset(out, 0, sizeof(*out));
    if ((ret = check_max(o, &max, err, errlen)) != STORE_OK)
        return ret;
    int have_token = o->next_token && *o->next_token;
    if (have_token && (ret = token_parse(o->next_token, 'F', 0, &last, err,
                                         errlen)) != STORE_OK)
        return ret;

    sqlite3_stmt *s = st->stmt[S_FAM_LIST];
    const char *status = status_filter(o->status);
    if (o->family_prefix && *o->family_prefix)
        sqlite3_bind_text(s, 1, o->family_prefix, -1, SQLITE_STATIC);
    if (have_token)
        sqlite3_bind_text(s, 2, last.family, -1, SQLITE_STATIC);
    if (status)
        sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, max + 1);
    int more = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == (size_t)max) {
            more = 1;
            break;
        }
        list_push(out, xstrdup((const char *)sqlite3_column_text(s, 0)), &cap);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ret = db_error(st, "cannot list families", err, errlen);
        done(s);
        store_list_free(out);
        return ret;
    }
    done(s);
    if (more)
        out->next_token = token_make('F', 0, out->items[out->n - 1], 0);
    return STORE_OK;
}

/* ---- tag calls ---- */

enum store_rc store_tags_get(struct store *st, const char *ref,
                             struct store_tags *out, char *err, size_t errlen)
{
    struct ref r;
    enum store_rc ret;
    size_t cap = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((ret = parse_ref(st, ref, 1, &r, err, errlen)) != STORE_OK)
        return ret;
    if ((ret = get_td(st, &r, ref, NULL, err, errlen)) != STORE_OK)
        return ret;
    sqlite3_stmt *s = st->stmt[S_TAG_LIST];
    sqlite3_bind_text(s, 1, r.family, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, r.revision);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            out->v = realloc(out->v, cap * sizeof(*out->v));
            if (!out->v)
                abort();
        }
        out->v[out->n].key = xstrdup((const char *)sqlite3_column_text(s, 0));
        out->v[out->n].value =
            xstrdup((const char *)sqlite3_column_text(s, 1));
        out->n++;
    }
    if (rc != SQLITE_DONE) {
        ret = db_error(st, "cannot read tags", err, errlen);
        store_tags_free(out);
    }
    done(s);
    return ret;
}

enum store_rc store_tags_set(struct store *st, const char *ref,
                             const struct store_tag *tags, size_t n,
                             char *err, size_t errlen)
{
    struct ref r;
    enum store_rc ret;
    if ((ret = parse_ref(st, ref, 1, &r, err, errlen)) != STORE_OK)
        return ret;
    if ((ret = check_tags(tags, n, err, errlen)) != STORE_OK)
        return ret;
    if ((ret = tx_begin(st, err, errlen)) != STORE_OK)
        return ret;
    ret = get_td(st, &r, ref, NULL, err, errlen);
    if (ret == STORE_OK)
        ret = put_tags(st, r.family, r.revision, tags, n, err, errlen);
    return tx_end(st, ret, err, errlen);
}

enum store_rc store_tags_remove(struct store *st, const char *ref,
                                const char *const *keys, size_t n, char *err,
                                size_t errlen)
{
    struct ref r;
    enum store_rc ret;
    if ((ret = parse_ref(st, ref, 1, &r, err, errlen)) != STORE_OK)
        return ret;
    /* aws: tags cannot be edited or deleted; check_key says so. */
    for (size_t i = 0; i < n; i++)
        if ((ret = check_key(keys[i], err, errlen)) != STORE_OK)
            return ret;
    if ((ret = tx_begin(st, err, errlen)) != STORE_OK)
        return ret;
    ret = get_td(st, &r, ref, NULL, err, errlen);
    sqlite3_stmt *s = st->stmt[S_TAG_DELETE];
    for (size_t i = 0; ret == STORE_OK && i < n; i++) {
        sqlite3_bind_text(s, 1, r.family, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, r.revision);
        sqlite3_bind_text(s, 3, keys[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        done(s);
        if (rc != SQLITE_DONE)
            ret = db_error(st, "cannot remove a tag", err, errlen);
    }
    return tx_end(st, ret, err, errlen);
}

/* ---- tasks ---- */

enum store_rc store_task_put(struct store *st, const char *arn,
                             const char *last_status, int64_t stopped_at_ms,
                             const char *json, const char *taskdef_json,
                             char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_TASK_PUT];
    enum store_rc r = tx_begin(st, err, errlen);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, last_status, -1, SQLITE_STATIC);
    if (stopped_at_ms > 0)
        sqlite3_bind_int64(s, 3, stopped_at_ms);
    else
        sqlite3_bind_null(s, 3);
    sqlite3_bind_text(s, 4, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, taskdef_json, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        r = db_error(st, "cannot save a task", err, errlen);
    done(s);
    return tx_end(st, r, err, errlen);
}

enum store_rc store_task_load(struct store *st, int64_t stopped_since_ms,
                              void (*cb)(void *arg, const char *json,
                                         const char *taskdef_json),
                              void *arg, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_TASK_LOAD];
    enum store_rc r = STORE_OK;
    int rc;

    sqlite3_bind_int64(s, 1, stopped_since_ms);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        cb(arg, (const char *)sqlite3_column_text(s, 0),
           (const char *)sqlite3_column_text(s, 1));
    if (rc != SQLITE_DONE)
        r = db_error(st, "cannot read the tasks", err, errlen);
    done(s);
    return r;
}

enum store_rc store_task_prune(struct store *st, int64_t stopped_before_ms,
                               char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_TASK_PRUNE];
    enum store_rc r = tx_begin(st, err, errlen);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_int64(s, 1, stopped_before_ms);
    if (sqlite3_step(s) != SQLITE_DONE)
        r = db_error(st, "cannot delete old tasks", err, errlen);
    done(s);
    return tx_end(st, r, err, errlen);
}

/* ---- for the other store_*.c files (store_priv.h) ---- */

sqlite3 *store_priv_db(struct store *st)
{
    return st->db;
}

const char *store_priv_region(const struct store *st)
{
    return st->region;
}

const char *store_priv_account(const struct store *st)
{
    return st->account;
}

enum store_rc store_priv_db_error(struct store *st, const char *what, char *err,
                                  size_t errlen)
{
    return db_error(st, what, err, errlen);
}

enum store_rc store_priv_tx_begin(struct store *st, char *err, size_t errlen)
{
    return tx_begin(st, err, errlen);
}

enum store_rc store_priv_tx_end(struct store *st, enum store_rc r, char *err,
                                size_t errlen)
{
    return tx_end(st, r, err, errlen);
}

enum store_rc store_tags_check(const struct store_tag *tags, size_t n,
                                    char *err, size_t errlen)
{
    return check_tags(tags, n, err, errlen);
}

enum store_rc store_tag_key_check(const char *key, char *err, size_t errlen)
{
    return check_key(key, err, errlen);
}


/* ---- services ---- */

enum store_rc store_service_put(struct store *st, const char *arn,
                                const char *cluster, const char *name,
                                const char *status, const char *json, char *err,
                                size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_SVC_PUT];
    enum store_rc r = tx_begin(st, err, errlen);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, cluster, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, clock_wall_ms());
    sqlite3_bind_text(s, 6, json, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        r = db_error(st, "cannot save a service", err, errlen);
    done(s);
    return tx_end(st, r, err, errlen);
}

enum store_rc store_service_load(struct store *st,
                                 void (*cb)(void *arg, const char *json), void *arg,
                                 char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_SVC_LOAD];
    enum store_rc r = STORE_OK;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        cb(arg, (const char *)sqlite3_column_text(s, 0));
    if (rc != SQLITE_DONE)
        r = db_error(st, "cannot read the services", err, errlen);
    done(s);
    return r;
}

enum store_rc store_service_delete(struct store *st, const char *arn, char *err,
                                   size_t errlen)
{
    sqlite3_stmt *s = st->stmt[S_SVC_DELETE];
    enum store_rc r = tx_begin(st, err, errlen);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_text(s, 1, arn, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        r = db_error(st, "cannot delete a service", err, errlen);
    done(s);
    return tx_end(st, r, err, errlen);
}
