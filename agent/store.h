/* store.h: the durable desired state (task definitions and their tags,
 * tasks, services), in SQLite.  Clusters, this host's container-instance
 * identity and tags kept by ARN are in the same database: store_clusters.h.
 *
 * Contract
 *   - Single-threaded: only the control loop calls in.  The agent is the
 *     only writer of the database; a short busy timeout only rides out a
 *     reader (an operator's sqlite3 shell) holding a lock for a moment.
 *   - Every write is one transaction and a function that writes returns
 *     only after COMMIT, with journal_mode=WAL and synchronous=FULL: what a
 *     call reports done survives a crash or kill -9 of the agent.  This is
 *     what lets the API acknowledge a request only once it is durable.
 *   - Statements are prepared once at store_open() and cached; each write
 *     touches a handful of rows, so the loop is never blocked for long.
 *   - Task definitions are kept as the normalised JSON text the caller
 *     gives (the store neither parses nor logs it: it may hold secrets)
 *     plus the columns it indexes: family, revision, status and times.
 *   - The schema version lives in PRAGMA user_version and is migrated
 *     forward in code; a database from a newer berthd is refused, never
 *     rewritten, and a file that is not a database is never touched.
 *
 * Errors: every function returns an enum store_rc and, unless STORE_OK,
 * writes one line to err (errlen bytes; err may be NULL) saying what was
 * wrong, e.g. "task definition web:7 does not exist" or "nextToken is not
 * valid".  Messages never quote JSON.
 *
 * References ("ref") name a task definition the ways ECS takes them:
 *   "family"        the latest ACTIVE revision (describe only)
 *   "family:rev"    one revision
 *   "arn:aws:ecs:REGION:ACCOUNT:task-definition/family:rev"
 * An ARN whose region or account is not this store's is STORE_NOT_FOUND;
 * a ref that is not well formed is STORE_INVALID.
 *
 * ECS semantics kept here (botocore's ECS model is the spec):
 *   - A new revision is 1 + the highest revision the family ever had, also
 *     after deregistration and deletion (a per-family counter is kept).
 *   - Deregistering an INACTIVE revision succeeds and changes nothing.
 *   - Only INACTIVE revisions can be deleted (STORE_CONFLICT otherwise);
 *     ECS's DELETE_IN_PROGRESS is skipped: the row goes at once, with its
 *     tags, but the family's counter stays.
 *   - Listing task definitions: familyPrefix is the full family name (as
 *     ECS documents it), ordered by family then revision, ASC or DESC.
 *     Listing families: familyPrefix is a prefix; families whose every
 *     revision was deleted are not listed.
 *   - Pages: max_results 1-100 (0 means 100); next_token is opaque. */
#ifndef BERTH_STORE_H
#define BERTH_STORE_H

#include <stddef.h>
#include <stdint.h>

enum store_rc {
    STORE_OK = 0,
    STORE_NOT_FOUND, /* no such task definition (or family) */
    STORE_INVALID,   /* a parameter is not valid: ref, tag, token, limit */
    STORE_CONFLICT,  /* valid, but the current state forbids it */
    STORE_IO,        /* the database failed: disk, corruption, version */
};

/* Status of a revision, and the status filter of the list calls. */
enum store_status {
    STORE_ACTIVE = 0,
    STORE_INACTIVE,
    STORE_ALL, /* filter only */
};

#define STORE_SCHEMA_VERSION 4
#define STORE_MAX_RESULTS 100
#define STORE_MAX_TAGS 50
#define STORE_MAX_JSON (1024 * 1024)

struct store;

struct store_taskdef {
    char *arn;
    char *family;
    int64_t revision;
    enum store_status status;    /* STORE_ACTIVE or STORE_INACTIVE */
    int64_t registered_at_ms;    /* Unix time, milliseconds */
    int64_t deregistered_at_ms;  /* 0 while ACTIVE */
    char *json;                  /* as given to store_td_register() */
};

struct store_tag {
    char *key;
    char *value; /* "" when the tag has no value */
};

struct store_tags {
    struct store_tag *v;
    size_t n;
};

struct store_list_opts {
    const char *family_prefix; /* NULL: every family */
    enum store_status status;  /* STORE_ACTIVE (0) by default */
    int desc;                  /* task definitions only: newest first */
    int max_results;           /* 1-100; 0 means 100 */
    const char *next_token;    /* NULL or "" for the first page */
};

struct store_list {
    char **items;     /* ARNs or family names */
    size_t n;
    char *next_token; /* NULL on the last page */
};

/* Opens (creating when missing) the database at path; its parent folder is
 * created with mode 0750 when missing, a new database file gets 0600 (it
 * may hold secrets).  region and account_id make the ARNs. */
