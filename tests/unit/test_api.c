/* test_api.c: ECS JSON 1.1 dispatch over the unix socket, with the
 * task-definition and tag actions on a real store in a temp dir. */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent/api/actions.h"
#include "agent/api/api.h"
#include "agent/conf.h"
#include "agent/log.h"
#include "agent/store.h"
#include "agent/resources.h"
#include "agent/store_clusters.h"
#include "agent/tasks.h"
#include "tests/lib/evloop.h"

#define ARN "arn:aws:ecs:eu-west-3:123456789012:task-definition/"
#define TD "{\"family\":\"web\",\"containerDefinitions\":[{\"name\":\"app\"," \
           "\"image\":\"busybox\",\"memory\":64}]"

static char tmpdir[] = "/tmp/test_api.XXXXXX";
static char sock_path[256];

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sends raw bytes and reads until the server closes (the requests say
 * Connection: close, or the test reads one keep-alive reply). */
static char *
exchange(const char *raw)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    char *buf = calloc(1, 1 << 20);
    size_t len = 0;
    double end = now_s() + 5;

    strcpy(sun.sun_path, sock_path);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        send(fd, raw, strlen(raw), MSG_NOSIGNAL) < 0) {
        close(fd);
        return buf;
    }
    while (now_s() < end) {
        ev_run(loop, EVRUN_NOWAIT);
        ssize_t n = recv(fd, buf + len, (1 << 20) - 1 - len, MSG_DONTWAIT);
        if (n == 0)
            break;
        if (n > 0)
            len += (size_t)n;
        else
            usleep(500);
    }
    close(fd);
    return buf;
}

struct resp {
    int status;
    char *raw;
    cJSON *json;
};

static struct resp last;

static void
resp_clear(void)
{
    free(last.raw);
    cJSON_Delete(last.json);
    memset(&last, 0, sizeof(last));
}

/* Calls an action; last holds the answer. */
static int
call_ct(const char *action, const char *body, const char *ctype)
{
    char *req;
    const char *b;

    resp_clear();
    if (asprintf(&req, "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "%s%s%s%s%s%sContent-Length: %zu\r\n\r\n%s",
                 action ? "X-Amz-Target: AmazonEC2ContainerServiceV20141113." : "",
                 action ? action : "", action ? "\r\n" : "",
                 ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
                 strlen(body), body) < 0)
        abort();
    last.raw = exchange(req);
    free(req);
    sscanf(last.raw, "HTTP/1.1 %d", &last.status);
    b = strstr(last.raw, "\r\n\r\n");
    last.json = b ? cJSON_Parse(b + 4) : NULL;
    return last.status;
}

static int
call(const char *action, const char *body)
{
    return call_ct(action, body, API_CONTENT_TYPE);
}

static const char *
jstr(const char *path)
{
    const cJSON *j = last.json;
    char buf[256], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
        j = (*k >= '0' && *k <= '9') ? cJSON_GetArrayItem(j, atoi(k))
                                     : cJSON_GetObjectItemCaseSensitive(j, k);
    if (cJSON_IsString(j))
        return j->valuestring;
    if (cJSON_IsNumber(j)) {
        static char num[64];
        snprintf(num, sizeof(num), "%.17g", j->valuedouble);
        return num;
    }
    return j ? "(other)" : NULL;
}

static int
jlen(const char *key)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(last.json, key));
}

/* ---- an asynchronous action, answered from a timer ---- */

static ev_timer later_timer;
static struct api_call *later_call;

static void
on_later(struct ev_loop *l, ev_timer *w, int revents)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "answer", "later");
    api_reply(later_call, o);
    later_call = NULL;
}

static void
later_action(struct api_call *c, const cJSON *input)
{
    later_call = c;
    ev_timer_init(&later_timer, on_later, 0.2, 0.);
    ev_timer_start(loop, &later_timer);
}

static void
ctx_action(struct api_call *c, const cJSON *input)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ctx", api_call_ctx(c));
    cJSON_AddStringToObject(o, "action", api_call_action(c));
    api_reply(c, o);
}

static const struct api_action test_actions[] = {
    {"Later", later_action},
    {"Ctx", ctx_action},
    {NULL, NULL},
};

/* ---- tests ---- */

