/* rt_drive: runs one operation of a runtime plugin, loaded with the agent's
 * own plugin loader and host, and prints its result as one JSON line.
 *
 *   rt_drive CONF version | sandbox-create SPEC.json | sandbox-remove ID TIMEOUT
 *            | create SPEC.json | start ID | stop ID TIMEOUT | remove ID
 *            | inspect ID | list LABEL | stats ID | watch LABEL COUNT SECONDS
 *
 * CONF is a berth.conf whose first enabled [plugin NAME] section is the
 * runtime plugin.  Each line has "code" ("OK", "NOT_FOUND", ...) and "msg",
 * plus what the operation returned under the ABI's own field names (an
 * info's fields, "id", "containers": [...], the stats).  watch prints one
 * line per event ("event": "STATE", "HEALTH", ..., "detail", and the info)
 * and stops after COUNT events or SECONDS.  Exit: 0 when the operation
 * answered OK (watch: COUNT events came), 1 otherwise, 2 on a usage or
 * conf error.  The agent's log (the plugin's included) goes to stderr, at
 * the conf's log-level. */
#include "config.h"

#include <cjson/cJSON.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/host.h"
#include "agent/log.h"
#include "agent/plugin_host.h"

static struct ev_loop *loop;
static struct plugin *plug;
static const struct berth_runtime_ops *ops;
static int finished, exit_code = 1;
static long want_events, got_events;

static const char *
code_name(enum berth_rt_code c)
{
    static const char *const names[] = {"OK", "NOT_FOUND", "CONFLICT", "INVALID",
                                        "UNAVAILABLE", "FAILED"};
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "BAD_CODE";
}

