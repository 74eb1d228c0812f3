/* test_store.c: the desired-state store: ECS revision rules, listing, tags, durability and refusals. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent/store.h"
#include "agent/store_clusters.h"
#include "tests/lib/tap.h"

#define REGION "eu-west-3"
#define ACCOUNT "123456789012"
#define ARN(x) "arn:aws:ecs:" REGION ":" ACCOUNT ":task-definition/" x
#define JSON "{\"family\":\"web\",\"containerDefinitions\":[]}"

static char tmpdir[] = "/tmp/test_store.XXXXXX";
static char err[512];

static char *path_in(const char *rel)
{
    char *p;
    if (asprintf(&p, "%s/%s", tmpdir, rel) < 0)
        abort();
    return p;
}

static struct store *open_ok(const char *path, const char *what)
{
    struct store *st = NULL;
    err[0] = '\0';
    enum store_rc rc = store_open(path, REGION, ACCOUNT, &st, err, sizeof(err));
    if (!ok(rc == STORE_OK && st, "%s: opens", what))
        diag("  %s", err);
    return st;
}

static int64_t reg(struct store *st, const char *family)
{
    struct store_taskdef td;
    enum store_rc rc = store_td_register(st, family, JSON, NULL, 0, &td, err,
                                         sizeof(err));
    int64_t rev = rc == STORE_OK ? td.revision : -1;
    if (rc != STORE_OK)
        diag("register %s: %s", family, err);
    store_taskdef_free(&td);
    return rev;
}

static enum store_rc dereg(struct store *st, const char *ref)
{
    return store_td_deregister(st, ref, NULL, err, sizeof(err));
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* One PRAGMA's text answer through a connection of our own. */
static char *raw_query(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    char *ans = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
            ans = strdup((const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return ans;
}

static void test_open(void)
{
    char *dir = path_in("var/lib/berth");
    char *db = path_in("var/lib/berth/state.db");
    char *wal = path_in("var/lib/berth/state.db-wal");
    struct stat sb;

    struct store *st = open_ok(db, "missing folders");
    if (!st)
        goto out;
    int r = stat(dir, &sb);
    ok(r == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0750,
       "parent folder created with mode 0750 (got %o)", sb.st_mode & 0777);
    r = stat(db, &sb);
    ok(r == 0 && (sb.st_mode & 0777) == 0600,
       "database file created with mode 0600 (got %o)", sb.st_mode & 0777);
    char *jm = raw_query(db, "PRAGMA journal_mode");
    is_str(jm, "wal", "journal_mode is wal");
    free(jm);
    char *uv = raw_query(db, "PRAGMA user_version");
    is_str(uv, "4", "user_version is the schema version");
    free(uv);
    ok(reg(st, "web") == 1, "a write succeeds");
    ok(file_exists(wal), "the -wal file exists after a write");
    store_close(st);

    st = open_ok(db, "reopen of an existing database");
    store_close(st);

    /* A file where the folder should be. */
    char *blocker = path_in("blocker");
    char *under = path_in("blocker/sub/state.db");
    FILE *f = fopen(blocker, "w");
    fclose(f);
    st = NULL;
    enum store_rc rc = store_open(under, REGION, ACCOUNT, &st, err, sizeof(err));
    ok(rc == STORE_IO && !st, "parent that cannot be made: STORE_IO");
    like(err, under, "message names the path");
    free(blocker);
    free(under);
out:
    free(dir);
    free(db);
    free(wal);
}

static void test_revisions(struct store *st)
{
    struct store_taskdef td;
    enum store_rc rc;
    int64_t before = (int64_t)time(NULL) * 1000 - 1000;

    rc = store_td_register(st, "web", JSON, NULL, 0, &td, err, sizeof(err));
    ok(rc == STORE_OK && td.revision == 1, "first register: revision 1");
    is_str(td.arn, ARN("web:1"), "ARN of web:1");
    ok(td.status == STORE_ACTIVE, "registered ACTIVE");
    ok(td.registered_at_ms >= before &&
           td.registered_at_ms <= (int64_t)time(NULL) * 1000 + 1000,
       "registeredAt is now, in ms");
    store_taskdef_free(&td);
    ok(reg(st, "web") == 2, "second register: revision 2");

    rc = store_td_deregister(st, "web:2", &td, err, sizeof(err));
    ok(rc == STORE_OK && td.status == STORE_INACTIVE &&
           td.deregistered_at_ms > 0,
       "deregister web:2: INACTIVE with deregisteredAt");
    int64_t dat = td.deregistered_at_ms;
    store_taskdef_free(&td);
    rc = store_td_deregister(st, "web:2", &td, err, sizeof(err));
    ok(rc == STORE_OK && td.status == STORE_INACTIVE &&
           td.deregistered_at_ms == dat,
       "deregistering it again succeeds and keeps deregisteredAt");
    store_taskdef_free(&td);
    rc = store_td_describe(st, "web:2", &td, err, sizeof(err));
    ok(rc == STORE_OK && td.status == STORE_INACTIVE,
       "describe web:2 shows INACTIVE");
    store_taskdef_free(&td);

    ok(dereg(st, "web:99") == STORE_NOT_FOUND, "deregister web:99: not found");
    is_str(err, "task definition web:99 does not exist", "not-found message");
    ok(dereg(st, "nosuch:1") == STORE_NOT_FOUND, "unknown family: not found");
    ok(dereg(st, "web") == STORE_INVALID, "deregister without a revision: invalid");
    like(err, "must name a revision", "message says a revision is needed");

    ok(reg(st, "web") == 3, "register after deregistering 2: revision 3, not 2");

    rc = store_td_delete(st, "web:1", NULL, err, sizeof(err));
    ok(rc == STORE_CONFLICT, "delete an ACTIVE revision: conflict");
    like(err, "web:1 is ACTIVE", "message names it and why");
    rc = store_td_delete(st, "web:2", &td, err, sizeof(err));
    ok(rc == STORE_OK && td.revision == 2 && td.json && strcmp(td.json, JSON) == 0,
       "delete INACTIVE web:2, the record comes back");
    store_taskdef_free(&td);
    ok(store_td_delete(st, "web:2", NULL, err, sizeof(err)) == STORE_NOT_FOUND,
       "deleting it again: not found");
    ok(store_td_describe(st, "web:2", &td, err, sizeof(err)) == STORE_NOT_FOUND,
       "describe web:2 after delete: not found");
    is_str(err, "task definition web:2 does not exist", "its message");
    ok(reg(st, "web") == 4, "register after delete: revision 4");

    /* Delete every revision of a family, then register again. */
    ok(reg(st, "gone") == 1 && dereg(st, "gone:1") == STORE_OK &&
           store_td_delete(st, "gone:1", NULL, err, sizeof(err)) == STORE_OK,
       "family gone: registered, deregistered, deleted");
    ok(reg(st, "gone") == 2, "its counter survives: next revision is 2");

    rc = store_td_describe(st, "web", &td, err, sizeof(err));
    ok(rc == STORE_OK && td.revision == 4 && td.status == STORE_ACTIVE,
       "describe web: latest ACTIVE (4)");
    store_taskdef_free(&td);
    dereg(st, "web:4");
    rc = store_td_describe(st, "web", &td, err, sizeof(err));
    ok(rc == STORE_OK && td.revision == 3, "after deregistering 4: web is 3");
    store_taskdef_free(&td);
    dereg(st, "web:3");
    dereg(st, "web:1");
    rc = store_td_describe(st, "web", &td, err, sizeof(err));
    ok(rc == STORE_NOT_FOUND, "no ACTIVE revision left: describe web not found");
    like(err, "no ACTIVE revision", "message says so");
    rc = store_td_describe(st, "web:3", &td, err, sizeof(err));
    ok(rc == STORE_OK && td.revision == 3 && strcmp(td.json, JSON) == 0 &&
           strcmp(td.family, "web") == 0,
       "an INACTIVE revision is still described by family:rev");
    store_taskdef_free(&td);
    ok(reg(st, "web") == 5, "and the family goes on at 5");
}

static void test_refs(struct store *st)
{
    struct store_taskdef td;
    enum store_rc rc;

    rc = store_td_describe(st, ARN("web:5"), &td, err, sizeof(err));
    ok(rc == STORE_OK && td.revision == 5, "describe by full ARN");
    store_taskdef_free(&td);
    rc = store_td_describe(st, ARN("web"), &td, err, sizeof(err));
    ok(rc == STORE_OK && td.revision == 5, "ARN without revision: latest ACTIVE");
    store_taskdef_free(&td);
    ok(dereg(st, ARN("web:1")) == STORE_OK, "deregister by ARN");

    const char *notfound[] = {
        "arn:aws:ecs:us-east-1:" ACCOUNT ":task-definition/web:5",
        "arn:aws:ecs:" REGION ":999999999999:task-definition/web:5",
        "arn:aws:ecs::" ACCOUNT ":task-definition/web:5",
        "arn:aws:ecs:" REGION "x:" ACCOUNT ":task-definition/web:5",
    };
    for (size_t i = 0; i < sizeof(notfound) / sizeof(*notfound); i++) {
        rc = store_td_describe(st, notfound[i], &td, err, sizeof(err));
        ok(rc == STORE_NOT_FOUND, "other region/account: not found (%s)",
           notfound[i]);
    }
    like(err, "does not exist", "message says it does not exist");

    const char *bad[] = {
        "",
        "web:0",
        "web:abc",
        "web:-1",
        "web:01",
        "web:2147483648",
        "web:1:2",
        "we b",
        ":1",
        "arn:aws:ecs:" REGION ":" ACCOUNT ":service/web:5",
        "arn:aws:ecs:" REGION,
        "arn:aws-cn:ecs:" REGION ":" ACCOUNT ":task-definition/web:5",
        "arn:aws:ecs:" REGION ":" ACCOUNT ":task-definition/",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        rc = store_td_describe(st, bad[i], &td, err, sizeof(err));
        ok(rc == STORE_INVALID, "malformed ref is invalid: \"%s\"", bad[i]);
    }
    ok(store_td_describe(st, NULL, &td, err, sizeof(err)) == STORE_INVALID,
       "NULL ref: invalid");
    char longfam[300];
    memset(longfam, 'a', 256);
    longfam[256] = '\0';
    ok(store_td_register(st, longfam, JSON, NULL, 0, NULL, err, sizeof(err)) ==
           STORE_INVALID,
       "family of 256 characters: invalid");
    longfam[255] = '\0';
    ok(store_td_register(st, longfam, JSON, NULL, 0, NULL, err, sizeof(err)) ==
           STORE_OK,
       "family of 255 characters: registered");
    ok(store_td_register(st, "bad/name", "{\"secret\":\"SECRET-VALUE\"}", NULL,
                         0, NULL, err, sizeof(err)) == STORE_INVALID &&
           !strstr(err, "SECRET"),
       "bad family: invalid, and the message does not quote the JSON");
    ok(store_td_register(st, "web", "", NULL, 0, NULL, err, sizeof(err)) ==
           STORE_INVALID,
       "empty JSON: invalid");
}

/* Pages through a listing; returns every item joined by spaces. */
static char *collect(struct store *st, struct store_list_opts o, int fam,
                     int *pages)
{
    size_t len = 0;
    char *all = calloc(1, 1), *tok = NULL;
    *pages = 0;
    for (;;) {
        struct store_list l;
        o.next_token = tok;
        enum store_rc rc = fam ? store_td_families(st, &o, &l, err, sizeof(err))
                               : store_td_list(st, &o, &l, err, sizeof(err));
        free(tok);
        tok = NULL;
        if (rc != STORE_OK) {
            diag("list: %s", err);
            free(all);
            return NULL;
        }
        (*pages)++;
        for (size_t i = 0; i < l.n; i++) {
            all = realloc(all, len + strlen(l.items[i]) + 2);
            len += (size_t)sprintf(all + len, "%s%s", len ? " " : "",
                                   l.items[i]);
        }
        if (l.next_token)
            tok = strdup(l.next_token);
        store_list_free(&l);
        if (!tok || *pages > 100)
            break;
    }
    free(tok);
    return all;
}

/* The ARNs of family revisions [from, to], ascending or descending. */
static void add_arns(char *buf, const char *family, int from, int to, int desc)
{
    for (int i = 0; i <= to - from; i++) {
        int rev = desc ? to - i : from + i;
        sprintf(buf + strlen(buf), "%s" ARN("%s:%d"), *buf ? " " : "", family,
                rev);
    }
}

static void test_list(const char *path)
{
    struct store *st = open_ok(path, "list database");
    struct store_list_opts o = {0};
    struct store_list l;
    char want[8192];
    int pages;
    char *got;
    if (!st)
        return;

    /* 25 ACTIVE: alpha 1-12 (10 sorts after 9), beta 1-8, gamma 1-5; and
     * alphabet, whose name starts with alpha. */
    for (int i = 0; i < 12; i++)
        reg(st, "alpha");
    for (int i = 0; i < 8; i++)
        reg(st, "beta");
    for (int i = 0; i < 5; i++)
        reg(st, "gamma");

    o.max_results = 10;
    want[0] = '\0';
    add_arns(want, "alpha", 1, 12, 0);
    add_arns(want, "beta", 1, 8, 0);
    add_arns(want, "gamma", 1, 5, 0);
    got = collect(st, o, 0, &pages);
    ok(pages == 3, "25 definitions, maxResults 10: 3 pages (got %d)", pages);
    is_str(got, want, "every ARN once, by family then revision number");
    free(got);

    o.desc = 1;
    want[0] = '\0';
    add_arns(want, "gamma", 1, 5, 1);
    add_arns(want, "beta", 1, 8, 1);
    add_arns(want, "alpha", 1, 12, 1);
    got = collect(st, o, 0, &pages);
    ok(pages == 3, "DESC: 3 pages");
    is_str(got, want, "DESC: reversed on family and revision");
    free(got);
    o.desc = 0;

    o.max_results = 25;
    ok(store_td_list(st, &o, &l, err, sizeof(err)) == STORE_OK && l.n == 25 &&
           !l.next_token,
       "a page that holds exactly all: no nextToken");
    store_list_free(&l);
    o.max_results = 0;
    ok(store_td_list(st, &o, &l, err, sizeof(err)) == STORE_OK && l.n == 25,
       "maxResults unset: up to 100");
    store_list_free(&l);
    o.max_results = 101;
    ok(store_td_list(st, &o, &l, err, sizeof(err)) == STORE_INVALID,
       "maxResults 101: invalid");
    like(err, "maxResults", "message names maxResults");
    o.max_results = -1;
    ok(store_td_families(st, &o, &l, err, sizeof(err)) == STORE_INVALID,
       "families maxResults -1: invalid");
    o.max_results = 0;

    reg(st, "alphabet");
    o.family_prefix = "alpha";
    want[0] = '\0';
    add_arns(want, "alpha", 1, 12, 0);
    got = collect(st, o, 0, &pages);
    is_str(got, want, "familyPrefix is the full family name: alpha only");
    free(got);
    o.family_prefix = "alp";
    ok(store_td_list(st, &o, &l, err, sizeof(err)) == STORE_OK && l.n == 0,
       "familyPrefix alp: nothing (not a family)");
    store_list_free(&l);
    o.family_prefix = NULL;

    /* Statuses: beta:2 and all of gamma INACTIVE; delta all deleted. */
    dereg(st, "beta:2");
    for (int i = 1; i <= 5; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "gamma:%d", i);
        dereg(st, ref);
    }
    reg(st, "delta");
    dereg(st, "delta:1");
    store_td_delete(st, "delta:1", NULL, err, sizeof(err));

    o.status = STORE_INACTIVE;
    want[0] = '\0';
    add_arns(want, "beta", 2, 2, 0);
    add_arns(want, "gamma", 1, 5, 0);
    got = collect(st, o, 0, &pages);
    is_str(got, want, "status INACTIVE lists only INACTIVE revisions");
    free(got);
    o.status = STORE_ACTIVE;
    o.family_prefix = "beta";
    want[0] = '\0';
    add_arns(want, "beta", 1, 1, 0);
    add_arns(want, "beta", 3, 8, 0);
    got = collect(st, o, 0, &pages);
    is_str(got, want, "status ACTIVE (the default) with familyPrefix beta");
    free(got);
    o.status = STORE_ALL;
    o.family_prefix = NULL;
    o.max_results = 7;
    got = collect(st, o, 0, &pages);
    ok(got && pages == 4, "status ALL: 26 in pages of 7 -> 4 pages");
    free(got);
    o.max_results = 0;

    /* Families. */
    o.status = STORE_ALL;
    got = collect(st, o, 1, &pages);
    is_str(got, "alpha alphabet beta gamma",
           "families ALL: sorted, the fully deleted one left out");
    free(got);
    o.status = STORE_ACTIVE;
    got = collect(st, o, 1, &pages);
    is_str(got, "alpha alphabet beta", "families ACTIVE");
    free(got);
    o.status = STORE_INACTIVE;
    got = collect(st, o, 1, &pages);
    is_str(got, "gamma", "families INACTIVE: no ACTIVE revision");
    free(got);
    o.status = STORE_ALL;
    o.family_prefix = "alp";
    got = collect(st, o, 1, &pages);
    is_str(got, "alpha alphabet", "families familyPrefix is a prefix");
    free(got);
    o.family_prefix = NULL;
    o.max_results = 1;
    got = collect(st, o, 1, &pages);
    ok(pages == 4, "families one per page: 4 pages");
    is_str(got, "alpha alphabet beta gamma", "families paged in order");
    free(got);
    reg(st, "delta");
    o.max_results = 0;
    o.status = STORE_ACTIVE;
    got = collect(st, o, 1, &pages);
    is_str(got, "alpha alphabet beta delta",
           "a deleted family registered again is listed again");
    free(got);

    /* Tokens. */
    struct store_list_opts t = {0};
    t.max_results = 2;
    ok(store_td_list(st, &t, &l, err, sizeof(err)) == STORE_OK && l.next_token,
       "first page has a nextToken");
    char *asc_tok = strdup(l.next_token);
    store_list_free(&l);
    t.next_token = asc_tok;
    t.desc = 1;
    ok(store_td_list(st, &t, &l, err, sizeof(err)) == STORE_INVALID,
       "an ASC token with DESC: invalid");
    t.desc = 0;
    ok(store_td_families(st, &t, &l, err, sizeof(err)) == STORE_INVALID,
       "a task definition token for families: invalid");
    const char *bad[] = {
        "garbage!", "x", "AAAA", "VHxBfDF8", /* "T|A|1|" */
        "VHxBfDB8d2Vi",                      /* "T|A|0|web" */
        "RnxhIGI",                           /* "F|a b" */
        "VHxBfDF8d2Vi==",                    /* padding */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        t.next_token = bad[i];
        ok(store_td_list(st, &t, &l, err, sizeof(err)) == STORE_INVALID,
           "malformed nextToken \"%s\": invalid", bad[i]);
    }
    is_str(err, "nextToken is not valid", "token message");
    t.next_token = "VHxBfDF8d2Vi"; /* "T|A|1|web": well formed */
    ok(store_td_list(st, &t, &l, err, sizeof(err)) == STORE_OK,
       "a well-formed token for a row that is gone still works");
    store_list_free(&l);
    free(asc_tok);
    store_close(st);
}

static void test_tags(struct store *st)
{
    struct store_tags tg;
    struct store_tag tags[60];
    char keys[60][16];
    enum store_rc rc;
    struct store_tag two[] = {{"team", "core"}, {"env", ""}};
    struct store_taskdef td;

    rc = store_td_register(st, "tagged", JSON, two, 2, &td, err, sizeof(err));
    ok(rc == STORE_OK, "register with tags");
    rc = store_tags_get(st, td.arn, &tg, err, sizeof(err));
    ok(rc == STORE_OK && tg.n == 2 && strcmp(tg.v[0].key, "team") == 0 &&
           strcmp(tg.v[0].value, "core") == 0 &&
           strcmp(tg.v[1].key, "env") == 0 && strcmp(tg.v[1].value, "") == 0,
       "tags read back in order, empty value kept");
    store_tags_free(&tg);

    struct store_tag repl[] = {{"team", "edge"}, {"owner", "ops@example.com"}};
    ok(store_tags_set(st, td.arn, repl, 2, err, sizeof(err)) == STORE_OK,
       "set: one replaced, one added");
    store_tags_get(st, td.arn, &tg, err, sizeof(err));
    ok(tg.n == 3 && strcmp(tg.v[0].value, "edge") == 0 &&
           strcmp(tg.v[2].key, "owner") == 0,
       "value replaced in place, new key last");
    store_tags_free(&tg);
    const char *rm[] = {"env", "not-there"};
    ok(store_tags_remove(st, td.arn, rm, 2, err, sizeof(err)) == STORE_OK,
       "remove (an absent key is ignored)");
    store_tags_get(st, td.arn, &tg, err, sizeof(err));
    ok(tg.n == 2, "two tags left");
    store_tags_free(&tg);

    for (int i = 0; i < 60; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%02d", i);
        tags[i].key = keys[i];
        tags[i].value = "v";
    }
    ok(store_tags_set(st, td.arn, tags, 51, err, sizeof(err)) == STORE_INVALID,
       "51 tags in one request: invalid");
    like(err, "at most 50", "message gives the limit");
    ok(store_tags_set(st, td.arn, tags, 49, err, sizeof(err)) == STORE_INVALID,
       "49 more on top of 2: invalid");
    store_tags_get(st, td.arn, &tg, err, sizeof(err));
    ok(tg.n == 2, "the refused request changed nothing");
    store_tags_free(&tg);
    ok(store_tags_set(st, td.arn, tags, 48, err, sizeof(err)) == STORE_OK,
       "48 more on top of 2: exactly 50");
    ok(store_tags_set(st, td.arn, tags, 48, err, sizeof(err)) == STORE_OK,
       "setting the same keys again keeps 50");

    char k128[129], k129[130], v256[257], v257[258], u128[257];
    memset(k128, 'k', 128);
    k128[128] = '\0';
    memset(k129, 'k', 129);
    k129[129] = '\0';
    memset(v256, 'v', 256);
    v256[256] = '\0';
    memset(v257, 'v', 257);
    v257[257] = '\0';
    for (int i = 0; i < 128; i++)
        memcpy(u128 + 2 * i, "\xc3\xa9", 2); /* é: 128 characters, 256 bytes */
    u128[256] = '\0';
    struct {
        const char *key, *value;
        enum store_rc want;
        const char *name;
    } cases[] = {
        {k128, "", STORE_OK, "key of 128 characters"},
        {k129, "", STORE_INVALID, "key of 129 characters"},
        {"", "x", STORE_INVALID, "empty key"},
        {"v", v256, STORE_OK, "value of 256 characters"},
        {"v", v257, STORE_INVALID, "value of 257 characters"},
        {u128, "", STORE_OK, "key of 128 two-byte characters"},
        {"aws:name", "x", STORE_INVALID, "aws: key"},
        {"AwS:name", "x", STORE_INVALID, "AwS: key"},
        {"k", "aws:x", STORE_INVALID, "aws: value"},
        {"a\nb", "", STORE_INVALID, "control character in key"},
        {"a*b", "", STORE_INVALID, "'*' in key"},
        {"\xff", "", STORE_INVALID, "bad UTF-8 in key"},
        {"a b_.:/=+-@", "a b_.:/=+-@", STORE_OK, "allowed punctuation"},
    };
    struct store_taskdef one;
    store_td_register(st, "tagged", JSON, NULL, 0, &one, err, sizeof(err));
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct store_tag t = {(char *)cases[i].key, (char *)cases[i].value};
        rc = store_tags_set(st, one.arn, &t, 1, err, sizeof(err));
        if (!ok(rc == cases[i].want, "tag %s: %s", cases[i].name,
                cases[i].want == STORE_OK ? "taken" : "invalid"))
            diag("  %s: %s", store_rc_name(rc), err);
    }
    struct store_tag dup[] = {{"a", "1"}, {"a", "2"}};
    ok(store_tags_set(st, one.arn, dup, 2, err, sizeof(err)) == STORE_INVALID,
       "a key twice in one request: invalid");
    like(err, "twice", "message says so");
    const char *awskey[] = {"aws:cloudformation:stack-name"};
    ok(store_tags_remove(st, one.arn, awskey, 1, err, sizeof(err)) ==
           STORE_INVALID,
       "removing an aws: key: invalid");
    ok(store_tags_set(st, ARN("tagged:99"), two, 1, err, sizeof(err)) ==
           STORE_NOT_FOUND,
       "tags on an unknown revision: not found");
    ok(store_tags_get(st, "tagged", &tg, err, sizeof(err)) == STORE_INVALID,
       "tags need a revision");
    struct store_tag badreg[] = {{"aws:x", "y"}};
    ok(store_td_register(st, "tagged", JSON, badreg, 1, NULL, err,
                         sizeof(err)) == STORE_INVALID,
       "register with an aws: tag: invalid");
    struct store_taskdef next;
    store_td_register(st, "tagged", JSON, NULL, 0, &next, err, sizeof(err));
    ok(next.revision == one.revision + 1,
       "the refused register used no revision number");
    store_taskdef_free(&next);
    store_taskdef_free(&one);

    /* Tags go with a deleted revision. */
    dereg(st, td.arn);
    ok(store_td_delete(st, td.arn, NULL, err, sizeof(err)) == STORE_OK,
       "delete the tagged revision");
    store_taskdef_free(&td);
}