static void
test_protocol(void)
{
    char *raw;

    call("Ctx", "{}");
    is_str(jstr("ctx"), "my context", "an action gets its table's context");
    like(last.raw, "Content-Type: application/x-amz-json-1.1\r\n",
         "replies are application/x-amz-json-1.1");
    ok(strstr(last.raw, "x-amzn-RequestId: ") &&
           strlen(strstr(last.raw, "x-amzn-RequestId: ")) > 18 + 36 &&
           strstr(last.raw, "x-amzn-RequestId: ")[18 + 8] == '-' &&
           strstr(last.raw, "x-amzn-RequestId: ")[18 + 14] == '4',
       "with a UUID v4 x-amzn-RequestId");
    call("Ctx", "");
    ok(last.status == 200, "an empty body counts as {}");

    call("NoSuchThing", "{}");
    ok(last.status == 400, "an unknown action: 400");
    is_str(jstr("__type"), "UnknownOperationException", "UnknownOperationException");
    like(jstr("message"), "NoSuchThing", "naming it");
    call(NULL, "{}");
    is_str(jstr("__type"), "UnknownOperationException", "no X-Amz-Target: unknown operation");
    like(jstr("message"), "missing X-Amz-Target", "saying so");
    call_ct("Ctx", "{}", "application/json");
    is_str(jstr("__type"), "SerializationException", "another content type is refused");
    like(jstr("message"), "got \"application/json\"", "naming it");
    call("Ctx", "{\"a\":");
    is_str(jstr("__type"), "SerializationException", "broken JSON: SerializationException");
    like(jstr("message"), "not valid JSON", "saying so");
    call("Ctx", "[1,2]");
    is_str(jstr("__type"), "SerializationException", "a JSON array: SerializationException");
    like(jstr("message"), "must be a JSON object, got an array", "naming what it got");
    raw = exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    like(raw, "HTTP/1.1 405 ", "GET: 405");
    like(raw, "takes POST requests, got GET", "saying so");
    free(raw);

    /* An action that answers later; a pipelined request waits its turn. */
    raw = exchange("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: "
                   "AmazonEC2ContainerServiceV20141113.Later\r\nContent-Type: "
                   API_CONTENT_TYPE "\r\nContent-Length: 2\r\n\r\n{}"
                   "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: "
                   "AmazonEC2ContainerServiceV20141113.Ctx\r\nContent-Type: "
                   API_CONTENT_TYPE "\r\nContent-Length: 2\r\n\r\n{}");
    char *a = strstr(raw, "\"later\""), *b = strstr(raw, "\"Ctx\"");
    ok(a && b && a < b, "a late answer, then the pipelined one, in order");
    free(raw);
}

