/* test_overrides.c: RunTask's overrides (agent/overrides.h): parse errors
 * with their paths, the merge rules, the merged definition's own rules
 * reported at the override's path, the shown form and its stored round
 * trip on a task. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agent/overrides.h"
#include "agent/task.h"
#include "agent/taskdef.h"
#include "tests/lib/tap.h"

/* JSON written with ' for " so that the documents stay readable here. */
static char *J(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static const char *const TD =
    "{'family':'web','memory':'1024','containerDefinitions':["
    "{'name':'app','image':'busybox','cpu':128,'memory':256,'memoryReservation':128,"
    " 'command':['httpd','-f'],"
    " 'environment':[{'name':'A','value':'1'},{'name':'B','value':'2'}]},"
    "{'name':'side','image':'busybox','memory':64}]}";

/* Parses the overrides text; the errors (and ignored members) as one line
 * each joined by "|" into *msgs (caller frees). */
static size_t parse(const char *text, struct overrides *ov, char **msgs)
{
    char *s = J(text);
    cJSON *o = cJSON_Parse(s);
    struct json_errors errs = {0};
    size_t n;

    memset(ov, 0, sizeof *ov);
    n = overrides_parse(o, ov, &errs);
    char *m = json_errors_message(&errs);
    size_t len = (m ? strlen(m) : 0) + 2;
    for (size_t i = 0; i < errs.n_ignored; i++)
        len += strlen(errs.ignored[i]) + 1;
    *msgs = calloc(1, len);
    strcpy(*msgs, m ? m : "");
    for (size_t i = 0; i < errs.n_ignored; i++) {
        strcat(*msgs, "|");
        strcat(*msgs, errs.ignored[i]);
    }
    free(m);
    json_errors_clear(&errs);
    cJSON_Delete(o);
    free(s);
    return n;
}

/* Parses (must succeed) and applies the overrides to TD; returns what
 * overrides_apply returned, with the merged text, shown form and errors. */
static int apply(const char *text, char **merged, cJSON **shown, char **msg)
{
    struct overrides ov;
    struct json_errors errs = {0};
    char *pmsg, *td = J(TD);
    int rc = -2;

    if (parse(text, &ov, &pmsg) == 0)
        rc = overrides_apply(&ov, td, merged, shown, &errs);
    else
        diag("parse failed: %s", pmsg);
    *msg = json_errors_message(&errs);
    json_errors_clear(&errs);
    overrides_free(&ov);
    free(pmsg);
    free(td);
    return rc;
}

static void test_parse(void)
{
    struct overrides ov;
    char *m;

    ok(parse("{'containerOverrides':[{'name':'app','command':['sh'],'cpu':64,"
             "'environment':[{'name':'X','value':'y'}],"
             "'environmentFiles':[{'value':'/etc/x.env','type':'s3'}]}],"
             "'cpu':'512','memory':'1 GB','taskRoleArn':'arn:r','executionRoleArn':'arn:e',"
             "'ephemeralStorage':{'sizeInGiB':30},'inferenceAcceleratorOverrides':[]}",
             &ov, &m) == 0, "a full TaskOverride parses");
    ok(ov.n_containers == 1 && strcmp(ov.containers[0].name, "app") == 0 &&
       ov.containers[0].has_command && ov.containers[0].command.n == 1 &&
       ov.containers[0].has_cpu && ov.containers[0].cpu == 64 &&
       !ov.containers[0].has_memory && ov.containers[0].n_environment == 1 &&
       ov.containers[0].n_environment_files == 1, "its container override is read");
    is_str(ov.memory, "1 GB", "task memory as written");
    like(m, "overrides.taskRoleArn: ignored", "taskRoleArn reported ignored");
    like(m, "overrides.executionRoleArn: ignored", "executionRoleArn reported ignored");
    like(m, "overrides.ephemeralStorage: ignored", "ephemeralStorage reported ignored");
    like(m, "overrides.inferenceAcceleratorOverrides: ignored",
         "inferenceAcceleratorOverrides reported ignored");
    overrides_free(&ov);
    free(m);

    ok(parse("{'containerOverrides':[{'name':'app'},{'command':'sh','cpu':'1',"
             "'resourceRequirements':[{'type':'GPU','value':'1'}],'bogus':1}],"
             "'memory':512}", &ov, &m) == 6, "every error is reported (6)");
    like(m, "overrides.containerOverrides[1].name: ", "missing name, at its path");
    like(m, "overrides.containerOverrides[1].command: expected an array",
         "command must be a list");
    like(m, "overrides.containerOverrides[1].cpu: expected an integer",
         "cpu must be an integer");
    like(m, "overrides.containerOverrides[1].resourceRequirements: not supported",
         "resourceRequirements refused with its path");
    like(m, "GPUs", "... and the reason");
    like(m, "overrides.containerOverrides[1].bogus: unknown field", "unknown members refused");
    like(m, "overrides.memory: expected a string", "task memory is a string");
    overrides_free(&ov);
    free(m);

    ok(parse("[1]", &ov, &m) == 1, "overrides must be an object");
    like(m, "overrides: expected an object", "... said at its path");
    overrides_free(&ov);
    free(m);
}

static const cJSON *ctr(const cJSON *td, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(td, "containerDefinitions"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return c;
    }
    return NULL;
}

static const char *env(const cJSON *c, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "environment"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return cJSON_IsString(v) ? v->valuestring : "";
    }
    return NULL;
}