static void test_reopen(const char *path)
{
    struct store *st = open_ok(path, "reopen after close");
    struct store_taskdef td;
    struct store_tags tg;
    if (!st)
        return;
    ok(store_td_describe(st, "web", &td, err, sizeof(err)) == STORE_OK &&
           td.revision == 5 && strcmp(td.json, JSON) == 0,
       "web is still at 5 with its JSON");
    store_taskdef_free(&td);
    ok(store_td_describe(st, "web:3", &td, err, sizeof(err)) == STORE_OK &&
           td.status == STORE_INACTIVE && td.deregistered_at_ms > 0,
       "web:3 still INACTIVE");
    store_taskdef_free(&td);
    ok(reg(st, "web") == 6, "the counter survived: next is 6");
    ok(reg(st, "gone") == 3, "a family's counter survived deletion");
    ok(store_tags_get(st, "tagged:2", &tg, err, sizeof(err)) == STORE_OK &&
           tg.n > 0,
       "tags survived");
    store_tags_free(&tg);
    char *n = raw_query(path, "SELECT count(*) FROM td_tag WHERE family = 'tagged' AND revision = 1");
    is_str(n, "0", "the deleted revision's tags are gone");
    free(n);
    store_close(st);
}

static void test_kill9(const char *path)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct store *st = NULL;
        if (store_open(path, REGION, ACCOUNT, &st, err, sizeof(err)) !=
                STORE_OK ||
            store_td_register(st, "killed", JSON, NULL, 0, NULL, err,
                              sizeof(err)) != STORE_OK)
            _exit(1);
        /* Acknowledged: nothing is closed, flushed or checkpointed. */
        raise(SIGKILL);
        _exit(2);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
       "child registered and was killed with SIGKILL");
    struct store *st = open_ok(path, "reopen after kill -9");
    struct store_taskdef td;
    if (!st)
        return;
    ok(store_td_describe(st, "killed:1", &td, err, sizeof(err)) == STORE_OK &&
           strcmp(td.json, JSON) == 0,
       "the acknowledged registration is there");
    store_taskdef_free(&td);
    store_close(st);
}