static void
test_taskdefs(void)
{
    call("RegisterTaskDefinition", TD ",\"tags\":[{\"key\":\"team\",\"value\":\"a\"}]}");
    ok(last.status == 200, "RegisterTaskDefinition: 200");
    is_str(jstr("taskDefinition.taskDefinitionArn"), ARN "web:1", "revision 1's ARN");
    is_str(jstr("taskDefinition.revision"), "1", "revision 1");
    is_str(jstr("taskDefinition.status"), "ACTIVE", "ACTIVE");
    is_str(jstr("taskDefinition.compatibilities.0"), "EC2", "compatibilities [EC2]");
    is_str(jstr("taskDefinition.containerDefinitions.0.image"), "busybox", "the containers");
    is_str(jstr("taskDefinition.networkMode"), "bridge", "defaults filled (networkMode)");
    ok(jstr("taskDefinition.registeredAt") && atof(jstr("taskDefinition.registeredAt")) >
                                                  1.7e9,
       "registeredAt in epoch seconds");
    ok(!jstr("taskDefinition.requiresAttributes"), "no requiresAttributes");
    is_str(jstr("tags.0.key"), "team", "the tags are returned");

    call("RegisterTaskDefinition", TD ",\"taskRoleArn\":\"arn:aws:iam::1:role/x\"}");
    is_str(jstr("taskDefinition.revision"), "2", "registering again: revision 2");

    call("RegisterTaskDefinition",
         "{\"family\":\"web\",\"containerDefinitions\":[{\"name\":\"app\",\"image\":"
         "\"busybox\",\"memory\":\"lots\",\"portMappings\":[{\"containerPort\":70000}]}]}");
    ok(last.status == 400, "a bad task definition: 400");
    is_str(jstr("__type"), "ClientException", "ClientException");
    like(jstr("message"), "containerDefinitions[0].memory", "naming the first path");
    like(jstr("message"), "containerDefinitions[0].portMappings[0].containerPort",
         "and the second");

    call("DescribeTaskDefinition", "{\"taskDefinition\":\"web\"}");
    is_str(jstr("taskDefinition.revision"), "2", "describe by family: the latest");
    ok(!jstr("tags"), "no tags unless asked");
    call("DescribeTaskDefinition", "{\"taskDefinition\":\"web:1\",\"include\":[\"TAGS\"]}");
    is_str(jstr("taskDefinition.revision"), "1", "describe by family:rev");
    is_str(jstr("tags.0.value"), "a", "include TAGS");
    call("DescribeTaskDefinition", "{\"taskDefinition\":\"" ARN "web:2\"}");
    is_str(jstr("taskDefinition.revision"), "2", "describe by ARN");
    call("DescribeTaskDefinition", "{\"taskDefinition\":\"nope\"}");
    is_str(jstr("__type"), "ClientException", "describe of nothing: ClientException");
    call("DescribeTaskDefinition", "{\"taskDefinition\":5}");
    is_str(jstr("__type"), "InvalidParameterException", "a number for a string: "
                                                        "InvalidParameterException");
    like(jstr("message"), "taskDefinition: ", "naming the member");
    call("DescribeTaskDefinition", "{\"taskDefinition\":\"web\",\"include\":[\"X\"]}");
    like(jstr("message"), "include[0]: expected TAGS", "include takes TAGS only");
    call("DescribeTaskDefinition", "{}");
    like(jstr("message"), "taskDefinition", "a missing required member is named");

    call("RegisterTaskDefinition", "{\"family\":\"api\",\"containerDefinitions\":"
                                   "[{\"name\":\"a\",\"image\":\"b\",\"memory\":8}]}");
    call("ListTaskDefinitions", "{\"maxResults\":2}");
    ok(jlen("taskDefinitionArns") == 2 && jstr("nextToken"), "a page of 2 with a nextToken");
    is_str(jstr("taskDefinitionArns.0"), ARN "api:1", "ordered by family");
    char token[512];
    snprintf(token, sizeof(token), "{\"maxResults\":2,\"nextToken\":\"%s\"}",
             jstr("nextToken"));
    call("ListTaskDefinitions", token);
    ok(jlen("taskDefinitionArns") == 1 && !jstr("nextToken"), "the last page");
    is_str(jstr("taskDefinitionArns.0"), ARN "web:2", "with the rest");
    call("ListTaskDefinitions", "{\"familyPrefix\":\"web\",\"sort\":\"DESC\"}");
    is_str(jstr("taskDefinitionArns.0"), ARN "web:2", "DESC: newest first");
    call("ListTaskDefinitions", "{\"maxResults\":0}");
    is_str(jstr("__type"), "InvalidParameterException", "maxResults 0 is refused");
    like(jstr("message"), "maxResults", "naming it");
    call("ListTaskDefinitions", "{\"status\":\"GONE\"}");
    like(jstr("message"), "status", "an unknown status is refused");
    call("ListTaskDefinitions", "{\"nextToken\":\"garbage\"}");
    is_str(jstr("__type"), "InvalidParameterException", "a bad nextToken");

    call("ListTaskDefinitionFamilies", "{}");
    ok(jlen("families") == 2, "two families");
    is_str(jstr("families.0"), "api", "sorted");
    call("ListTaskDefinitionFamilies", "{\"familyPrefix\":\"w\"}");
    ok(jlen("families") == 1, "familyPrefix is a prefix");

    call("DeregisterTaskDefinition", "{\"taskDefinition\":\"web:1\"}");
    is_str(jstr("taskDefinition.status"), "INACTIVE", "deregister: INACTIVE");
    ok(jstr("taskDefinition.deregisteredAt") != NULL, "with deregisteredAt");
    call("ListTaskDefinitions", "{\"status\":\"INACTIVE\"}");
    ok(jlen("taskDefinitionArns") == 1, "listed as INACTIVE");

    call("DeleteTaskDefinitions",
         "{\"taskDefinitions\":[\"web:1\",\"web:2\",\"nope:1\"]}");
    ok(last.status == 200, "DeleteTaskDefinitions: 200");
    ok(jlen("taskDefinitions") == 1, "one deleted");
    is_str(jstr("taskDefinitions.0.status"), "DELETE_IN_PROGRESS", "shown DELETE_IN_PROGRESS");
    ok(jlen("failures") == 2, "two failures");
    is_str(jstr("failures.0.arn"), "web:2", "the ACTIVE one");
    like(jstr("failures.0.reason"), "ACTIVE", "because it is ACTIVE");
    like(jstr("failures.1.reason"), "does not exist", "and the missing one");
    call("DeleteTaskDefinitions", "{\"taskDefinitions\":[]}");
    is_str(jstr("__type"), "InvalidParameterException", "an empty list is refused");
}