static const char *
state_name(enum berth_ctr_state s)
{
    static const char *const names[] = {"UNKNOWN", "CREATED", "RUNNING", "EXITED",
                                        "REMOVED"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "BAD_STATE";
}

static const char *
health_name(enum berth_ctr_health h)
{
    static const char *const names[] = {"NONE", "STARTING", "HEALTHY", "UNHEALTHY"};
    return (unsigned)h < sizeof(names) / sizeof(names[0]) ? names[h] : "BAD_HEALTH";
}

static const char *
event_name(enum berth_rt_event_type t)
{
    switch (t) {
    case BERTH_RT_EV_STATE: return "STATE";
    case BERTH_RT_EV_HEALTH: return "HEALTH";
    case BERTH_RT_EV_OOM: return "OOM";
    case BERTH_RT_EV_ENGINE_DOWN: return "ENGINE_DOWN";
    case BERTH_RT_EV_ENGINE_UP: return "ENGINE_UP";
    }
    return "BAD_EVENT";
}

/* A NULL string is printed as null, so a test can tell it from "". */
static void
add_str(cJSON *o, const char *k, const char *v)
{
    cJSON_AddItemToObject(o, k, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static void
add_info(cJSON *o, const struct berth_container_info *i)
{
    add_str(o, "id", i->id);
    add_str(o, "name", i->name);
    add_str(o, "image", i->image);
    add_str(o, "image_id", i->image_id);
    add_str(o, "sandbox_id", i->sandbox_id);
    cJSON_AddStringToObject(o, "state", state_name(i->state));
    cJSON_AddNumberToObject(o, "exit_code", i->exit_code);
    cJSON_AddBoolToObject(o, "oom_killed", i->oom_killed);
    add_str(o, "error", i->error);
    cJSON_AddStringToObject(o, "health", health_name(i->health));
    add_str(o, "health_output", i->health_output);
    cJSON_AddNumberToObject(o, "health_exit_code", i->health_exit_code);
    cJSON_AddNumberToObject(o, "created_at_ms", (double)i->created_at_ms);
    cJSON_AddNumberToObject(o, "started_at_ms", (double)i->started_at_ms);
    cJSON_AddNumberToObject(o, "finished_at_ms", (double)i->finished_at_ms);
    cJSON *l = cJSON_AddObjectToObject(o, "labels");
    for (size_t k = 0; k < i->n_labels; k++)
        add_str(l, i->labels[k].name, i->labels[k].value);
    cJSON *ps = cJSON_AddArrayToObject(o, "ports");
    for (size_t k = 0; k < i->n_ports; k++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "container_port", i->ports[k].container_port);
        cJSON_AddNumberToObject(p, "host_port", i->ports[k].host_port);
        add_str(p, "protocol", i->ports[k].protocol);
        add_str(p, "host_ip", i->ports[k].host_ip);
        cJSON_AddItemToArray(ps, p);
    }
    add_str(o, "ip_address", i->ip_address);
    cJSON_AddNumberToObject(o, "restart_count", i->restart_count);
    cJSON_AddNumberToObject(o, "pid", i->pid);
}

static cJSON *
result(enum berth_rt_code code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", code_name(code));
    add_str(o, "msg", msg);
    return o;
}

static void
print(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    printf("%s\n", s ? s : "{\"code\":\"FAILED\",\"msg\":\"out of memory\"}");
    fflush(stdout);
    free(s);
    cJSON_Delete(o);
}

static void
finish(cJSON *o, enum berth_rt_code code)
{
    if (finished++) { /* a second callback breaks the ABI's contract */
        fprintf(stderr, "rt_drive: the plugin called back twice\n");
        cJSON_AddBoolToObject(o, "second_callback", 1);
        print(o);
        exit_code = 1;
        return;
    }
    print(o);
    exit_code = code == BERTH_RT_OK ? 0 : 1;
}

/* ---- callbacks ---- */

static int in_op; /* set during the operation call: a callback then is a bug */

static void
check_not_inline(void)
{
    if (in_op) {
        fprintf(stderr, "rt_drive: callback from inside the operation call\n");
        exit(1);
    }
}

static void
done_cb(void *arg, enum berth_rt_code code, const char *msg)
{
    (void)arg;
    check_not_inline();
    finish(result(code, msg), code);
}

static void
id_cb(void *arg, enum berth_rt_code code, const char *id, const char *msg)
{
    (void)arg;
    check_not_inline();
    cJSON *o = result(code, msg);
    add_str(o, "id", id);
    finish(o, code);
}

static void
info_cb(void *arg, enum berth_rt_code code, const struct berth_container_info *i,
        const char *msg)
{
    (void)arg;
    check_not_inline();
    cJSON *o = result(code, msg);
    if (i)
        add_info(o, i);
    finish(o, code);
}

static void
list_cb(void *arg, enum berth_rt_code code, const struct berth_container_info *v,
        size_t n, const char *msg)
{
    (void)arg;
    check_not_inline();
    cJSON *o = result(code, msg), *a = cJSON_AddArrayToObject(o, "containers");
    for (size_t k = 0; k < n; k++) {
        cJSON *c = cJSON_CreateObject();
        add_info(c, &v[k]);
        cJSON_AddItemToArray(a, c);
    }
    finish(o, code);
}

static void
stats_cb(void *arg, enum berth_rt_code code, const struct berth_container_stats *s,
         const char *msg)
{
    (void)arg;
    check_not_inline();
    cJSON *o = result(code, msg);
    if (s) {
#define N(f) cJSON_AddNumberToObject(o, #f, (double)s->f)
        N(time_ms); N(cpu_total_ns); N(cpu_user_ns); N(cpu_system_ns);
        N(cpu_throttled_ns); N(online_cpus); N(memory_usage); N(memory_working_set);
        N(memory_rss); N(memory_cache); N(memory_limit); N(net_rx_bytes);
        N(net_tx_bytes); N(blk_read_bytes); N(blk_write_bytes); N(pids);
#undef N
    }
    finish(o, code);
}

static void
event_cb(void *arg, const struct berth_runtime_event *ev)
{
    (void)arg;
    check_not_inline();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", event_name(ev->type));
    add_str(o, "detail", ev->detail);
    if (ev->info)
        add_info(o, ev->info);
    print(o);
    if (++got_events >= want_events) {
        exit_code = 0;
        finished = 1;
    }
}

/* ---- version: polled until the plugin has reached its engine ---- */

static ev_timer poll_timer;
static int polls;

static void
poll_version(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l; (void)revents;
    const char *v = ops->engine_version(plug->state);
    if (v || ++polls >= 200) { /* 10 s */
        cJSON *o = result(v ? BERTH_RT_OK : BERTH_RT_UNAVAILABLE,
                          v ? "" : "no engine version after 10 s");
        add_str(o, "version", v);
        finish(o, v ? BERTH_RT_OK : BERTH_RT_UNAVAILABLE);
        ev_timer_stop(loop, w);
    }
}

/* ---- driving ---- */

static ev_timer deadline;
static int timed_out;

static void
on_deadline(struct ev_loop *l, ev_timer *w, int revents)
{
    (void)l; (void)w; (void)revents;
    timed_out = 1;
}

static int stop_done_seen;

static void
on_stop_done(void *arg, struct plugin *p)
{
    (void)arg; (void)p;
    stop_done_seen = 1;
}

static void
run_until_finished(double seconds)
{
    timed_out = 0;
    ev_timer_init(&deadline, on_deadline, seconds, 0.);
    ev_timer_start(loop, &deadline);
    while (!finished && !timed_out)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &deadline);
}

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1))) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