static void test_newer_version(void)
{
    char *path = path_in("newer.db");
    sqlite3 *db;
    struct store *st = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "CREATE TABLE future (x); PRAGMA user_version = 7", NULL,
                 NULL, NULL);
    sqlite3_close(db);
    enum store_rc rc = store_open(path, REGION, ACCOUNT, &st, err, sizeof(err));
    ok(rc == STORE_IO && !st, "a newer schema version is refused");
    like(err, "schema version 7", "message names the file's version");
    like(err, "knows (4)", "and this binary's");
    like(err, path, "and the path");
    char *uv = raw_query(path, "PRAGMA user_version");
    is_str(uv, "7", "the file's version is unchanged");
    free(uv);
    char *jm = raw_query(path, "PRAGMA journal_mode");
    is_str(jm, "delete", "its journal mode was not switched to WAL");
    free(jm);
    free(path);
}

static int garbage(const char *name, const char *bytes, size_t n)
{
    char *path = path_in(name);
    char *wal = NULL;
    struct store *st = NULL;
    char back[8192];
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
    enum store_rc rc = store_open(path, REGION, ACCOUNT, &st, err, sizeof(err));
    ok(rc == STORE_IO && !st, "%s: refused", name);
    like(err, path, "%s: message names the path", name);
    like(err, "not an SQLite database", "%s: message says what is wrong", name);
    f = fopen(path, "rb");
    size_t got = fread(back, 1, sizeof(back), f);
    fclose(f);
    ok(got == n && memcmp(back, bytes, n) == 0, "%s: bytes untouched", name);
    if (asprintf(&wal, "%s-wal", path) < 0)
        abort();
    ok(!file_exists(wal), "%s: no -wal file made beside it", name);
    free(wal);
    free(path);
    return 0;
}

