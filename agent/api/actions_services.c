/* actions_services.c: CreateService, UpdateService, DeleteService,
 * DescribeServices, ListServices (and ListServicesByNamespace refused) on
 * the service scheduler (ctx: struct api_tasks_ctx, its services member). */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/json_walk_table.h"
#include "agent/api/actions.h"
#include "agent/clock.h"
#include "agent/log.h"
#include "agent/service.h"
#include "agent/services.h"


#define CTX(c) ((struct api_tasks_ctx *)api_call_ctx(c))

static cJSON *service_out(struct api_call *c, struct service *s, bool tags)
{
    services_count(CTX(c)->services, s);
    return service_to_json(s, false, tags);
}

static void reply_service(struct api_call *c, struct service *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "service", service_out(c, s, true));
    api_reply(c, o);
}

/* Walks input; on errors fails the call with every member path. */
static int parse(struct api_call *c, const cJSON *input, bool update,
                 struct svc_input *in)
{
    struct json_errors errs = {0};
    int rc = service_input_parse(input, update, in, &errs);

    if (rc < 0) {
        char *msg = json_errors_message(&errs);
        api_fail(c, "InvalidParameterException", "%s", msg ? msg : "invalid input");
        free(msg);
        service_input_free(in, update);
    } else {
        for (size_t i = 0; i < errs.n_ignored; i++)
            log_info("api.service.ignored", "action=%s what=\"%s\" request_id=%s",
                     api_call_action(c), errs.ignored[i], api_call_request_id(c));
    }
    json_errors_clear(&errs);
    return rc;
}

/* The task definition a service is to run: ACTIVE, its ARN in arn_out. */
static int resolve_taskdef(struct api_call *c, const char *ref, char **arn_out)
{
    struct store_taskdef rec = {0};
    char err[512];
    enum store_rc rc = store_td_describe(CTX(c)->store, ref, &rec, err, sizeof err);

    if (rc == STORE_NOT_FOUND || rc == STORE_INVALID) {
        api_fail(c, "ClientException", "TaskDefinition not found: %s", err);
        return -1;
    }
    if (rc != STORE_OK) {
        api_fail_store(c, rc, err);
        return -1;
    }
    if (rec.status != STORE_ACTIVE) {
        api_fail(c, "ClientException", "TaskDefinition is inactive: %s was "
                 "deregistered; register a new revision", rec.arn);
        store_taskdef_free(&rec);
        return -1;
    }
    *arn_out = rec.arn;
    rec.arn = NULL;
    store_taskdef_free(&rec);
    return 0;
}

static struct service *find_active(struct api_call *c, const char *ref, bool any)
{
    struct service *s = services_find(CTX(c)->services, ref);

    if (!s) {
        api_fail(c, "ServiceNotFoundException", "Service not found: %s", ref);
        return NULL;
    }
    if (!any && s->status != SVC_ACTIVE) {
        api_fail(c, "ServiceNotActiveException", "Service was not ACTIVE: %s is %s", ref,
                 service_status_names[s->status]);
        return NULL;
    }
    return s;
}

/* find_active in the request's cluster: another cluster (one with no
 * container instance: nothing of it runs here) has no services. */
static struct service *find_in_cluster(struct api_call *c, const char *cluster,
                                       const char *ref, bool any)
{
    int kind = api_cluster_check(c, cluster);

    if (kind < 0)
        return NULL;
    if (kind == API_CLUSTER_OTHER) {
        api_fail(c, "ServiceNotFoundException", "Service not found: %s (cluster %s has "
                 "no services: services run in this host's cluster %s)", ref, cluster,
                 CTX(c)->cluster);
        return NULL;
    }
    return find_active(c, ref, any);
}

/* Each loadBalancers entry's target group must exist (the proxy's
 * [target-group] sections): -1 with the answer given. */
static int check_load_balancers(struct api_call *c, const cJSON *input)
{
    char err[512];

    if (services_check_load_balancers(CTX(c)->services,
                                      cJSON_GetObjectItemCaseSensitive(input, "loadBalancers"),
                                      err, sizeof err) < 0) {
        api_fail(c, "InvalidParameterException", "%s", err);
        return -1;
    }
    return 0;
}

/* ---- CreateService ---- */

