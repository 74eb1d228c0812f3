/* services_dir.c: reads services.d and applies it (services_dir.h). */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/json_walk.h"
#include "agent/log.h"
#include "agent/service.h"
#include "agent/services.h"
#include "agent/services_dir.h"
#include "agent/store.h"
#include "agent/taskdef.h"

/* ---- loading ---- */

static void add_msg(char ***v, size_t *n, const char *fmt, ...) BERTH_PRINTF(3, 4);
static void add_msg(char ***v, size_t *n, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv)
        abort();
    nv[(*n)++] = s;
    *v = nv;
}

/* Copies errs into f, each path under prefix ("service", "taskDefinition"). */
static void take_errors(struct sd_file *f, const char *prefix, const struct json_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        add_msg(&f->errors, &f->n_errors, "%s: %s%s%s: %s", f->name, prefix,
                *e->v[i].path && e->v[i].path[0] != '[' ? "." : "", e->v[i].path,
                e->v[i].message);
    for (size_t i = 0; i < e->n_ignored; i++)
        add_msg(&f->ignored, &f->n_ignored, "%s: %s.%s", f->name, prefix, e->ignored[i]);
}

static void position(const char *text, size_t off, int *line, int *col)
{
    *line = *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    char *buf;

    if (!fp) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (!(buf = malloc(SD_MAX_FILE + 1)))
        abort();
    *len = fread(buf, 1, SD_MAX_FILE + 1, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad || *len > SD_MAX_FILE) {
        snprintf(err, errlen, bad ? "cannot read" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* Whether ref (a name or a cluster ARN) names cluster. */
static bool same_cluster(const char *ref, const char *cluster)
{
    const char *slash = strncmp(ref, "arn:", 4) == 0 ? strrchr(ref, '/') : NULL;
    return strcmp(slash ? slash + 1 : ref, cluster) == 0;
}

/* Checks the two members of a parsed file. */
static void check_doc(struct sd_file *f, cJSON *root, const char *cluster)
{
    struct json_errors errs = {0};
    const cJSON *it, *tdj = NULL, *svj = NULL;

    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "taskDefinition") == 0)
            tdj = it;
        else if (strcmp(it->string, "service") == 0)
            svj = it;
        else
            add_msg(&f->errors, &f->n_errors, "%s: %s: unknown field (a file holds "
                    "taskDefinition and service)", f->name, it->string);
    }
    if (!tdj || !cJSON_IsObject(tdj))
        add_msg(&f->errors, &f->n_errors, "%s: taskDefinition: %s", f->name,
                tdj ? "expected an object (a RegisterTaskDefinition input)"
                    : "required: a RegisterTaskDefinition input");
    else if (taskdef_from_cjson(tdj, &f->td, &errs) < 0)
        f->td = NULL;
    take_errors(f, "taskDefinition", &errs);
    json_errors_clear(&errs);
    if (!svj || !cJSON_IsObject(svj)) {
        add_msg(&f->errors, &f->n_errors, "%s: service: %s", f->name,
                svj ? "expected an object (a CreateService input)"
                    : "required: a CreateService input");
        return;
    }
    f->service = cJSON_Duplicate(svj, 1);
    const cJSON *fam = cJSON_GetObjectItemCaseSensitive(tdj, "family");
    cJSON *ref = cJSON_DetachItemFromObjectCaseSensitive(f->service, "taskDefinition");
    if (ref && (!cJSON_IsString(ref) || !cJSON_IsString(fam) ||
                strcmp(ref->valuestring, fam->valuestring) != 0))
        add_msg(&f->errors, &f->n_errors, "%s: service.taskDefinition: must be the family "
                "of the file's taskDefinition (%s) or left out, got %s", f->name,
                cJSON_IsString(fam) ? fam->valuestring : "none",
                cJSON_IsString(ref) ? ref->valuestring : jw_type_name(ref));
    cJSON_Delete(ref);
    struct svc_input in;
    if (service_input_parse(f->service, false, &in, &errs) == 0) {
        if (in.cluster && !same_cluster(in.cluster, cluster))
            add_msg(&f->errors, &f->n_errors, "%s: service.cluster: this agent runs "
                    "cluster %s, got %s", f->name, cluster, in.cluster);
        f->service_name = jw_strdup(in.name);
        /* Values that do not fit together (DAEMON with maximumPercent 200,
         * REPLICA without desiredCount): found now, not when applying. */
        char err[512];
        struct service *trial = service_new(&in, f->service, "arn:aws:ecs:check:000000000000:"
                                            "task-definition/check:1", "check",
                                            "000000000000", cluster, 0, err, sizeof err);
        if (!trial)
            add_msg(&f->errors, &f->n_errors, "%s: service: %s", f->name, err);
        service_free(trial);
    }
    take_errors(f, "service", &errs);
    json_errors_clear(&errs);
    service_input_free(&in, false);
}

