/* test_lb_conf.c: [lb], [listener NAME] and [target-group NAME]: every key,
 * the defaults, the ranges, errors with file:line, target group references. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "lb/lb_conf.h"
#include "tests/lib/tap.h"

static char *joined(const struct conf_errors *e)
{
    size_t n = 1;
    for (size_t i = 0; i < e->n; i++)
        n += strlen(e->msg[i]) + 1;
    char *s = malloc(n);
    s[0] = '\0';
    for (size_t i = 0; i < e->n; i++) {
        strcat(s, e->msg[i]);
        strcat(s, "\n");
    }
    return s;
}

static struct conf *load_ok(const char *name, const char *text)
{
    struct conf *c = NULL;
    struct conf_errors e = {0};
    int r = conf_load_string(text, "t.conf", &c, &e);
    ok(r == 0 && c != NULL, "%s: loads", name);
    for (size_t i = 0; i < e.n; i++)
        diag("  unexpected: %s", e.msg[i]);
    conf_errors_clear(&e);
    return r == 0 ? c : NULL;
}

static void load_fails(const char *name, const char *text, const char *want)
{
    struct conf *c = (struct conf *)1;
    struct conf_errors e = {0};
    int r = conf_load_string(text, "t.conf", &c, &e);
    ok(r == -1 && c == NULL, "%s: refused", name);
    char *got = joined(&e);
    is_str(got, want, "%s: messages", name);
    free(got);
    conf_errors_clear(&e);
}

#define TG "[target-group web]\n"
#define LS "[listener front]\nlisten = 127.0.0.1:8080\ndefault-target-group = web\n"

static void test_defaults(void)
{
    struct conf *c = load_ok("no proxy sections", "");
    if (c) {
        const struct lb_conf *lc = lb_conf_of(c);
        ok(lc && lc->n_listeners == 0 && lc->n_tgs == 0 && lc->global.workers == 0,
           "no listener, no target group, workers 0 (one per core)");
        conf_free(c);
    }
    c = load_ok("minimal listener and target group", LS TG);
    if (!c)
        return;
    const struct lb_conf *lc = lb_conf_of(c);
    ok(lc->n_listeners == 1 && lc->n_tgs == 1, "one of each");
    const struct lb_listener *l = &lc->listeners[0];
    ok(strcmp(l->name, "front") == 0 && strcmp(l->listen.host, "127.0.0.1") == 0 &&
           l->listen.port == 8080 && l->protocol == LB_PROTO_TCP &&
           strcmp(l->default_tg, "web") == 0 && l->idle_timeout_ms == 350000,
       "listener: address, tcp, default target group, idle 350s");
    const struct lb_tg *t = &lc->tgs[0];
    ok(t->protocol == LB_PROTO_TCP && t->algorithm == LB_ALGO_ROUND_ROBIN &&
           t->check == LB_CHECK_TCP && strcmp(t->check_path, "/") == 0 &&
           strcmp(t->matcher, "200") == 0,
       "target group: tcp, round robin, tcp check, path /, matcher 200");
    ok(t->interval_ms == 30000 && t->timeout_ms == 5000 && t->healthy_th == 5 &&
           t->unhealthy_th == 2 && t->dereg_ms == 300000 && t->slow_start_ms == 0,
       "ALB defaults: 30s, 5s, 5, 2, delay 300s, no slow start");
    ok(t->proxy_protocol == LB_PP_NONE && t->connect_timeout_ms == 5000 &&
           t->connect_attempts == 3, "no PROXY protocol, connect 5s, 3 attempts");
    ok(l->header_timeout_ms == 10000 && l->backend_timeout_ms == 60000 &&
           l->max_header_size == 16384 && l->n_rules == 0,
       "http limits: header 10s, backend 60s, 16 KiB head; no rule");
    conf_free(c);
    c = load_ok("http listener", LS "protocol = http\n" TG);
    if (c) {
        l = &lb_conf_of(c)->listeners[0];
        ok(l->protocol == LB_PROTO_HTTP && l->idle_timeout_ms == 60000,
           "http listener: idle 60s unless set (ALB's)");
        conf_free(c);
    }
}

static void test_rules(void)
{
    struct conf *c = load_ok("rules",
        LS "protocol = http\nrule = api.example.com /v1/ api\nrule = * / web\n"
        "header-timeout = 2s\nbackend-timeout = 30s\nmax-header-size = 8KiB\n"
        "idle-timeout = 20s\n" TG "[target-group api]\n");
    if (!c)
        return;
    const struct lb_listener *l = &lb_conf_of(c)->listeners[0];
    ok(l->n_rules == 2 && strcmp(l->rules[0].host, "api.example.com") == 0 &&
           strcmp(l->rules[0].path, "/v1/") == 0 && strcmp(l->rules[0].tg, "api") == 0 &&
           l->rules[0].line == 5 && strcmp(l->rules[1].host, "*") == 0 &&
           strcmp(l->rules[1].tg, "web") == 0, "two rules, in order, with their lines");
    ok(l->header_timeout_ms == 2000 && l->backend_timeout_ms == 30000 &&
           l->max_header_size == 8192 && l->idle_timeout_ms == 20000, "limits as set");
    conf_free(c);
    c = load_ok("slow start", TG "slow-start = 30s\n");
    if (c) {
        ok(lb_conf_of(c)->tgs[0].slow_start_ms == 30000, "slow start 30s");
        conf_free(c);
    }
    load_fails("rule on a tcp listener", LS "rule = * / web\n" TG,
               "t.conf:4: [listener front] rule: rules need protocol = http (a tcp listener "
               "sends everything to its default-target-group)\n");
    load_fails("rule to an unknown group", LS "protocol = http\nrule = * / nope\n" TG,
               "t.conf:5: [listener front] rule: no section [target-group nope] in this file\n");
    load_fails("rule with two words", LS "protocol = http\nrule = * web\n" TG,
               "t.conf:5: [listener front] rule: expected HOST PATH-PREFIX TARGET-GROUP (such "
               "as \"api.example.com /v1/ api\" or \"* / web\"), got \"* web\"\n");
    load_fails("rule with a bad host", LS "protocol = http\nrule = a_b / web\n" TG,
               "t.conf:5: [listener front] rule: HOST: expected a host name (letters, digits, "
               "'-', '.') or *, got \"a_b\"\n");
    load_fails("rule with a bad path", LS "protocol = http\nrule = * v1 web\n" TG,
               "t.conf:5: [listener front] rule: PATH-PREFIX: expected a path starting with "
               "'/', got \"v1\"\n");
    load_fails("http limits out of range", LS "protocol = http\nheader-timeout = 301s\n"
               "backend-timeout = 0s\nmax-header-size = 100KiB\n" TG,
               "t.conf:5: [listener front] header-timeout: expected a duration from 1s to 5m, got \"301s\"\n"
               "t.conf:6: [listener front] backend-timeout: expected a duration from 1s to 4000s, got \"0s\"\n"
               "t.conf:7: [listener front] max-header-size: expected a size from 1KiB to 64KiB, got \"100KiB\"\n");
}

static void test_all_keys(void)
{
    struct conf *c = load_ok("every key set",
        "[lb]\nworkers = 3\n"
        "[listener a]\nlisten = [::1]:9000\nprotocol = tcp\n"
        "default-target-group = t2\nidle-timeout = 10s\n"
        "[target-group t2]\nprotocol = http\nalgorithm = random-two\n"
        "health-check = http\nhealth-check-path = /health\n"
        "health-check-matcher = 200-299,302\nhealth-check-interval = 5s\n"
        "health-check-timeout = 2s\nhealthy-threshold = 2\nunhealthy-threshold = 10\n"
        "deregistration-delay = 0s\nslow-start = 0s\nproxy-protocol = v2\n"
        "connect-timeout = 100ms\nconnect-attempts = 10\n"
        "[target-group t3]\nalgorithm = least-outstanding\nproxy-protocol = v1\n");
    if (!c)
        return;
    const struct lb_conf *lc = lb_conf_of(c);
    ok(lc->global.workers == 3, "workers 3");
    ok(strcmp(lc->listeners[0].listen.host, "::1") == 0 &&
           lc->listeners[0].listen.port == 9000 &&
           lc->listeners[0].idle_timeout_ms == 10000, "IPv6 listen, idle 10s");
    const struct lb_tg *t = lb_conf_tg(lc, "t2");
    ok(t && t->protocol == LB_PROTO_HTTP && t->algorithm == LB_ALGO_RANDOM_TWO &&
           t->check == LB_CHECK_HTTP && strcmp(t->check_path, "/health") == 0 &&
           strcmp(t->matcher, "200-299,302") == 0, "t2: http, random-two, http check");
    ok(t && t->interval_ms == 5000 && t->timeout_ms == 2000 && t->healthy_th == 2 &&
           t->unhealthy_th == 10 && t->dereg_ms == 0 && t->slow_start_ms == 0 &&
           t->proxy_protocol == LB_PP_V2 && t->connect_timeout_ms == 100 &&
           t->connect_attempts == 10, "t2: every number as set");
    t = lb_conf_tg(lc, "t3");
    ok(t && t->algorithm == LB_ALGO_LEAST_OUTSTANDING && t->proxy_protocol == LB_PP_V1,
       "t3: least-outstanding, PROXY v1");
    ok(lb_conf_tg_ref(lc, "t3") == t, "a target group by its name");
    ok(lb_conf_tg_ref(lc, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
                          "targetgroup/t3/73e2d6bc24d8a067") == t,
       "a target group by its ELB ARN");
    ok(lb_conf_tg_ref(lc, "t4") == NULL &&
           lb_conf_tg_ref(lc, "arn:aws:elasticloadbalancing:r:1:loadbalancer/t3/1") == NULL &&
           lb_conf_tg_ref(lc, "arn:aws:elasticloadbalancing:r:1:targetgroup/t3") == NULL,
       "unknown names and malformed ARNs match nothing");
    conf_free(c);
}

static void test_matcher(void)
{
    ok(lb_matcher_ok("200", 200) && !lb_matcher_ok("200", 201), "200 matches only 200");
    ok(lb_matcher_ok("200-299,302", 250) && lb_matcher_ok("200-299,302", 302) &&
           !lb_matcher_ok("200-299,302", 301) && !lb_matcher_ok("200-299,302", 500),
       "ranges and lists");
}

static void test_errors(void)
{
    load_fails("listener without listen nor target group", "[listener x]\n",
               "t.conf:1: [listener x] listen: required, but not set (an address such as 127.0.0.1:8080)\n"
               "t.conf:1: [listener x] default-target-group: required, but not set (the name of a [target-group NAME])\n");
    load_fails("unknown target group", "[listener x]\nlisten = 127.0.0.1:1\ndefault-target-group = nope\n",
               "t.conf:3: [listener x] default-target-group: no section [target-group nope] in this file\n");
    load_fails("bad protocol", LS "protocol = udp\n" TG,
               "t.conf:4: [listener front] protocol: expected tcp or http, got \"udp\"\n");
    load_fails("listen port 0", "[listener x]\nlisten = 127.0.0.1:0\ndefault-target-group = web\n" TG,
               "t.conf:2: [listener x] listen: expected a port from 1 to 65535, got \"0\" in \"127.0.0.1:0\"\n");
    load_fails("listen a name", "[listener x]\nlisten = localhost:80\ndefault-target-group = web\n" TG,
               "t.conf:2: [listener x] listen: expected an IP address, not a name, got \"localhost:80\"\n");
    load_fails("two listeners, one address", LS "[listener b]\nlisten = 127.0.0.1:8080\ndefault-target-group = web\n" TG,
               "t.conf:5: [listener b] listen: same address as [listener front] (line 2)\n");
    load_fails("unknown key", TG "weight = 3\n",
               "t.conf:2: [target-group web] weight: unknown key; valid keys: protocol, algorithm, "
               "health-check, health-check-path, health-check-matcher, health-check-interval, "
               "health-check-timeout, healthy-threshold, unhealthy-threshold, deregistration-delay, "
               "slow-start, proxy-protocol, connect-timeout, connect-attempts\n");
    load_fails("duplicate key", TG "slow-start = 0s\nslow-start = 30s\n",
               "t.conf:3: [target-group web] slow-start: duplicate key (first on line 2)\n");
    load_fails("duplicate section", TG TG, "t.conf:2: duplicate section [target-group web] (first on line 1)\n");
    load_fails("no name", "[target-group]\n",
               "t.conf:1: section [target-group]: expected [target-group NAME], NAME being 1 to 32 letters, digits or '-' (not first or last)\n");
    load_fails("[lb] with a name", "[lb x]\n", "t.conf:1: section [lb x]: [lb] takes no name\n");
    load_fails("workers 65", "[lb]\nworkers = 65\n",
               "t.conf:2: [lb] workers: expected an integer from 0 to 64, got \"65\"\n");
    load_fails("ranges", TG "health-check-interval = 4s\nhealth-check-timeout = 121s\n"
               "healthy-threshold = 1\nunhealthy-threshold = 11\nderegistration-delay = 3601s\n"
               "slow-start = 29s\nconnect-attempts = 0\nconnect-timeout = 99ms\n"
               "algorithm = fastest\nhealth-check = udp\nproxy-protocol = v3\n"
               "health-check-path = health\nhealth-check-matcher = 600\nidle = 1\n",
               "t.conf:2: [target-group web] health-check-interval: expected a duration from 5s to 5m, got \"4s\"\n"
               "t.conf:3: [target-group web] health-check-timeout: expected a duration from 2s to 2m, got \"121s\"\n"
               "t.conf:4: [target-group web] healthy-threshold: expected an integer from 2 to 10, got \"1\"\n"
               "t.conf:5: [target-group web] unhealthy-threshold: expected an integer from 2 to 10, got \"11\"\n"
               "t.conf:6: [target-group web] deregistration-delay: expected a duration from 0s to 1h, got \"3601s\"\n"
               "t.conf:7: [target-group web] slow-start: expected 0s (off) or a duration from 30s to 15m, got \"29s\"\n"
               "t.conf:8: [target-group web] connect-attempts: expected an integer from 1 to 10, got \"0\"\n"
               "t.conf:9: [target-group web] connect-timeout: expected a duration from 100ms to 1m, got \"99ms\"\n"
               "t.conf:10: [target-group web] algorithm: expected round-robin, least-outstanding or random-two, got \"fastest\"\n"
               "t.conf:11: [target-group web] health-check: expected tcp or http, got \"udp\"\n"
               "t.conf:12: [target-group web] proxy-protocol: expected none, v1 or v2, got \"v3\"\n"
               "t.conf:13: [target-group web] health-check-path: expected a path starting with '/' (no spaces, at most 1024 characters), got \"health\"\n"
               "t.conf:14: [target-group web] health-check-matcher: expected HTTP codes 200-499 or ranges separated by commas, such as 200,302 or 200-299, got \"600\"\n"
               "t.conf:15: [target-group web] idle: unknown key; valid keys: protocol, algorithm, "
               "health-check, health-check-path, health-check-matcher, health-check-interval, "
               "health-check-timeout, healthy-threshold, unhealthy-threshold, deregistration-delay, "
               "slow-start, proxy-protocol, connect-timeout, connect-attempts\n");
    load_fails("timeout not below interval", TG "health-check-interval = 5s\nhealth-check-timeout = 5s\n",
               "t.conf:3: [target-group web] health-check-timeout: must be less than health-check-interval (5000ms >= 5000ms)\n");
    load_fails("bad duration type", LS "idle-timeout = soon\n" TG,
               "t.conf:4: [listener front] idle-timeout: expected a duration such as 250ms, 5s, 2m or 1h, got \"soon\"\n");
}

static char *slurp(const char *rel)
{
    const char *top = getenv("top_srcdir");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", top ? top : SRCDIR, rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Every key: ".B key" (roff) in berth.conf(5), "#key = " in the example. */
