/* podman_health.c: health checks run by the plugin.
 *
 * Podman schedules a container's checks with systemd timers; without
 * systemd nothing runs them and the status stays "starting".  So the
 * plugin runs each check itself, at the container's interval, through
 * GET /containers/ID/healthcheck (podman runs the command with the
 * check's timeout and records its output), and keeps the verdict under
 * ECS's rules:
 *   - a pass makes the container healthy, during the start period too;
 *   - a failure during the start period does not count;
 *   - after `retries` consecutive counted failures it is unhealthy.
 * The verdict is what inspect reports (over podman's) and each change is
 * a BERTH_RT_EV_HEALTH event.  Checks run one at a time per container:
 * the next is armed when the last has answered.
 *
 * A checker starts when the plugin sees a running container whose config
 * has a check (the spec's or the image's): after start(), in inspect and
 * list results (so a restarted agent resumes them), and from start
 * events.  It seeds its verdict and failure count from podman's record, so
 * a resumed checker goes on where the last one stopped. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podman.h"

#define DEFAULT_INTERVAL_MS 30000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_RETRIES 3
#define MIN_INTERVAL_MS 100

struct phc {
    struct podman *p;
    struct phc *next;
    char id[80];
    int64_t interval_ms, timeout_ms, start_period_ms, retries;
    int64_t started_wall_ms;
    int64_t failures;
    enum berth_ctr_health verdict;
    int last_exit;
    berth_timer *t;
    berth_http *h;
};

static struct phc *find(struct podman *p, const char *id)
{
    size_t n = id ? strlen(id) : 0;
    for (struct phc *c = p->checks; c && n; c = c->next)
        /* A full id, or a prefix of at least 12 (podman's short id). */
        if (strcmp(c->id, id) == 0 || (n >= 12 && strncmp(c->id, id, n) == 0))
            return c;
    return NULL;
}

static void unlink_free(struct phc *c)
{
    struct podman *p = c->p;
    for (struct phc **pp = &p->checks; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->t)
        p->host->timer_stop(p->ctx, c->t);
    if (c->h)
        engine_cancel(&p->e, c->h);
    free(c);
}

static void run_check(void *arg);

static void arm(struct phc *c)
{
    c->t = c->p->host->timer_start(c->p->ctx, (uint64_t)c->interval_ms, 0, run_check, c);
}

static const char *health_word(enum berth_ctr_health h)
{
    return h == BERTH_HEALTH_HEALTHY     ? "healthy"
           : h == BERTH_HEALTH_UNHEALTHY ? "unhealthy"
                                         : "starting";
}

/* After a verdict changed: inspect for the output, tell the watcher. */
static void reported(void *arg, const struct engine_result *r)
{
    struct phc *c = arg;
    struct podman *p = c->p;
    struct engine_info info;

    c->h = NULL;
    if (r->code == BERTH_RT_OK && podman_info(p, r->json, &info) == 0) {
        info.info.health = c->verdict;
        podman_emit_health(p, &info.info, health_word(c->verdict));
        engine_info_free(&info);
    }
    arm(c);
}

static void checked(void *arg, const struct engine_result *r)
{
    struct phc *c = arg;
    struct podman *p = c->p;
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->json, "Status"));
    enum berth_ctr_health before = c->verdict;
    bool pass, in_start;
    char path[512];

    c->h = NULL;
    if (r->code == BERTH_RT_NOT_FOUND || r->code == BERTH_RT_CONFLICT) {
        /* Gone, stopped, or no check after all: 404 / 409. */
        p->host->log(p->ctx, BERTH_LOG_DEBUG, "podman.health.end id=%.12s reason=\"%s\"",
                     c->id, r->msg);
        unlink_free(c);
        return;
    }
    if (r->code == BERTH_RT_UNAVAILABLE) {
        arm(c); /* the engine's absence says nothing of the container */
        return;
    }
    pass = r->code == BERTH_RT_OK && st && strcmp(st, "healthy") == 0;
    in_start = c->start_period_ms > 0 &&
               podman_wall_ms() < c->started_wall_ms + c->start_period_ms;
    c->last_exit = pass ? 0 : 1;
    if (pass) {
        c->failures = 0;
        c->verdict = BERTH_HEALTH_HEALTHY;
    } else if (!in_start && ++c->failures >= c->retries) {
        c->verdict = BERTH_HEALTH_UNHEALTHY;
    }
    if (r->code != BERTH_RT_OK)
        p->host->log(p->ctx, BERTH_LOG_WARN, "podman.health.error id=%.12s error=\"%s\"",
                     c->id, r->msg);
    if (c->verdict == before) {
        arm(c);
        return;
    }
    p->host->log(p->ctx, BERTH_LOG_INFO,
                 "podman.health id=%.12s health=%s failures=%lld", c->id,
                 health_word(c->verdict), (long long)c->failures);
    snprintf(path, sizeof(path), "/containers/%s/json", c->id);
    if (!(c->h = engine_call(&p->e, "GET", path, NULL, 0, reported, c)))
        arm(c);
}

