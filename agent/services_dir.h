/* services_dir.h: declarative services, the [agent] services-dir folder.
 *
 * Every *.json file in the folder (name order; other files are ignored)
 * is one object {"taskDefinition": RegisterTaskDefinition input,
 * "service": CreateService input}.  service.taskDefinition may be left out
 * (it is the file's definition) or must be that definition's family.
 *
 * Two steps, so that nothing is touched before everything was read:
 *   sd_load()  reads and validates every file.  Each error names the file
 *              and where: "web.json:3:7: invalid JSON" for syntax,
 *              "web.json: service.deploymentConfiguration.maximumPercent:
 *              ..." (the JSON path) for the rest.  Two files naming the
 *              same service are both in error, each naming the other.
 *   sd_apply() brings the store and the scheduler in line with the files:
 *     - a file with errors is skipped and its service left as it is;
 *     - the definition is registered only when it differs (taskdef_to_json
 *       text; tags are set at registration only) from its family's latest
 *       ACTIVE revision;
 *     - a missing (or INACTIVE) service is created, marked with the file's
 *       name (struct service sd_file, stored, not shown by the API);
 *     - a marked service whose file changed (the digest of the service
 *       input and the definition's ARN, sd_digest) is updated as
 *       UpdateService does: a new revision makes a deployment, a new
 *       desiredCount scales.  An unchanged file changes nothing, so what
 *       the API did to such a service since (a scale, a rollback) stays;
 *     - a marked ACTIVE service whose file is gone is deleted as
 *       DeleteService with force does (scaled to zero, then INACTIVE);
 *     - a service made through the API is never touched: a file naming
 *       one is an error.
 *   One log line per file and per removed service:
 *   event=services_dir.applied file=F service=S action=created|updated|
 *   deleted|unchanged; errors as event=services_dir.error.
 *
 * Control loop only; the reads are small local files. */
#ifndef BERTH_SERVICES_DIR_H
#define BERTH_SERVICES_DIR_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct services;
struct store;
struct taskdef;

#define SD_MAX_FILE (1024 * 1024)

struct sd_file {
    char *name;           /* "web.json" */
    char **errors;        /* "web.json: PATH: MESSAGE"; none when valid */
    size_t n_errors;
    char **ignored;       /* members accepted and ignored, "web.json: ..." */
    size_t n_ignored;
    struct taskdef *td;   /* valid files only */
    cJSON *service;       /* the CreateService input, taskDefinition removed */
    char *service_name;
};

struct sd_set {
    struct sd_file *v;
    size_t n;
};

/* Reads dir into out (zeroed by the caller).  A missing dir is no error:
 * no file.  -1 with err only when dir cannot be listed.  cluster: the
 * agent's; a service.cluster naming another is an error. */
int sd_load(const char *dir, const char *cluster, struct sd_set *out, char *err,
            size_t errlen);
void sd_set_free(struct sd_set *set);

struct sd_env {
    struct store *st;
    struct services *svcs;
    const char *cluster, *region, *account_id;
    int64_t now_ms;
};

struct sd_result {
    unsigned created, updated, deleted, unchanged, failed;
};

/* Applies set (see above); counts what it did in r. */
void sd_apply(const struct sd_set *set, const struct sd_env *env, struct sd_result *r);

/* sd_load then sd_apply, logging a folder that cannot be read. */
void sd_apply_dir(const char *dir, const struct sd_env *env, struct sd_result *r);

#endif