static void
test_tags(void)
{
    call("TagResource", "{\"resourceArn\":\"" ARN "web:2\",\"tags\":[{\"key\":\"a\","
                        "\"value\":\"1\"},{\"key\":\"b\"}]}");
    ok(last.status == 200 && cJSON_GetArraySize(last.json) == 0, "TagResource: {}");
    call("ListTagsForResource", "{\"resourceArn\":\"" ARN "web:2\"}");
    ok(jlen("tags") == 2, "ListTagsForResource: 2 tags");
    is_str(jstr("tags.1.value"), "", "a tag without value has \"\"");
    call("UntagResource", "{\"resourceArn\":\"" ARN "web:2\",\"tagKeys\":[\"a\"]}");
    ok(last.status == 200, "UntagResource: 200");
    call("ListTagsForResource", "{\"resourceArn\":\"" ARN "web:2\"}");
    ok(jlen("tags") == 1, "one tag left");
    call("ListTagsForResource",
         "{\"resourceArn\":\"arn:aws:ecs:eu-west-3:123456789012:cluster/nope\"}");
    is_str(jstr("__type"), "ClusterNotFoundException", "an unknown cluster's ARN");
    call("ListTagsForResource",
         "{\"resourceArn\":\"arn:aws:ecs:eu-west-3:123456789012:service/c/s\"}");
    is_str(jstr("__type"), "ResourceNotFoundException", "an unknown service's ARN");
    like(jstr("message"), "service/c/s", "naming the ARN");
    call("ListTagsForResource",
         "{\"resourceArn\":\"arn:aws:ecs:eu-west-3:123456789012:capacity-provider/x\"}");
    is_str(jstr("__type"), "InvalidParameterException", "a capacity provider's ARN is refused");
    like(jstr("message"), "not supported by Berth", "saying Berth does not tag those");
    call("TagResource", "{\"resourceArn\":\"web:2\",\"tags\":[]}");
    like(jstr("message"), "expected an ARN", "a non-ARN is refused");
    call("TagResource", "{\"resourceArn\":\"" ARN "web:2\",\"tags\":[{\"key\":\"aws:x\"}]}");
    is_str(jstr("__type"), "InvalidParameterException", "a reserved key is refused");
    call("TagResource", "{\"resourceArn\":\"" ARN "web:9\",\"tags\":[{\"key\":\"x\"}]}");
    is_str(jstr("__type"), "ClientException", "tags on a missing revision: ClientException");
}

/* ---- clusters, the container instance and placement (actions_clusters.c),
 *      with a task manager that has no engine: tasks stay PROVISIONING and
 *      hold what they reserve. ---- */

static unsigned fake_services(void *arg, const char *cluster_arn)
{
    return strstr(cluster_arn, (const char *)arg) ? 2 : 0;
}