static void run_check(void *arg)
{
    struct phc *c = arg;
    struct podman *p = c->p;
    char path[512];

    c->t = NULL;
    snprintf(path, sizeof(path), "/containers/%s/healthcheck", c->id);
    c->h = engine_call(&p->e, "GET", path, NULL,
                       (uint64_t)c->timeout_ms + p->cfg->request_timeout_ms, checked, c);
    if (!c->h)
        arm(c);
}

static int64_t ns_to_ms(const cJSON *hc, const char *key, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(hc, key);
    double ms = cJSON_IsNumber(v) ? v->valuedouble / 1e6 : 0;
    return ms >= 1 ? (int64_t)ms : dflt;
}

void phc_ensure(struct podman *p, const cJSON *j)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "Config");
    const cJSON *hc = cJSON_GetObjectItemCaseSensitive(cfg, "Healthcheck");
    const cJSON *test = cJSON_GetObjectItemCaseSensitive(hc, "Test");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "State");
    const cJSON *health = cJSON_GetObjectItemCaseSensitive(st, "Health");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "Id"));
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "Status"));
    const char *first = cJSON_GetStringValue(cJSON_GetArrayItem(test, 0));
    const char *seen;
    struct phc *c;
    double n;

    if (p->stopped || !id || !status || strcmp(status, "running") != 0 || !first ||
        strcmp(first, "NONE") == 0 || strlen(id) >= sizeof(c->id))
        return;
    if (find(p, id) || !(c = calloc(1, sizeof(*c))))
        return;
    c->p = p;
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->interval_ms = ns_to_ms(hc, "Interval", DEFAULT_INTERVAL_MS);
    if (c->interval_ms < MIN_INTERVAL_MS)
        c->interval_ms = MIN_INTERVAL_MS;
    c->timeout_ms = ns_to_ms(hc, "Timeout", DEFAULT_TIMEOUT_MS);
    c->start_period_ms = ns_to_ms(hc, "StartPeriod", 0);
    n = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(hc, "Retries"));
    c->retries = n >= 1 ? (int64_t)n : DEFAULT_RETRIES;
    c->started_wall_ms = engine_time_ms(
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "StartedAt")));
    /* Go on from podman's record (its rules match ours). */
    seen = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(health, "Status"));
    c->verdict = seen && strcmp(seen, "healthy") == 0     ? BERTH_HEALTH_HEALTHY
                 : seen && strcmp(seen, "unhealthy") == 0 ? BERTH_HEALTH_UNHEALTHY
                                                          : BERTH_HEALTH_STARTING;
    n = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(health, "FailingStreak"));
    c->failures = n >= 1 ? (int64_t)n : 0;
    c->last_exit = -1;
    c->next = p->checks;
    p->checks = c;
    arm(c);
    p->host->log(p->ctx, BERTH_LOG_INFO,
                 "podman.health.begin id=%.12s interval_ms=%lld timeout_ms=%lld "
                 "retries=%lld start_period_ms=%lld health=%s",
                 c->id, (long long)c->interval_ms, (long long)c->timeout_ms,
                 (long long)c->retries, (long long)c->start_period_ms,
                 health_word(c->verdict));
}

void phc_forget(struct podman *p, const char *id)
{
    struct phc *c = find(p, id);
    if (c)
        unlink_free(c);
}

int phc_verdict(struct podman *p, const char *id, int *exit_code, const char **output)
{
    struct phc *c = find(p, id);
    if (!c)
        return -1;
    if (exit_code)
        *exit_code = c->last_exit;
    if (output)
        *output = NULL; /* podman's record holds it: inspect has it */
    return (int)c->verdict;
}

void phc_stop_all(struct podman *p)
{
    while (p->checks)
        unlink_free(p->checks);
}