static int num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

static void test_merge(void)
{
    char *merged = NULL, *m = NULL;
    cJSON *shown = NULL;

    ok(apply("{'containerOverrides':[{'name':'app','command':['sleep','60'],"
             "'environment':[{'name':'B','value':'two'},{'name':'C','value':'3'}],"
             "'environmentFiles':[{'value':'/etc/app.env','type':'s3'}],"
             "'memory':512,'memoryReservation':200,'cpu':256}],'memory':'2 GB'}",
             &merged, &shown, &m) == 0, "overrides apply");
    cJSON *td = cJSON_Parse(merged ? merged : "");
    const cJSON *app = ctr(td, "app"), *side = ctr(td, "side");
    char *cmd = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(app, "command"));
    is_str(cmd, "[\"sleep\",\"60\"]", "command replaces the definition's");
    free(cmd);
    is_str(env(app, "A"), "1", "an environment variable not overridden is kept");
    is_str(env(app, "B"), "two", "an overridden one takes the override's value");
    is_str(env(app, "C"), "3", "a new one is added");
    ok(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(app, "environment")) == 3,
       "no variable twice");
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(app, "environmentFiles");
    ok(cJSON_GetArraySize(files) == 1 &&
           strcmp(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(files, 0), "value")
                      ->valuestring, "/etc/app.env") == 0,
       "environmentFiles are added");
    ok(num(app, "memory") == 512 && num(app, "memoryReservation") == 200 &&
       num(app, "cpu") == 256, "cpu, memory, memoryReservation replaced");
    ok(num(side, "memory") == 64 && !cJSON_HasObjectItem(side, "command"),
       "a container without override is unchanged");
    struct taskdef *parsed = NULL;
    struct json_errors errs = {0};
    ok(merged && taskdef_parse(merged, strlen(merged), &parsed, &errs) == 0 &&
       parsed->memory == 2048, "the merged text is a definition with the task's memory");
    json_errors_clear(&errs);
    taskdef_free(parsed);
    cJSON_Delete(td);

    char *s = cJSON_PrintUnformatted(shown);
    is_str(s,
           "{\"containerOverrides\":[{\"name\":\"app\",\"command\":[\"sleep\",\"60\"],"
           "\"environment\":[{\"name\":\"B\",\"value\":\"two\"},{\"name\":\"C\",\"value\":"
           "\"3\"}],\"environmentFiles\":[{\"value\":\"/etc/app.env\",\"type\":\"s3\"}],"
           "\"cpu\":256,\"memory\":512,\"memoryReservation\":200},{\"name\":\"side\"}],"
           "\"memory\":\"2 GB\",\"inferenceAcceleratorOverrides\":[]}",
           "shown as ECS's Task.overrides: every container by name");
    free(s);
    free(m);
    free(merged);
    cJSON_Delete(shown);

    ok(apply("{}", &merged, &shown, &m) == 0, "empty overrides apply");
    s = cJSON_PrintUnformatted(shown);
    is_str(s, "{\"containerOverrides\":[{\"name\":\"app\"},{\"name\":\"side\"}],"
              "\"inferenceAcceleratorOverrides\":[]}", "... shown with the names only");
    free(s);
    free(m);
    free(merged);
    cJSON_Delete(shown);
}