static void test_not_a_database(void)
{
    char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 7 + 3);
    garbage("junk.db", junk, sizeof(junk));
    const char *text = "this is my shopping list, not a database\n";
    garbage("text.db", text, strlen(text));
}

/* A real database with a damaged page: refused by name, left as it is. */
static void test_corrupt(void)
{
    char *path = path_in("corrupt.db");
    struct store *st = open_ok(path, "database to damage");
    static char page[4096], before[65536], after[65536];
    if (!st)
        goto out;
    for (int i = 0; i < 30; i++)
        reg(st, "web");
    store_close(st); /* checkpoints: everything is in the main file now */
    memset(page, 0xaa, sizeof(page));
    int fd = open(path, O_RDWR);
    ok(fd >= 0 && pwrite(fd, page, sizeof(page), 4096) == (ssize_t)sizeof(page),
       "page 2 overwritten with junk");
    ssize_t n = pread(fd, before, sizeof(before), 0);
    st = NULL;
    enum store_rc rc = store_open(path, REGION, ACCOUNT, &st, err, sizeof(err));
    ok(rc == STORE_IO && !st, "a damaged database is refused");
    like(err, path, "message names the path");
    like(err, "corrupt", "message says it is corrupt");
    ok(n > 0 && pread(fd, after, sizeof(after), 0) == n &&
           memcmp(before, after, (size_t)n) == 0,
       "its bytes are untouched");
    close(fd);
out:
    free(path);
}