static void
test_clusters(struct api *api, struct store *st)
{
    const uint16_t reserved[] = {22};
    struct tasks_conf tc = {.cluster = "home", .region = "eu-west-3",
                            .account_id = "123456789012", .port_first = 42000,
                            .port_last = 42999, .retention_ms = 60000,
                            .reserved_ports = reserved, .n_reserved_ports = 1};
    struct api_tasks_ctx x = {.store = st, .cluster = "home", .region = "eu-west-3",
                              .account_id = "123456789012",
                              .active_services = fake_services,
                              .services_arg = (void *)"cluster/svc"};
    struct store_instance in = {0};
    struct res host;
    char err[512], body[512];

    x.tasks = tasks_new(loop, st, &tc, err, sizeof err);
    ok(x.tasks != NULL, "a task manager without engine");
    ok(store_instance_register(st, "home", err, sizeof err) == STORE_OK &&
           store_instance_get(st, &in, err, sizeof err) == STORE_OK,
       "this host registered in cluster home");
    res_host(&host, 1, 1000, reserved, 1);
    x.instance_id = in.id;
    x.registered_at_ms = in.registered_at_ms;
    x.host = &host;
    ok(api_add_actions(api, api_cluster_actions, &x) == 0 &&
           api_add_actions(api, api_task_actions, &x) == 0,
       "cluster and task actions register");

    call("CreateCluster", "{}");
    is_str(jstr("cluster.clusterName"), "default", "clusterName defaults to default");
    call("CreateCluster", "{\"clusterName\":\"svc\",\"settings\":[{\"name\":"
                          "\"containerInsights\",\"value\":\"maybe\"}]}");
    like(jstr("message"), "settings[0].value", "a bad setting names its path");
    call("CreateCluster", "{\"clusterName\":\"svc\",\"defaultCapacityProviderStrategy\":"
                          "[{\"capacityProvider\":\"FARGATE\"}]}");
    like(jstr("message"), "defaultCapacityProviderStrategy", "capacity strategy refused");
    call("CreateCluster", "{\"clusterName\":\"svc\"}");
    is_str(jstr("cluster.activeServicesCount"), "2", "activeServicesCount from the hook");
    call("DeleteCluster", "{\"cluster\":\"svc\"}");
    is_str(jstr("__type"), "ClusterContainsServicesException", "services block deletion");
    is_str(jstr("message"), "The Cluster cannot be deleted while Services are active.",
           "with ECS's message");
    call("DescribeClusters", "{}");
    is_str(jstr("clusters.0.clusterName"), "home", "no clusters named: this host's");
    static const struct {
        const char *filter;
        int n; /* instances listed; -1: refused */
    } filters[] = {
        {"attribute:ecs.os-type == linux", 1},
        {"attribute:ecs.os-type==linux", 1},
        {"attribute:ecs.os-type != linux", 0},
        {"attribute:ecs.os-type == windows", 0},
        {"attribute:ecs.capability.task-eni", 1},
        {"attribute:ecs.capability.task-eni exists", 1},
        {"attribute:ecs.nope exists", 0},
        {"attribute:ecs.os-type exist", -1},
        {"attribute:ecs.os-type == linux and attribute:x exists", -1},
        {"runningTasksCount > 1", -1},
        {"attribute:ecs.os-type =~ lin", -1},
    };
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++) {
        snprintf(body, sizeof body, "{\"filter\":\"%s\"}", filters[i].filter);
        call("ListContainerInstances", body);
        if (filters[i].n < 0)
            like(jstr("message"), "only one expression on an attribute",
                 "filter \"%s\" is refused", filters[i].filter);
        else
            ok(jlen("containerInstanceArns") == filters[i].n, "filter \"%s\" lists %d",
               filters[i].filter, filters[i].n);
    }
    call("DescribeContainerInstances", "{\"containerInstances\":[\"x\"]}");
    is_str(jstr("failures.0.reason"), "MISSING", "an unknown instance is MISSING");
    snprintf(body, sizeof body, "{\"cluster\":\"home\",\"containerInstances\":[\"%s\"]}",
             in.id);
    call("DescribeContainerInstances", body);
    like(jstr("containerInstances.0.containerInstanceArn"),
         "arn:aws:ecs:eu-west-3:123456789012:container-instance/home/", "the instance ARN");
    ok(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
           cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(last.json,
                                                               "containerInstances"),
                              0),
           "agentConnected")),
       "agentConnected false: no engine");
    is_str(jstr("containerInstances.0.registeredResources.0.integerValue"), "1024",
           "registered CPU");
    is_str(jstr("containerInstances.0.remainingResources.1.integerValue"), "1000",
           "nothing reserved yet: all memory remains");

    /* Without an engine a task fails at once: what it reserved is free
     * again, so the live-task side is tested in api_clusters.sh. */
    call("RegisterTaskDefinition",
         "{\"family\":\"big\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
         "\"memory\":600,\"cpu\":100,\"portMappings\":[{\"containerPort\":80,"
         "\"hostPort\":42700}]}]}");
    ok(last.status == 200, "a definition with 600 MiB and host port 42700");
    call("RunTask", "{\"taskDefinition\":\"big\",\"count\":2}");
    ok(jlen("tasks") == 1 && jlen("failures") == 1,
       "count 2 of 600 MiB on 1000 MiB: one task, one failure");
    is_str(jstr("failures.0.reason"), "RESOURCE:MEMORY", "RESOURCE:MEMORY");
    like(jstr("failures.0.arn"), "container-instance/home/", "on this instance");
    call("RunTask", "{\"taskDefinition\":\"big\"}");
    ok(jlen("tasks") == 1, "a stopped task (no engine) holds nothing");
    call("RegisterTaskDefinition",
         "{\"family\":\"port\",\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"i\","
         "\"memory\":10,\"portMappings\":[{\"containerPort\":80,\"hostPort\":22}]}]}");
    call("RunTask", "{\"taskDefinition\":\"port\"}");
    ok(jlen("tasks") == 0, "a reserved host port: no task");
    is_str(jstr("failures.0.reason"), "RESOURCE:PORTS", "RESOURCE:PORTS");
    call("RegisterTaskDefinition",
         "{\"family\":\"cpu\",\"cpu\":\"2048\",\"memory\":\"10\",\"containerDefinitions\":"
         "[{\"name\":\"a\",\"image\":\"i\"}]}");
    call("RunTask", "{\"taskDefinition\":\"cpu\"}");
    is_str(jstr("failures.0.reason"), "RESOURCE:CPU", "2048 units on one CPU: CPU");
    snprintf(body, sizeof body, "{\"taskDefinition\":\"port\",\"containerInstances\":"
             "[\"nope\"]}");
    call("StartTask", body);
    is_str(jstr("failures.0.reason"), "MISSING", "StartTask elsewhere: MISSING");
    call("RunTask", "{\"cluster\":\"default\",\"taskDefinition\":\"port\"}");
    is_str(jstr("message"), "No Container Instances were found in your cluster.",
           "RunTask in a cluster without instances");
    call("ListTasks", "{\"cluster\":\"nosuch\"}");
    is_str(jstr("__type"), "ClusterNotFoundException", "an unknown cluster");
    call("DeleteCluster", "{\"cluster\":\"home\"}");
    is_str(jstr("__type"), "ClusterContainsContainerInstancesException",
           "this host's cluster cannot be deleted");
    call("DescribeClusters", "{\"clusters\":[\"home\"],\"include\":[\"STATISTICS\"]}");
    is_str(jstr("clusters.0.statistics.2.name"), "pendingEC2TasksCount",
           "statistics as ECS names them");
    resp_clear();

    tasks_free(x.tasks);
    res_free(&host);
    store_instance_free(&in);
}