/* Applying must fail with messages containing each of want (NULL-ended). */
static void refused(const char *text, const char *what, const char *const *want)
{
    char *merged = NULL, *m = NULL;
    cJSON *shown = NULL;

    ok(apply(text, &merged, &shown, &m) == -1 && !merged && !shown, "refused: %s", what);
    for (; *want; want++)
        like(m, *want, "%s: %s", what, *want);
    free(m);
    free(merged);
    cJSON_Delete(shown);
}

static void test_refused(void)
{
    refused("{'containerOverrides':[{'name':'app'},{'name':'nope'},{'name':'app'}]}",
            "containers not in the definition, or twice",
            (const char *const[]){"overrides.containerOverrides[1].name: no container "
                                  "named \"nope\"",
                                  "overrides.containerOverrides[2].name: container \"app\" "
                                  "is already overridden by containerOverrides[0]",
                                  NULL});
    refused("{'containerOverrides':[{'name':'app','memoryReservation':300}]}",
            "memoryReservation above the definition's memory",
            (const char *const[]){"overrides.containerOverrides[0].memoryReservation: "
                                  "must be less than memory (256 MiB)", NULL});
    refused("{'containerOverrides':[{'name':'side'},{'name':'app','memory':100}]}",
            "memory below the definition's memoryReservation",
            (const char *const[]){"overrides.containerOverrides[1].memory: must be less "
                                  "than memory (100 MiB), got 128", NULL});
    refused("{'memory':'200'}", "task memory below its containers'",
            (const char *const[]){"overrides.memory: the containers' memory adds up to "
                                  "320 MiB, more than the task's 200", NULL});
    refused("{'containerOverrides':[{'name':'side','memory':2000}]}",
            "a container override that the task's own memory cannot hold",
            (const char *const[]){"overrides: the task definition with these overrides "
                                  "breaks its rules at memory: the containers' memory "
                                  "adds up to 2256 MiB", NULL});
    refused("{'cpu':'lots','containerOverrides':[{'name':'app','cpu':-5,"
            "'environmentFiles':[{'value':'relative.env','type':'s3'}]}]}",
            "values the definition's rules refuse",
            (const char *const[]){"overrides.cpu: expected CPU units",
                                  "overrides.containerOverrides[0].cpu: ",
                                  "overrides.containerOverrides[0].environmentFiles: ",
                                  NULL});
}

/* The task keeps its overrides in its stored form. */
static void test_stored(void)
{
    char *merged = NULL, *m = NULL, *err_s = NULL;
    cJSON *shown = NULL;
    struct taskdef *td = NULL;
    struct json_errors errs = {0};
    char err[256];

    ok(apply("{'containerOverrides':[{'name':'side','command':['true']}],"
             "'taskRoleArn':'arn:aws:iam::1:role/r'}", &merged, &shown, &m) == 0,
       "overrides for the stored task apply");
    ok(taskdef_parse(merged, strlen(merged), &td, &errs) == 0, "merged definition parses");
    json_errors_clear(&errs);
    struct task *t = task_new(td, merged, "arn:aws:ecs:r:1:task-definition/web:1", 1,
                              "eu-west-3", "123456789012", "default", 1718000000000LL);
    ok(t != NULL, "task_new");
    t->overrides = shown;
    cJSON *stored = task_to_json(t, true);
    char *text = cJSON_PrintUnformatted(stored);
    struct task *back = task_from_json(text, merged, err, sizeof err);
    ok(back != NULL, "the stored task reads back");
    cJSON *a = task_to_json(t, false), *b = back ? task_to_json(back, false) : NULL;
    char *sa = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(a, "overrides"));
    char *sb = b ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(b, "overrides"))
                 : NULL;
    is_str(sb, sa, "overrides survive the stored form");
    like(sa, "\"taskRoleArn\":\"arn:aws:iam::1:role/r\"", "the role is shown as given");
    like(sa, "{\"name\":\"app\"}", "the container without override is named");

    /* A task run without overrides shows every container by name. */
    t->overrides = NULL;
    cJSON *c = task_to_json(t, false);
    char *sc = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "overrides"));
    is_str(sc, "{\"containerOverrides\":[{\"name\":\"app\"},{\"name\":\"side\"}],"
               "\"inferenceAcceleratorOverrides\":[]}", "no overrides: the names");
    cJSON_Delete(shown);
    free(sa);
    free(sb);
    free(sc);
    free(text);
    free(err_s);
    free(m);
    free(merged);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(stored);
    task_free(t);
    task_free(back);
}

int main(void)
{
    test_parse();
    test_merge();
    test_refused();
    test_stored();
    return done_testing();
}