/* ---- tasks ---- */

/* store_task_load's rows as "json<td>|json<td>|...". */
static void collect_task(void *arg, const char *json, const char *td)
{
    char *buf = arg;
    size_t n = strlen(buf);
    snprintf(buf + n, 1024 - n, "%s%s<%s>", n ? "|" : "", json, td);
}

static char *tasks_since(struct store *st, int64_t since)
{
    static char buf[1024];
    buf[0] = '\0';
    err[0] = '\0';
    if (store_task_load(st, since, collect_task, buf, err, sizeof(err)) != STORE_OK) {
        diag("load: %s", err);
        return NULL;
    }
    return buf;
}

static enum store_rc put(struct store *st, const char *arn, const char *status,
                         int64_t stopped, const char *json, const char *td)
{
    enum store_rc rc = store_task_put(st, arn, status, stopped, json, td, err,
                                      sizeof(err));
    if (rc != STORE_OK)
        diag("put %s: %s", arn, err);
    return rc;
}

static void test_tasks(const char *path)
{
    struct store *st = open_ok(path, "tasks database");
    if (!st)
        return;
    ok(put(st, "arn:a", "RUNNING", 0, "{a1}", "{tdA}") == STORE_OK &&
           put(st, "arn:b", "STOPPED", 1000, "{b1}", "{tdB}") == STORE_OK &&
           put(st, "arn:c", "STOPPED", 5000, "{c1}", "{tdC}") == STORE_OK,
       "put three tasks: one live, two stopped");
    is_str(tasks_since(st, 0), "{a1}<{tdA}>|{b1}<{tdB}>|{c1}<{tdC}>",
           "load from 0: all, oldest first, with their definitions");
    is_str(tasks_since(st, 2000), "{a1}<{tdA}>|{c1}<{tdC}>",
           "load since 2000: the live one and the one stopped after");
    is_str(tasks_since(st, 5000), "{a1}<{tdA}>|{c1}<{tdC}>",
           "the cutoff is inclusive");
    is_str(tasks_since(st, 5001), "{a1}<{tdA}>", "after every stop: only the live one");

    ok(put(st, "arn:a", "STOPPING", 0, "{a2}", "{tdA2}") == STORE_OK,
       "put a again");
    is_str(tasks_since(st, 5001), "{a2}<{tdA2}>",
           "put replaces the record (json and definition), no second row");
    char *n = raw_query(path, "SELECT count(*) FROM task");
    is_str(n, "3", "still three rows");
    free(n);
    n = raw_query(path, "SELECT last_status FROM task WHERE arn = 'arn:a'");
    is_str(n, "STOPPING", "last_status column updated");
    free(n);
    ok(put(st, "arn:a", "STOPPED", 3000, "{a3}", "{tdA2}") == STORE_OK,
       "a stops at 3000");
    is_str(tasks_since(st, 2000), "{a3}<{tdA2}>|{c1}<{tdC}>",
           "a keeps its place (oldest first) and is loaded while within the cutoff");
    is_str(tasks_since(st, 4000), "{c1}<{tdC}>", "and not after it");
    ok(put(st, "arn:d", "PENDING", 0, "{d1}", "{tdD}") == STORE_OK, "put a live d");

    ok(store_task_prune(st, 3000, err, sizeof(err)) == STORE_OK, "prune before 3000");
    is_str(tasks_since(st, 0), "{a3}<{tdA2}>|{c1}<{tdC}>|{d1}<{tdD}>",
           "only b (stopped at 1000) is gone; stopped at 3000 is not before 3000");
    ok(store_task_prune(st, 4000, err, sizeof(err)) == STORE_OK, "prune before 4000");
    is_str(tasks_since(st, 0), "{c1}<{tdC}>|{d1}<{tdD}>",
           "a is gone; c (5000) and the live d stay");
    ok(store_task_prune(st, INT64_MAX, err, sizeof(err)) == STORE_OK &&
           strcmp(tasks_since(st, 0), "{d1}<{tdD}>") == 0,
       "pruning everything stopped never removes a live task");
    ok(put(st, "arn:e", "STOPPED", 9000, "{e1}", "{tdE}") == STORE_OK, "put a stopped e");
    store_close(st);

    st = open_ok(path, "tasks database reopened");
    if (!st)
        return;
    is_str(tasks_since(st, 0), "{d1}<{tdD}>|{e1}<{tdE}>", "tasks survive close and reopen");
    store_close(st);
}