static void load_file(struct sd_file *f, const char *dir, const char *cluster)
{
    char path[4096], err[256];
    size_t len;
    const char *end = NULL;
    int line, col;

    snprintf(path, sizeof path, "%s/%s", dir, f->name);
    char *text = read_all(path, &len, err, sizeof err);
    if (!text) {
        add_msg(&f->errors, &f->n_errors, "%s: %s", f->name, err);
        return;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    if (root)
        while (off < len && isspace((unsigned char)text[off]))
            off++;
    if (!root || off < len) {
        position(text, off, &line, &col);
        add_msg(&f->errors, &f->n_errors, "%s:%d:%d: invalid JSON%s", f->name, line, col,
                root ? ": text after the end of the document" : "");
    } else if (!cJSON_IsObject(root)) {
        add_msg(&f->errors, &f->n_errors, "%s: expected an object {\"taskDefinition\": "
                "..., \"service\": ...}, got %s", f->name, jw_type_name(root));
    } else {
        check_doc(f, root, cluster);
    }
    cJSON_Delete(root);
    free(text);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct sd_file *)a)->name, ((const struct sd_file *)b)->name);
}

static bool is_json_name(const char *n)
{
    size_t l = strlen(n);
    return n[0] != '.' && l > 5 && strcmp(n + l - 5, ".json") == 0;
}

int sd_load(const char *dir, const char *cluster, struct sd_set *out, char *err,
            size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t cap = 0;

    memset(out, 0, sizeof *out);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: cannot list: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        if (!is_json_name(de->d_name))
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 8;
            struct sd_file *nv = realloc(out->v, cap * sizeof *nv);
            if (!nv)
                abort();
            out->v = nv;
        }
        memset(&out->v[out->n], 0, sizeof out->v[0]);
        out->v[out->n++].name = jw_strdup(de->d_name);
    }
    closedir(d);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_name);
    for (size_t i = 0; i < out->n; i++)
        load_file(&out->v[i], dir, cluster);
    /* One service, one file: both are in error, as neither can be chosen. */
    for (size_t i = 0; i < out->n; i++)
        for (size_t j = 0; j < out->n; j++) {
            struct sd_file *a = &out->v[i], *b = &out->v[j];
            if (i != j && a->service_name && b->service_name &&
                strcmp(a->service_name, b->service_name) == 0)
                add_msg(&a->errors, &a->n_errors, "%s: service.serviceName: service %s "
                        "is also declared by %s", a->name, a->service_name, b->name);
        }
    return 0;
}

void sd_set_free(struct sd_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        struct sd_file *f = &set->v[i];
        for (size_t k = 0; k < f->n_errors; k++)
            free(f->errors[k]);
        for (size_t k = 0; k < f->n_ignored; k++)
            free(f->ignored[k]);
        free(f->errors);
        free(f->ignored);
        taskdef_free(f->td);
        cJSON_Delete(f->service);
        free(f->service_name);
        free(f->name);
    }
    free(set->v);
    memset(set, 0, sizeof *set);
}

/* ---- applying ---- */

static void log_applied(const char *file, const char *service, const char *action,
                        const char *detail)
{
    log_info("services_dir.applied", "file=%s service=%s action=%s%s", file, service,
             action, detail ? detail : "");
}