static int
usage(void)
{
    fprintf(stderr,
            "usage: rt_drive CONF version | sandbox-create SPEC.json |"
            " sandbox-remove ID TIMEOUT | create SPEC.json | start ID |"
            " stop ID TIMEOUT | remove ID | inspect ID | list LABEL | stats ID |"
            " watch LABEL COUNT SECONDS\n");
    return 2;
}

struct op {
    const char *name;
    int nargs;
};

static const struct op op_table[] = {
    {"version", 0}, {"sandbox-create", 1}, {"sandbox-remove", 2}, {"create", 1},
    {"start", 1},   {"stop", 2},           {"remove", 1},         {"inspect", 1},
    {"list", 1},    {"stats", 1},          {"watch", 3},          {NULL, 0},
};

static int
number(const char *s, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Starts the operation; -1 when the plugin refused it (it logged why). */
static int
begin(const char *op, char **argv, char **spec, double *wait_s)
{
    void *st = plug->state;
    long n = 0, secs = 0;
    int rc = -1;

    if (!strcmp(op, "create") || !strcmp(op, "sandbox-create")) {
        if (!(*spec = slurp(argv[0]))) {
            fprintf(stderr, "rt_drive: cannot read %s\n", argv[0]);
            return -2;
        }
    }
    if ((!strcmp(op, "stop") || !strcmp(op, "sandbox-remove")) &&
        number(argv[1], 3600, &n) < 0) {
        fprintf(stderr, "rt_drive: TIMEOUT must be 0-3600 seconds, not '%s'\n", argv[1]);
        return -2;
    }
    if (!strcmp(op, "watch") &&
        (number(argv[1], 1000000, &want_events) < 0 || want_events < 1 ||
         number(argv[2], 3600, &secs) < 0)) {
        fprintf(stderr, "rt_drive: watch needs COUNT (1 or more) and SECONDS\n");
        return -2;
    }
    *wait_s = 60. + (double)n;
    in_op = 1;
    if (!strcmp(op, "version")) {
        ev_timer_init(&poll_timer, poll_version, 0., 0.05);
        ev_timer_again(loop, &poll_timer);
        rc = 0;
    } else if (!strcmp(op, "sandbox-create")) {
        rc = ops->sandbox_create(st, *spec, id_cb, NULL);
    } else if (!strcmp(op, "sandbox-remove")) {
        rc = ops->sandbox_remove(st, argv[0], (uint32_t)n, done_cb, NULL);
    } else if (!strcmp(op, "create")) {
        rc = ops->create(st, *spec, id_cb, NULL);
    } else if (!strcmp(op, "start")) {
        rc = ops->start(st, argv[0], done_cb, NULL);
    } else if (!strcmp(op, "stop")) {
        rc = ops->stop(st, argv[0], (uint32_t)n, done_cb, NULL);
    } else if (!strcmp(op, "remove")) {
        rc = ops->remove(st, argv[0], done_cb, NULL);
    } else if (!strcmp(op, "inspect")) {
        rc = ops->inspect(st, argv[0], info_cb, NULL);
    } else if (!strcmp(op, "list")) {
        rc = ops->list(st, argv[0], list_cb, NULL);
    } else if (!strcmp(op, "stats")) {
        rc = ops->stats(st, argv[0], stats_cb, NULL);
    } else if (!strcmp(op, "watch")) {
        *wait_s = (double)secs;
        rc = ops->watch(st, argv[0], event_cb, NULL);
    }
    in_op = 0;
    return rc;
}

/* Loads the first enabled plugin section of conf_path and starts it. */
static int
load(const char *conf_path, struct conf **conf, struct host **host)
{
    struct conf_errors errs = {0};
    const struct conf_plugin *cp = NULL;
    char err[1024], *path = NULL;
    void *config;

    if (conf_load(conf_path, conf, &errs) < 0) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "rt_drive: %s\n", errs.msg[i]);
        conf_errors_clear(&errs);
        return -1;
    }
    log_setup(LOG_TARGET_STDERR, log_level_parse((*conf)->agent.log_level));
    for (size_t i = 0; i < (*conf)->n_plugins && !cp; i++)
        if ((*conf)->plugins[i].enabled)
            cp = &(*conf)->plugins[i];
    if (!cp) {
        fprintf(stderr, "rt_drive: %s has no enabled [plugin NAME] section\n", conf_path);
        return -1;
    }
    if (!(*host = host_new(loop, err, sizeof(err)))) {
        fprintf(stderr, "rt_drive: %s\n", err);
        return -1;
    }
    host_set_conf(*host, *conf);
    (*host)->on_stop_done = on_stop_done;
    if (!(path = conf_plugin_path(*conf, cp)) ||
        plugin_open(cp->name, path, &plug, err, sizeof(err)) < 0) {
        fprintf(stderr, "rt_drive: %s\n", path ? err : "out of memory");
        free(path);
        return -1;
    }
    free(path);
    if (plug->desc.kind != BERTH_KIND_RUNTIME) {
        fprintf(stderr, "rt_drive: plugin %s is a %s plugin, not a runtime\n", cp->name,
                plugin_kind_name(plug->desc.kind));
        return -1;
    }
    ops = plug->desc.ops;
    if (!(config = plugin_config_new(plug, *conf, cp, &errs))) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "rt_drive: %s\n", errs.msg[i]);
        conf_errors_clear(&errs);
        return -1;
    }
    if (plugin_init(plug, *host, config, err, sizeof(err)) < 0 ||
        plugin_start(plug, err, sizeof(err)) < 0) {
        fprintf(stderr, "rt_drive: plugin %s: %s\n", cp->name, err);
        return -1;
    }
    return 0;
}