/* Schema 1 as berthd 1 shipped it (copied from store.c's first migration:
 * it must never change). */
static const char v1_sql[] =
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
    "CREATE TABLE td_tag ("
    "  family TEXT NOT NULL,"
    "  revision INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  UNIQUE (family, revision, key),"
    "  FOREIGN KEY (family, revision)"
    "    REFERENCES task_definition(family, revision) ON DELETE CASCADE"
    ");";

static void test_migrate_v1(void)
{
    char *path = path_in("v1.db");
    sqlite3 *db;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, v1_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db,
                          "INSERT INTO td_family VALUES ('old', 3);"
                          "INSERT INTO task_definition VALUES ('old', 3, 'ACTIVE',"
                          "  1700000000000, NULL, '" JSON "');"
                          "INSERT INTO td_tag VALUES ('old', 3, 'team', 'ops');"
                          "PRAGMA user_version = 1;",
                          NULL, NULL, NULL);
    sqlite3_close(db);
    if (!ok(rc == SQLITE_OK, "a schema 1 database with a task definition")) {
        free(path);
        return;
    }
    struct store *st = open_ok(path, "schema 1 database");
    if (st) {
        char *uv = raw_query(path, "PRAGMA user_version");
        is_str(uv, "4", "migrated to the current schema");
        free(uv);
        struct store_taskdef td = {0};
        ok(store_td_describe(st, "old:3", &td, err, sizeof(err)) == STORE_OK &&
               td.registered_at_ms == 1700000000000 && strcmp(td.json, JSON) == 0,
           "the task definition row is kept");
        store_taskdef_free(&td);
        struct store_tags tg = {0};
        ok(store_tags_get(st, "old:3", &tg, err, sizeof(err)) == STORE_OK && tg.n == 1 &&
               strcmp(tg.v[0].key, "team") == 0,
           "its tags are kept");
        store_tags_free(&tg);
        ok(reg(st, "old") == 4, "the family's counter is kept: next is 4");
        ok(put(st, "arn:t", "RUNNING", 0, "{t}", "{td}") == STORE_OK &&
               strcmp(tasks_since(st, 0), "{t}<{td}>") == 0,
           "tasks can be stored after the migration");
        store_close(st);
    }
    st = open_ok(path, "migrated database reopened");
    if (st) {
        ok(strcmp(tasks_since(st, 0), "{t}<{td}>") == 0 && reg(st, "old") == 5,
           "migration is not repeated; rows stay");
        store_close(st);
    }
    free(path);
}