static void test_docs(void)
{
    char *man = slurp("man/berth.conf.5"), *ex = slurp("conf/berth.conf");
    const struct berth_option *tables[] = {lb_global_options, lb_listener_options,
                                           lb_tg_options};
    ok(man && ex, "read berth.conf.5 and conf/berth.conf");
    for (size_t i = 0; man && ex && i < 3; i++) {
        for (const struct berth_option *o = tables[i]; o->name; o++) {
            char roff[128] = ".B ", line[140];
            size_t j = 3;
            for (const char *k = o->name; *k; k++) {
                if (*k == '-')
                    roff[j++] = '\\';
                roff[j++] = *k;
            }
            roff[j++] = '\n';
            roff[j] = '\0';
            snprintf(line, sizeof line, "\n#%s = ", o->name);
            ok(strstr(man, roff) && strstr(ex, line), "%s: in berth.conf(5) and the example",
               o->name);
        }
    }
    ok(ex && strstr(ex, "#[listener web]") && strstr(ex, "#[target-group web]") &&
           strstr(ex, "#[lb]"), "the example shows the sections");
    free(man);
    free(ex);
}

int main(void)
{
    lb_conf_register();
    test_docs();
    test_defaults();
    test_all_keys();
    test_rules();
    test_matcher();
    test_errors();
    return done_testing();
}