static void log_failed(const char *msg)
{
    char q[2048];
    log_error("services_dir.error", "error=%s", log_quote(q, sizeof q, msg));
}

/* The ARN of f's definition: the family's latest ACTIVE revision when it
 * is the same definition, else a new revision.  NULL with err. */
static char *definition_arn(const struct sd_file *f, struct store *st, char *err,
                            size_t errlen)
{
    struct store_taskdef rec = {0};
    cJSON *j = taskdef_to_json(f->td);
    char *json = cJSON_PrintUnformatted(j), *arn = NULL;
    cJSON_Delete(j);

    if (store_td_describe(st, f->td->family, &rec, NULL, 0) == STORE_OK &&
        rec.status == STORE_ACTIVE && strcmp(rec.json, json) == 0) {
        arn = rec.arn;
        rec.arn = NULL;
    } else {
        struct store_tag *tags = jw_calloc(f->td->n_tags + 1, sizeof *tags);
        for (size_t i = 0; i < f->td->n_tags; i++) {
            tags[i].key = f->td->tags[i].key;
            tags[i].value = f->td->tags[i].value ? f->td->tags[i].value : (char *)"";
        }
        store_taskdef_free(&rec);
        memset(&rec, 0, sizeof rec);
        if (store_td_register(st, f->td->family, json, tags, f->td->n_tags, &rec, err,
                              errlen) == STORE_OK) {
            log_info("services_dir.registered", "file=%s arn=%s", f->name, rec.arn);
            arn = rec.arn;
            rec.arn = NULL;
        }
        free(tags);
    }
    store_taskdef_free(&rec);
    free(json);
    return arn;
}

/* FNV-1a 64 of the service input and the definition's ARN, in hex. */
static char *digest_of(const cJSON *service, const char *td_arn)
{
    char *text = cJSON_PrintUnformatted(service), *out;
    uint64_t h = 14695981039346656037ULL;

    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '\n') * 1099511628211ULL;
    for (const char *p = td_arn; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    free(text);
    if (asprintf(&out, "%016llx", (unsigned long long)h) < 0)
        abort();
    return out;
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = jw_strdup(v);
}

/* Applies one valid file; returns its action or NULL (an error, logged). */
static const char *apply_file(const struct sd_file *f, const struct sd_env *env)
{
    char err[512], msg[1024];
    struct service *s = services_find(env->svcs, f->service_name);
    const char *action = NULL;

    if (s && s->status != SVC_INACTIVE && !s->sd_file) {
        snprintf(msg, sizeof msg, "%s: service.serviceName: service %s was created "
                 "through the API: services.d leaves it alone", f->name, s->name);
        log_failed(msg);
        return NULL;
    }
    if (s && s->status == SVC_DRAINING) {
        snprintf(msg, sizeof msg, "%s: service %s is being deleted (DRAINING): it is "
                 "created again on a SIGHUP once INACTIVE", f->name, s->name);
        log_failed(msg);
        return NULL;
    }
    char *td_arn = definition_arn(f, env->st, err, sizeof err);
    if (!td_arn) {
        snprintf(msg, sizeof msg, "%s: taskDefinition: cannot register: %s", f->name, err);
        log_failed(msg);
        return NULL;
    }
    if (services_check_load_balancers(env->svcs,
                                      cJSON_GetObjectItemCaseSensitive(f->service,
                                                                       "loadBalancers"),
                                      err, sizeof err) < 0) {
        snprintf(msg, sizeof msg, "%s: service.%s", f->name, err);
        log_failed(msg);
        free(td_arn);
        return NULL;
    }
    char *digest = digest_of(f->service, td_arn);
    struct svc_input in;
    struct json_errors errs = {0};
    service_input_parse(f->service, false, &in, &errs); /* valid: sd_load checked */
    json_errors_clear(&errs);
    if (!s || s->status == SVC_INACTIVE) {
        s = service_new(&in, f->service, td_arn, env->region, env->account_id,
                        env->cluster, env->now_ms, err, sizeof err);
        if (s) {
            s->sd_file = jw_strdup(f->name);
            s->sd_digest = jw_strdup(digest);
            if (services_create(env->svcs, s, err, sizeof err) == 0)
                action = "created";
        }
    } else if (s->sd_digest && strcmp(s->sd_digest, digest) == 0) {
        action = "unchanged";
        if (strcmp(s->sd_file, f->name) != 0) { /* the file was renamed */
            set_str(&s->sd_file, f->name);
            if (services_save(env->svcs, s, err, sizeof err) < 0)
                action = NULL;
        }
    } else {
        int r = service_update(s, &in, f->service, td_arn, env->now_ms, err, sizeof err);
        if (r >= 0) {
            set_str(&s->sd_file, f->name);
            set_str(&s->sd_digest, digest);
            if (services_save(env->svcs, s, err, sizeof err) == 0) {
                action = "updated";
                log_applied(f->name, s->name, action,
                            r ? " deployment=new" : " deployment=none");
            }
        }
    }
    if (!action) {
        snprintf(msg, sizeof msg, "%s: service: %s", f->name, err);
        log_failed(msg);
    } else if (strcmp(action, "updated") != 0) {
        log_applied(f->name, f->service_name, action, NULL);
    }
    service_input_free(&in, false);
    free(digest);
    free(td_arn);
    return action;
}