/* ---- clusters (store_clusters.h) ---- */

#define CARN(x) "arn:aws:ecs:" REGION ":" ACCOUNT ":cluster/" x

static void test_clusters(const char *path)
{
    struct store *st = open_ok(path, "clusters database");
    struct store_cluster c = {0};
    struct store_list l = {0};
    int created = -1;
    if (!st)
        return;
    struct store_tag tags[] = {{"team", "ops"}, {"env", ""}};
    ok(store_cluster_create(st, "prod", "{\"settings\":[]}", tags, 2, &c, &created, err,
                            sizeof err) == STORE_OK &&
           created == 1 && c.status == STORE_ACTIVE && strcmp(c.arn, CARN("prod")) == 0 &&
           strcmp(c.json, "{\"settings\":[]}") == 0 && c.created_at_ms > 0,
       "create: ACTIVE, ARN, members kept");
    store_cluster_free(&c);
    ok(store_cluster_create(st, "prod", "{\"other\":1}", NULL, 0, &c, &created, err,
                            sizeof err) == STORE_OK &&
           created == 0 && strcmp(c.json, "{\"settings\":[]}") == 0,
       "creating an ACTIVE cluster again returns it unchanged");
    store_cluster_free(&c);
    ok(store_cluster_create(st, "bad name", NULL, NULL, 0, &c, NULL, err, sizeof err) ==
           STORE_INVALID,
       "a name with a space is refused");
    like(err, "bad name", "the message names it");
    struct store_tag aws[] = {{"aws:x", "y"}};
    ok(store_cluster_create(st, "t", NULL, aws, 1, NULL, NULL, err, sizeof err) ==
           STORE_INVALID,
       "aws: tags refused on create");
    ok(store_cluster_get(st, "t", NULL, err, sizeof err) == STORE_NOT_FOUND,
       "and nothing was created");
    ok(store_cluster_get(st, CARN("prod"), &c, err, sizeof err) == STORE_OK &&
           strcmp(c.name, "prod") == 0,
       "get by ARN");
    store_cluster_free(&c);
    ok(store_cluster_get(st, "arn:aws:ecs:us-east-1:" ACCOUNT ":cluster/prod", NULL, err,
                         sizeof err) == STORE_NOT_FOUND,
       "another region's ARN is not found");
    ok(store_cluster_get(st, "arn:aws:s3:::b", NULL, err, sizeof err) == STORE_INVALID,
       "a non-cluster ARN is invalid");

    struct store_tags tg = {0};
    ok(store_rtags_get(st, CARN("prod"), &tg, err, sizeof err) == STORE_OK && tg.n == 2 &&
           strcmp(tg.v[0].key, "team") == 0 && strcmp(tg.v[1].value, "") == 0,
       "tags by ARN, in order");
    store_tags_free(&tg);
    struct store_tag more[] = {{"team", "dev"}, {"x", "1"}};
    const char *rm[] = {"env", "absent"};
    ok(store_rtags_set(st, CARN("prod"), more, 2, err, sizeof err) == STORE_OK &&
           store_rtags_remove(st, CARN("prod"), rm, 2, err, sizeof err) == STORE_OK &&
           store_rtags_get(st, CARN("prod"), &tg, err, sizeof err) == STORE_OK &&
           tg.n == 2 && strcmp(tg.v[0].value, "dev") == 0 && strcmp(tg.v[1].key, "x") == 0,
       "tag, untag: values replaced, absent keys ignored");
    store_tags_free(&tg);

    for (int i = 0; i < 3; i++) {
        char n[16];
        snprintf(n, sizeof n, "c%d", i);
        store_cluster_create(st, n, NULL, NULL, 0, NULL, NULL, err, sizeof err);
    }
    ok(store_cluster_delete(st, "c1", &c, err, sizeof err) == STORE_OK &&
           c.status == STORE_INACTIVE,
       "delete: INACTIVE");
    store_cluster_free(&c);
    ok(store_cluster_get(st, "c1", &c, err, sizeof err) == STORE_OK &&
           c.status == STORE_INACTIVE,
       "an INACTIVE cluster is still described");
    store_cluster_free(&c);
    ok(store_cluster_delete(st, "nope", NULL, err, sizeof err) == STORE_NOT_FOUND,
       "deleting an unknown cluster: not found");
    ok(store_cluster_list(st, 2, NULL, &l, err, sizeof err) == STORE_OK && l.n == 2 &&
           strcmp(l.items[0], CARN("c0")) == 0 && strcmp(l.items[1], CARN("c2")) == 0 &&
           l.next_token,
       "list: ACTIVE only, by name, paged");
    char *tok = l.next_token ? strdup(l.next_token) : NULL;
    store_list_free(&l);
    ok(tok && store_cluster_list(st, 2, tok, &l, err, sizeof err) == STORE_OK && l.n == 1 &&
           strcmp(l.items[0], CARN("prod")) == 0 && !l.next_token,
       "list: second page ends");
    store_list_free(&l);
    free(tok);
    ok(store_cluster_list(st, 0, "zzz", &l, err, sizeof err) == STORE_INVALID,
       "a bad token is refused");
    ok(store_cluster_create(st, "c1", "{\"n\":2}", NULL, 0, &c, &created, err,
                            sizeof err) == STORE_OK &&
           created == 1 && c.status == STORE_ACTIVE && strcmp(c.json, "{\"n\":2}") == 0,
       "creating an INACTIVE cluster makes it ACTIVE with the new members");
    store_cluster_free(&c);

    struct store_instance in1 = {0}, in2 = {0};
    ok(store_instance_get(st, &in1, err, sizeof err) == STORE_OK && in1.id &&
           strlen(in1.id) == 32 && strspn(in1.id, "0123456789abcdef") == 32 &&
           in1.registered_at_ms > 1700000000000 && !in1.cluster && !in1.arn,
       "container-instance ID: 32 hex digits, a registration time, no cluster yet");
    ok(store_instance_register(st, "home", err, sizeof err) == STORE_OK &&
           store_cluster_get(st, "home", &c, err, sizeof err) == STORE_OK &&
           c.status == STORE_ACTIVE,
       "registering creates the host's cluster");
    store_cluster_free(&c);
    store_close(st);
    st = open_ok(path, "clusters database reopened");
    if (st) {
        ok(store_instance_get(st, &in2, err, sizeof err) == STORE_OK && in1.id && in2.id &&
               strcmp(in1.id, in2.id) == 0 &&
               in1.registered_at_ms == in2.registered_at_ms,
           "the ID is stable across restarts");
        ok(in2.arn && in1.id &&
               strcmp(in2.arn, "arn:aws:ecs:" REGION ":" ACCOUNT
                               ":container-instance/home/") > 0 &&
               strstr(in2.arn, in1.id) && strcmp(in2.cluster, "home") == 0,
           "the instance ARN names its cluster and ID");
        ok(store_cluster_get(st, "prod", NULL, err, sizeof err) == STORE_OK,
           "clusters survive a reopen");
        store_cluster_delete(st, "home", NULL, err, sizeof err);
        ok(store_instance_register(st, "home", err, sizeof err) == STORE_OK &&
               store_cluster_get(st, "home", &c, err, sizeof err) == STORE_OK &&
               c.status == STORE_ACTIVE,
           "registering revives an INACTIVE cluster");
        store_cluster_free(&c);
        store_close(st);
    }
    store_instance_free(&in1);
    store_instance_free(&in2);
}