static void create_service(struct api_call *c, const cJSON *input)
{
    struct api_tasks_ctx *x = CTX(c);
    struct svc_input in;
    char err[512], *td = NULL;

    if (parse(c, input, false, &in) < 0)
        return;
    if (api_check_cluster(c, in.cluster) < 0)
        goto done;
    struct service *old = services_find(x->services, in.name);
    if (old && old->status != SVC_INACTIVE) {
        api_fail(c, "InvalidParameterException", "Creation of service was not "
                 "idempotent: service %s already exists (%s)", in.name,
                 service_status_names[old->status]);
        goto done;
    }
    if (!in.task_definition) {
        api_fail(c, "InvalidParameterException", "taskDefinition: required (the rolling "
                 "update controller needs a task definition)");
        goto done;
    }
    if (resolve_taskdef(c, in.task_definition, &td) < 0)
        goto done;
    if (check_load_balancers(c, input) < 0)
        goto done;
    struct service *s = service_new(&in, input, td, x->region, x->account_id,
                                    x->cluster, clock_wall_ms(), err, sizeof err);
    if (!s) {
        api_fail(c, "InvalidParameterException", "%s", err);
        goto done;
    }
    if (services_create(x->services, s, err, sizeof err) < 0) {
        api_fail(c, "ServerException", "%s", err);
        goto done;
    }
    log_info("api.service.create", "service=%s taskdef=%s request_id=%s", s->name, td,
             api_call_request_id(c));
    reply_service(c, s);
done:
    free(td);
    service_input_free(&in, false);
}

/* ---- UpdateService ---- */

static void update_service(struct api_call *c, const cJSON *input)
{
    struct api_tasks_ctx *x = CTX(c);
    struct svc_input in;
    char err[512], *td = NULL;
    struct service *s;

    if (parse(c, input, true, &in) < 0)
        return;
    if (!(s = find_in_cluster(c, in.cluster, in.name, false)))
        goto done;
    if (in.task_definition && resolve_taskdef(c, in.task_definition, &td) < 0)
        goto done;
    if (check_load_balancers(c, input) < 0)
        goto done;
    int r = service_update(s, &in, input, td, clock_wall_ms(), err, sizeof err);
    if (r < 0) {
        api_fail(c, "InvalidParameterException", "%s", err);
        goto done;
    }
    if (services_save(x->services, s, err, sizeof err) < 0) {
        api_fail(c, "ServerException", "%s", err);
        goto done;
    }
    log_info("api.service.update", "service=%s new_deployment=%s request_id=%s", s->name,
             r ? service_primary(s)->id : "no", api_call_request_id(c));
    reply_service(c, s);
done:
    free(td);
    service_input_free(&in, true);
}

/* ---- DeleteService ---- */

struct delete_in {
    char *cluster, *service;
    bool force;
};
static const struct jw_field delete_fields[] = {
    F_("cluster", JW_STRING, struct delete_in, cluster),
    F_("service", JW_STRING, struct delete_in, service, .required = true),
    F_("force", JW_BOOL, struct delete_in, force),
    END,
};
static const struct jw_shape delete_shape = {sizeof(struct delete_in), delete_fields, NULL};

static void delete_service(struct api_call *c, const cJSON *input)
{
    struct delete_in in = {0};
    struct service *s;
    char err[512];

    if (api_parse_input(c, input, &delete_shape, &in) < 0)
        return;
    if (!(s = find_in_cluster(c, in.cluster, in.service, true)))
        goto done;
    if (s->status == SVC_INACTIVE) {
        api_fail(c, "ServiceNotActiveException", "Service was not ACTIVE: %s is INACTIVE",
                 in.service);
        goto done;
    }
    if (s->status == SVC_ACTIVE) {
        if (s->sched == SCHED_REPLICA && s->desired_count > 0 && !in.force) {
            api_fail(c, "InvalidParameterException",
                     "The service cannot be stopped while it is scaled above 0: set "
                     "desiredCount to 0 first, or pass force (desiredCount is %lld)",
                     (long long)s->desired_count);
            goto done;
        }
        if (services_delete(CTX(c)->services, s, err, sizeof err) < 0) {
            api_fail(c, "ServerException", "%s", err);
            goto done;
        }
        log_info("api.service.delete", "service=%s force=%d request_id=%s", s->name,
                 in.force, api_call_request_id(c));
    }
    reply_service(c, s);
done:
    jw_free_shape(&delete_shape, &in);
}

/* ---- DescribeServices ---- */

struct describe_in {
    char *cluster;
    struct jw_strv services, include;
};
static void check_describe(struct jw *w, void *obj)
{
    api_check_include(w, &((struct describe_in *)obj)->include);
}
static const struct jw_field describe_fields[] = {
    F_("cluster", JW_STRING, struct describe_in, cluster),
    F_("services", JW_STRINGS, struct describe_in, services, .required = true,
       .ranged = true, .min = 1, .max = 10),
    F_("include", JW_STRINGS, struct describe_in, include),
    END,
};
static const struct jw_shape describe_shape = {sizeof(struct describe_in), describe_fields,
                                               check_describe};