enum store_rc store_open(const char *path, const char *region,
                         const char *account_id, struct store **out,
                         char *err, size_t errlen);
void store_close(struct store *st);

/* Registers json as the next revision of family, ACTIVE, with tags (may be
 * none).  out (may be NULL) receives the new record: revision and ARN. */
enum store_rc store_td_register(struct store *st, const char *family,
                                const char *json, const struct store_tag *tags,
                                size_t n_tags, struct store_taskdef *out,
                                char *err, size_t errlen);
/* ref must name a revision.  out (may be NULL) receives the record after. */
enum store_rc store_td_deregister(struct store *st, const char *ref,
                                  struct store_taskdef *out, char *err,
                                  size_t errlen);
enum store_rc store_td_describe(struct store *st, const char *ref,
                                struct store_taskdef *out, char *err,
                                size_t errlen);
/* ref must name an INACTIVE revision; out (may be NULL) receives the
 * record as it was just before deletion. */
enum store_rc store_td_delete(struct store *st, const char *ref,
                              struct store_taskdef *out, char *err,
                              size_t errlen);
/* ListTaskDefinitions: ARNs. */
enum store_rc store_td_list(struct store *st, const struct store_list_opts *o,
                            struct store_list *out, char *err, size_t errlen);
/* ListTaskDefinitionFamilies: family names, ascending (o->desc ignored).
 * ACTIVE: at least one ACTIVE revision; INACTIVE: revisions, none ACTIVE. */
enum store_rc store_td_families(struct store *st,
                                const struct store_list_opts *o,
                                struct store_list *out, char *err,
                                size_t errlen);

/* Tags of the revision ref names (ListTagsForResource), in the order they
 * were first set. */
enum store_rc store_tags_get(struct store *st, const char *ref,
                             struct store_tags *out, char *err, size_t errlen);
/* TagResource: adds tags, replacing the values of keys already there.  At
 * most 50 tags in all; key 1-128 and value 0-256 characters; keys unique in
 * the request; "aws:" (any case) is reserved for keys and values. */
enum store_rc store_tags_set(struct store *st, const char *ref,
                             const struct store_tag *tags, size_t n,
                             char *err, size_t errlen);
/* ECS's tag rules (at most STORE_MAX_TAGS; keys 1-128 and values 0-256
 * of letters, digits, spaces and _ . : / = + - @; the aws: prefix
 * reserved; no key twice), for tags kept elsewhere (services, tasks):
 * STORE_OK, or STORE_INVALID with the reason in err. */
enum store_rc store_tags_check(const struct store_tag *tags, size_t n, char *err,
                               size_t errlen);
enum store_rc store_tag_key_check(const char *key, char *err, size_t errlen);
/* UntagResource: keys not present are ignored. */
enum store_rc store_tags_remove(struct store *st, const char *ref,
                                const char *const *keys, size_t n, char *err,
                                size_t errlen);

/* Tasks: the agent's own JSON record of each task (task.h), keyed by ARN,
 * with the definition it runs.  A put replaces the record (committed on
 * return, like every write).  stopped_at_ms 0 while the task lives. */
enum store_rc store_task_put(struct store *st, const char *arn,
                             const char *last_status, int64_t stopped_at_ms,
                             const char *json, const char *taskdef_json,
                             char *err, size_t errlen);
/* Calls cb for every task still alive or stopped at or after
 * stopped_since_ms, oldest first; the strings are valid during the call. */
enum store_rc store_task_load(struct store *st, int64_t stopped_since_ms,
                              void (*cb)(void *arg, const char *json,
                                         const char *taskdef_json),
                              void *arg, char *err, size_t errlen);
/* Forgets tasks stopped before stopped_before_ms. */
enum store_rc store_task_prune(struct store *st, int64_t stopped_before_ms,
                               char *err, size_t errlen);

/* Services: the agent's JSON record of each service (service.h), keyed
 * by ARN, found again by cluster and name.  A put replaces the record. */
enum store_rc store_service_put(struct store *st, const char *arn,
                                const char *cluster, const char *name,
                                const char *status, const char *json, char *err,
                                size_t errlen);
/* Calls cb for every stored service, oldest first. */
enum store_rc store_service_load(struct store *st,
                                 void (*cb)(void *arg, const char *json), void *arg,
                                 char *err, size_t errlen);
enum store_rc store_service_delete(struct store *st, const char *arn, char *err,
                                   size_t errlen);

void store_taskdef_free(struct store_taskdef *td);
void store_tags_free(struct store_tags *t);
void store_list_free(struct store_list *l);
const char *store_status_name(enum store_status s);
const char *store_rc_name(enum store_rc rc);

#endif