/* Schema 2 as berthd shipped it: a task row must survive the migration to 3. */
static void test_migrate_v2(void)
{
    char *path = path_in("v2.db");
    sqlite3 *db;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, v1_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db,
                          "CREATE TABLE task ("
                          "  arn TEXT PRIMARY KEY NOT NULL,"
                          "  last_status TEXT NOT NULL,"
                          "  stopped_at INTEGER,"
                          "  json TEXT NOT NULL,"
                          "  taskdef_json TEXT NOT NULL"
                          ");"
                          "CREATE INDEX task_stopped ON task(stopped_at);"
                          "INSERT INTO task VALUES ('arn:t2', 'RUNNING', NULL, '{x}', '{y}');"
                          "PRAGMA user_version = 2;",
                          NULL, NULL, NULL);
    sqlite3_close(db);
    if (!ok(rc == SQLITE_OK, "a schema 2 database with a task")) {
        free(path);
        return;
    }
    struct store *st = open_ok(path, "schema 2 database");
    if (st) {
        char *uv = raw_query(path, "PRAGMA user_version");
        is_str(uv, "4", "migrated to the current schema (4)");
        free(uv);
        is_str(tasks_since(st, 0), "{x}<{y}>", "the task row is kept");
        struct store_instance in = {0};
        ok(store_instance_get(st, &in, err, sizeof err) == STORE_OK && in.id,
           "the container-instance ID was made");
        store_instance_free(&in);
        ok(store_cluster_create(st, "after", NULL, NULL, 0, NULL, NULL, err, sizeof err) ==
               STORE_OK,
           "clusters can be stored after the migration");
        store_close(st);
    }
    free(path);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    umask(022);
    test_open();

    char *main_db = path_in("main.db");
    struct store *st = open_ok(main_db, "main database");
    if (st) {
        test_revisions(st);
        test_refs(st);
        test_tags(st);
        store_close(st);
        test_reopen(main_db);
        test_kill9(main_db);
    }
    char *list_db = path_in("list.db");
    test_list(list_db);
    char *tasks_db = path_in("tasks.db");
    test_tasks(tasks_db);
    free(tasks_db);
    test_migrate_v1();
    test_migrate_v2();
    char *clusters_db = path_in("clusters.db");
    test_clusters(clusters_db);
    free(clusters_db);
    test_newer_version();
    test_not_a_database();
    test_corrupt();

    free(main_db);
    free(list_db);
    char *cmd;
    if (asprintf(&cmd, "rm -rf '%s'", tmpdir) >= 0) {
        if (system(cmd) != 0)
            diag("could not remove %s", tmpdir);
        free(cmd);
    }
    return done_testing();
}