static void describe_services(struct api_call *c, const cJSON *input)
{
    struct api_tasks_ctx *x = CTX(c);
    struct describe_in in = {0};
    char arn[800];

    if (api_parse_input(c, input, &describe_shape, &in) < 0)
        return;
    int kind = api_cluster_check(c, in.cluster);
    if (kind >= 0) {
        /* Another cluster has no services here: each is MISSING there. */
        const char *cl = kind == API_CLUSTER_OWN ? x->cluster : in.cluster;
        if (strncmp(cl, "arn:", 4) == 0 && strstr(cl, ":cluster/"))
            cl = strstr(cl, ":cluster/") + 9;
        cJSON *o = cJSON_CreateObject();
        cJSON *ss = cJSON_AddArrayToObject(o, "services");
        cJSON *fs = cJSON_AddArrayToObject(o, "failures");
        for (size_t i = 0; i < in.services.n; i++) {
            const char *ref = in.services.v[i];
            struct service *s = kind == API_CLUSTER_OWN ? services_find(x->services, ref)
                                                        : NULL;
            if (s) {
                cJSON_AddItemToArray(ss, service_out(c, s, in.include.n > 0));
                continue;
            }
            if (strncmp(ref, "arn:", 4) == 0)
                snprintf(arn, sizeof arn, "%s", ref);
            else
                snprintf(arn, sizeof arn, "arn:aws:ecs:%s:%s:service/%s/%s", x->region,
                         x->account_id, cl, ref);
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "arn", arn);
            cJSON_AddStringToObject(f, "reason", "MISSING");
            cJSON_AddItemToArray(fs, f);
        }
        api_reply(c, o);
    }
    jw_free_shape(&describe_shape, &in);
}

/* ---- ListServices ---- */

struct list_in {
    char *cluster, *next_token;
    int64_t max_results;
    bool has_max;
    int launch_type, sched;
    bool has_launch_type, has_sched;
};
static const struct jw_field list_fields[] = {
    F_("cluster", JW_STRING, struct list_in, cluster),
    F_("nextToken", JW_STRING, struct list_in, next_token),
    F_("maxResults", JW_INT, struct list_in, max_results,
       .has = offsetof(struct list_in, has_max) + 1, .ranged = true, .min = 1, .max = 100),
    F_("launchType", JW_ENUM, struct list_in, launch_type,
       .choices = service_launch_types, .has = offsetof(struct list_in, has_launch_type) + 1),
    F_("schedulingStrategy", JW_ENUM, struct list_in, sched,
       .choices = service_sched_names, .has = offsetof(struct list_in, has_sched) + 1),
    END,
};
static const struct jw_shape list_shape = {sizeof(struct list_in), list_fields, NULL};

static void list_services(struct api_call *c, const cJSON *input)
{
    struct list_in in = {0};
    struct service **all;
    size_t n, i = 0, got = 0;

    if (api_parse_input(c, input, &list_shape, &in) < 0)
        return;
    int kind = api_cluster_check(c, in.cluster);
    if (kind < 0)
        goto done;
    /* Another cluster has no services here: an empty list. */
    n = kind == API_CLUSTER_OWN ? services_all(CTX(c)->services, &all) : 0;
    /* The token is the name of the last service of the previous page. */
    if (in.next_token && *in.next_token) {
        for (i = 0; i < n && strcmp(all[i]->name, in.next_token) != 0; i++)
            ;
        if (i == n) {
            api_fail(c, "InvalidParameterException", "nextToken is not valid (its "
                     "service was forgotten): list again from the start");
            goto done;
        }
        i++;
    }
    /* ECS's default page for ListServices is 10. */
    size_t max = in.has_max ? (size_t)in.max_results : 10;
    cJSON *o = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(o, "serviceArns");
    const char *last = NULL;
    for (; i < n; i++) {
        struct service *s = all[i];
        if (s->status == SVC_INACTIVE ||
            (in.has_launch_type && s->launch_type != in.launch_type) ||
            (in.has_sched && (int)s->sched != in.sched))
            continue;
        if (got == max) {
            cJSON_AddStringToObject(o, "nextToken", last);
            break;
        }
        cJSON_AddItemToArray(a, cJSON_CreateString(s->arn));
        last = s->name;
        got++;
    }
    api_reply(c, o);
done:
    jw_free_shape(&list_shape, &in);
}

static void list_by_namespace(struct api_call *c, const cJSON *input)
{
    (void)input;
    api_fail(c, "UnsupportedFeatureException", "ListServicesByNamespace is not "
             "supported by Berth yet: service discovery namespaces come with its DNS "
             "server");
}

const struct api_action api_service_actions[] = {
    {"CreateService", create_service},
    {"UpdateService", update_service},
    {"DeleteService", delete_service},
    {"DescribeServices", describe_services},
    {"ListServices", list_services},
    {"ListServicesByNamespace", list_by_namespace},
    {NULL, NULL},
};