int
main(void)
{
    struct conf *c = NULL;
    struct conf_errors errs = {0};
    struct store *st = NULL;
    struct api *api;
    char text[1024], err[512], dbp[300];

    log_setup(LOG_TARGET_STDERR, BERTH_LOG_ERROR);
    loop = ev_default_loop(0);
    if (!mkdtemp(tmpdir))
        abort();
    snprintf(sock_path, sizeof(sock_path), "%s/api.sock", tmpdir);
    snprintf(text, sizeof(text), "[agent]\nregion = eu-west-3\naccount-id = 123456789012\n"
             "state-dir = %s\n[api]\nsocket = %s\n", tmpdir, sock_path);
    ok(conf_load_string(text, "t.conf", &c, &errs) == 0, "conf loads");
    snprintf(dbp, sizeof(dbp), "%s/berth.db", tmpdir);
    ok(store_open(dbp, "eu-west-3", "123456789012", &st, err, sizeof(err)) == STORE_OK,
       "store opens");
    api = api_start(loop, c, &errs);
    for (size_t i = 0; i < errs.n; i++)
        diag("%s", errs.msg[i]);
    ok(api != NULL, "the API starts");
    struct api_tasks_ctx tags_ctx = {.store = st}; /* no tasks, no services */
    ok(api_add_actions(api, api_taskdef_actions, st) == 0 &&
           api_add_actions(api, api_tag_actions, &tags_ctx) == 0 &&
           api_add_actions(api, test_actions, (void *)"my context") == 0,
       "action tables register");
    ok(api_add_actions(api, test_actions, NULL) < 0, "a second table with the same "
                                                     "actions is refused");

    test_protocol();
    test_taskdefs();
    test_tags();
    resp_clear();
    test_clusters(api, st);

    /* A second API on the same socket is refused with its conf line. */
    struct api *api2 = api_start(loop, c, &errs);
    ok(api2 == NULL, "a second API on the same socket is refused");
    like(errs.n ? errs.msg[0] : "", "t.conf:6: [api] socket: cannot bind",
         "naming the conf line");
    conf_errors_clear(&errs);

    api_free(api);
    ok(access(sock_path, F_OK) < 0, "api_free removes the socket");
    store_close(st);
    conf_free(c);
    snprintf(text, sizeof(text), "rm -rf %s", tmpdir);
    if (system(text) != 0)
        diag("cannot remove %s", tmpdir);
    ev_loop_destroy(loop);
    return done_testing();
}