void sd_apply(const struct sd_set *set, const struct sd_env *env, struct sd_result *r)
{
    struct service **all;
    char err[512], msg[1024];

    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < set->n; i++) {
        const struct sd_file *f = &set->v[i];
        for (size_t k = 0; k < f->n_ignored; k++)
            log_info("services_dir.ignored", "what=\"%s\"", f->ignored[k]);
        if (f->n_errors) {
            for (size_t k = 0; k < f->n_errors; k++)
                log_failed(f->errors[k]);
            log_warn("services_dir.skipped", "file=%s errors=%zu", f->name, f->n_errors);
            r->failed++;
            continue;
        }
        const char *a = apply_file(f, env);
        if (!a)
            r->failed++;
        else if (strcmp(a, "created") == 0)
            r->created++;
        else if (strcmp(a, "updated") == 0)
            r->updated++;
        else
            r->unchanged++;
    }
    /* Marked services no file declares any more (a file with errors still
     * counts as declaring its old service: that one is kept). */
    size_t n = services_all(env->svcs, &all);
    for (size_t i = 0; i < n; i++) {
        struct service *s = all[i];
        bool present = false;
        if (!s->sd_file || s->status != SVC_ACTIVE)
            continue;
        for (size_t k = 0; k < set->n && !present; k++) {
            const struct sd_file *f = &set->v[k];
            present = (f->n_errors && strcmp(f->name, s->sd_file) == 0) ||
                      (f->service_name && strcmp(f->service_name, s->name) == 0);
        }
        if (present)
            continue;
        if (services_delete(env->svcs, s, err, sizeof err) < 0) {
            snprintf(msg, sizeof msg, "%s: service %s: cannot delete: %s", s->sd_file,
                     s->name, err);
            log_failed(msg);
            r->failed++;
            continue;
        }
        log_applied(s->sd_file, s->name, "deleted", NULL);
        r->deleted++;
    }
}

void sd_apply_dir(const char *dir, const struct sd_env *env, struct sd_result *r)
{
    struct sd_set set;
    char err[512];

    if (sd_load(dir, env->cluster, &set, err, sizeof err) < 0) {
        /* Nothing is known of the files: nothing is deleted either. */
        log_failed(err);
        memset(r, 0, sizeof *r);
        r->failed = 1;
        return;
    }
    sd_apply(&set, env, r);
    log_info("services_dir.done", "dir=%s files=%zu created=%u updated=%u deleted=%u "
             "unchanged=%u failed=%u", dir, set.n, r->created, r->updated, r->deleted,
             r->unchanged, r->failed);
    sd_set_free(&set);
}