static void
unload(struct host *host)
{
    if (plug) {
        if (plug->st == PLUGIN_STARTED && plugin_stop(plug) == BERTH_PENDING) {
            ev_tstamp until = ev_now(loop) + 5.;
            while (!stop_done_seen && ev_now(loop) < until)
                ev_run(loop, EVRUN_ONCE);
        }
        if (plug->st != PLUGIN_LOADED)
            plugin_destroy(plug);
        plugin_close(plug);
    }
    if (host)
        host_free(host);
}

int
main(int argc, char **argv)
{
    const struct op *op;
    struct conf *conf = NULL;
    struct host *host = NULL;
    char *spec = NULL;
    double wait_s = 60.;
    int rc;

    if (argc < 3)
        return usage();
    for (op = op_table; op->name && strcmp(op->name, argv[2]); op++)
        ;
    if (!op->name || argc != 3 + op->nargs)
        return usage();
    loop = ev_default_loop(0);
    if (load(argv[1], &conf, &host) < 0) {
        unload(host);
        conf_free(conf);
        return 2;
    }
    rc = begin(argv[2], argv + 3, &spec, &wait_s);
    if (rc == -2) {
        exit_code = 2;
    } else if (rc != 0) {
        print(result(BERTH_RT_FAILED, "the plugin refused the operation (see its log)"));
        exit_code = 1;
    } else {
        run_until_finished(wait_s);
        if (!finished && strcmp(argv[2], "watch") != 0) {
            print(result(BERTH_RT_FAILED, "no callback in time"));
            exit_code = 1;
        }
    }
    free(spec);
    unload(host);
    conf_free(conf);
    return exit_code;
}
