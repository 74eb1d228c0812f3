/* lb_conf.c: [lb], [listener NAME], [target-group NAME]. */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/options.h"
#include "agent/value.h"
#include "lb/lb_conf.h"

#define G(key, type, def, field, help) \
    {key, type, def, offsetof(struct lb_global, field), help, 0}
#define L(key, type, def, field, help) \
    {key, type, def, offsetof(struct lb_listener, field), help, 0}
#define T(key, type, def, field, help) \
    {key, type, def, offsetof(struct lb_tg, field), help, 0}

const struct berth_option lb_global_options[] = {
    G("workers", BERTH_OPT_INT, "0", workers,
      "Proxy worker threads, each with its own socket per listener "
      "(SO_REUSEPORT); 0: one per core.  0 to 64."),
    {NULL, 0, NULL, 0, NULL, 0},
};

/* Same order as struct lb_listener's key_line[]. */
const struct berth_option lb_listener_options[] = {
    L("listen", BERTH_OPT_ADDRESS, NULL, listen,
      "Address and port the listener binds, such as 127.0.0.1:8080 or "
      "[::]:80 (an IP address, not a name).  Required."),
    L("protocol", BERTH_OPT_STRING, "tcp", protocol_s,
      "tcp (L4: bytes are relayed as they are) or http (L7: requests are "
      "parsed, routed by rule and sent over pooled keep-alive connections)."),
    L("default-target-group", BERTH_OPT_STRING, "", default_tg,
      "The [target-group NAME] that receives the listener's connections.  "
      "Required."),
    L("idle-timeout", BERTH_OPT_DURATION, "350s", idle_timeout_ms,
      "A connection with no byte either way for this long is closed; 1s "
      "to 4000s.  Unset on an http listener: 60s (ALB's)."),
    L("rule", BERTH_OPT_STRING, "", rule_s,
      "http only, repeatable: HOST PATH-PREFIX TARGET-GROUP.  A request whose "
      "Host (without port, case-insensitive; * for any) and path prefix "
      "match goes to TARGET-GROUP; rules are tried in the file's order, the "
      "first match wins; no match: default-target-group."),
    L("header-timeout", BERTH_OPT_DURATION, "10s", header_timeout_ms,
      "http: a request head not complete this long after its first byte "
      "closes the connection (slowloris); 1s to 300s."),
    L("backend-timeout", BERTH_OPT_DURATION, "60s", backend_timeout_ms,
      "http: a target silent this long while a response is due gets the "
      "client a 504; 1s to 4000s."),
    L("max-header-size", BERTH_OPT_SIZE, "16KiB", max_header_size,
      "http: a request head larger than this gets a 431; 1KiB to 64KiB."),
    {NULL, 0, NULL, 0, NULL, 0},
};

/* Same order as struct lb_tg's key_line[]. */
const struct berth_option lb_tg_options[] = {
    T("protocol", BERTH_OPT_STRING, "tcp", protocol_s,
      "Protocol towards the targets: tcp or http."),
    T("algorithm", BERTH_OPT_STRING, "round-robin", algorithm_s,
      "How a target is picked: round-robin, least-outstanding (fewest open "
      "connections, or requests in flight behind an http listener, counted "
      "per worker) or random-two (the better of two random targets)."),
    T("health-check", BERTH_OPT_STRING, "tcp", check_s,
      "tcp (a connect succeeds) or http (GET health-check-path answers a "
      "status health-check-matcher accepts)."),
    T("health-check-path", BERTH_OPT_STRING, "/", check_path,
      "Path of the http health check; starts with '/'."),
    T("health-check-matcher", BERTH_OPT_STRING, "200", matcher,
      "Healthy HTTP statuses: codes and ranges separated by commas, such as "
      "200,302 or 200-299."),
    T("health-check-interval", BERTH_OPT_DURATION, "30s", interval_ms,
      "Time between two checks of a target; 5s to 300s."),
    T("health-check-timeout", BERTH_OPT_DURATION, "5s", timeout_ms,
      "A check not answered in this time fails; 2s to 120s, less than the "
      "interval."),
    T("healthy-threshold", BERTH_OPT_INT, "5", healthy_th,
      "Checks in a row that must pass before a target is healthy; 2 to 10."),
    T("unhealthy-threshold", BERTH_OPT_INT, "2", unhealthy_th,
      "Checks in a row that must fail before a target is unhealthy; 2 to 10."),
    T("deregistration-delay", BERTH_OPT_DURATION, "300s", dereg_ms,
      "How long a draining target keeps its open connections before its "
      "task is stopped (those still open then are closed); 0s to 3600s."),
    T("slow-start", BERTH_OPT_DURATION, "0s", slow_start_ms,
      "A newly healthy target's share of new connections grows linearly "
      "over this time (when another target of the group is healthy); 0s "
      "(off) or 30s to 900s."),
    T("proxy-protocol", BERTH_OPT_STRING, "none", pp_s,
      "PROXY protocol header sent to targets first: none, v1 or v2."),
    T("connect-timeout", BERTH_OPT_DURATION, "5s", connect_timeout_ms,
      "How long a connect to a target may take before the next target is "
      "tried; 100ms to 60s."),
    T("connect-attempts", BERTH_OPT_INT, "3", connect_attempts,
      "Targets tried for one connection before it is closed; 1 to 10."),
    {NULL, 0, NULL, 0, NULL, 0},
};

#define N_L (sizeof lb_listener_options / sizeof lb_listener_options[0] - 1)
#define N_T (sizeof lb_tg_options / sizeof lb_tg_options[0] - 1)
_Static_assert(N_L == sizeof ((struct lb_listener *)0)->key_line / sizeof(int), "listener key_line");
_Static_assert(N_T == sizeof ((struct lb_tg *)0)->key_line / sizeof(int), "tg key_line");

enum cur { CUR_NONE, CUR_GLOBAL, CUR_LISTENER, CUR_TG };

struct lb_conf_state {
    struct lb_conf c;
    enum cur cur;
    int global_key_line[1];
};

static int lb_owns(const char *s)
{
    return strcmp(s, "lb") == 0 || strncmp(s, "lb ", 3) == 0 ||
           strcmp(s, "listener") == 0 || strncmp(s, "listener ", 9) == 0 ||
           strcmp(s, "target-group") == 0 || strncmp(s, "target-group ", 13) == 0;
}

static void *lb_create(void)
{
    struct lb_conf_state *st = calloc(1, sizeof *st);
    char err[256];

    if (st && options_defaults(lb_global_options, &st->c.global, err, sizeof err) < 0) {
        free(st);
        return NULL;
    }
    return st;
}

static void lb_destroy(void *p)
{
    struct lb_conf_state *st = p;

    for (size_t i = 0; i < st->c.n_listeners; i++) {
        for (size_t j = 0; j < st->c.listeners[i].n_rules; j++) {
            free(st->c.listeners[i].rules[j].host);
            free(st->c.listeners[i].rules[j].path);
            free(st->c.listeners[i].rules[j].tg);
        }
        free(st->c.listeners[i].rules);
        options_free(lb_listener_options, &st->c.listeners[i]);
        free(st->c.listeners[i].name);
    }
    for (size_t i = 0; i < st->c.n_tgs; i++) {
        options_free(lb_tg_options, &st->c.tgs[i]);
        free(st->c.tgs[i].name);
    }
    options_free(lb_global_options, &st->c.global);
    free(st->c.listeners);
    free(st->c.tgs);
    free(st);
}

/* Names of listeners and target groups: as the ELB API takes them. */
static int good_name(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > 32 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

static int lb_section(void *p, const char *sect, int line, const char *path,
                      struct conf_errors *errs)
{
    struct lb_conf_state *st = p;
    struct lb_conf *c = &st->c;
    const char *sp = strchr(sect, ' ');
    const char *name = sp ? sp + 1 : "";
    size_t kind_len = sp ? (size_t)(sp - sect) : strlen(sect);
    char err[256];

    st->cur = CUR_NONE;
    if (strncmp(sect, "lb", kind_len) == 0 && kind_len == 2) {
        if (*name) {
            conf_error_at(errs, path, line, NULL, NULL, "section [%s]: [lb] takes no name", sect);
            return 1;
        }
        if (c->global.line) {
            conf_error_at(errs, path, line, NULL, NULL,
                          "duplicate section [lb] (first on line %d)", c->global.line);
            return 1;
        }
        c->global.line = line;
        st->cur = CUR_GLOBAL;
        return 0;
    }
    int is_listener = kind_len == 8;
    const char *kind = is_listener ? "listener" : "target-group";
    if (!good_name(name)) {
        conf_error_at(errs, path, line, NULL, NULL,
                      "section [%s]: expected [%s NAME], NAME being 1 to 32 letters, "
                      "digits or '-' (not first or last)", sect, kind);
        return 1;
    }
    size_t n = is_listener ? c->n_listeners : c->n_tgs;
    for (size_t i = 0; i < n; i++) {
        const char *other = is_listener ? c->listeners[i].name : c->tgs[i].name;
        int oline = is_listener ? c->listeners[i].line : c->tgs[i].line;
        if (strcmp(other, name) == 0) {
            conf_error_at(errs, path, line, NULL, NULL,
                          "duplicate section [%s] (first on line %d)", sect, oline);
            return 1;
        }
    }
    if (is_listener) {
        struct lb_listener *g = realloc(c->listeners, (n + 1) * sizeof *g);
        if (!g)
            goto oom;
        c->listeners = g;
        memset(&g[n], 0, sizeof g[n]);
        g[n].line = line;
        if (!(g[n].name = strdup(name)))
            goto oom;
        c->n_listeners++;
        if (options_defaults(lb_listener_options, &g[n], err, sizeof err) < 0)
            goto bug;
        st->cur = CUR_LISTENER;
    } else {
        struct lb_tg *g = realloc(c->tgs, (n + 1) * sizeof *g);
        if (!g)
            goto oom;
        c->tgs = g;
        memset(&g[n], 0, sizeof g[n]);
        g[n].line = line;
        if (!(g[n].name = strdup(name)))
            goto oom;
        c->n_tgs++;
        if (options_defaults(lb_tg_options, &g[n], err, sizeof err) < 0)
            goto bug;
        st->cur = CUR_TG;
    }
    return 0;
oom:
    conf_error_at(errs, path, line, NULL, NULL, "out of memory");
    return 1;
bug:
    conf_error_at(errs, path, line, NULL, NULL, "[%s] default: %s", kind, err);
    return 1;
}

static int int_range(int64_t v, int64_t lo, int64_t hi, const char *text, char *err,
                     size_t len)
{
    if (v >= lo && v <= hi)
        return 0;
    snprintf(err, len, "expected an integer from %lld to %lld, got \"%s\"",
             (long long)lo, (long long)hi, text);
    return -1;
}

static int dur_range(uint64_t v, uint64_t lo, uint64_t hi, const char *text, char *err,
                     size_t len)
{
    char a[32], b[32];

    if (v >= lo && v <= hi)
        return 0;
    value_format(BERTH_OPT_DURATION, &lo, a, sizeof a);
    value_format(BERTH_OPT_DURATION, &hi, b, sizeof b);
    snprintf(err, len, "expected a duration from %s to %s, got \"%s\"", a, b, text);
    return -1;
}

/* Index of text in words (NULL-terminated), or -1 with err. */
static int one_of(const char *text, const char *const *words, const char *what,
                  char *err, size_t len)
{
    for (int i = 0; words[i]; i++)
        if (strcmp(text, words[i]) == 0)
            return i;
    snprintf(err, len, "expected %s, got \"%s\"", what, text);
    return -1;
}

/* "200", "200,302", "200-299": codes 200 to 499 (ALB's range). */
static int matcher_valid(const char *m)
{
    const char *p = m;

    if (!*p)
        return 0;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || end - p != 3 || a < 200 || a > 499)
            return 0;
        p = end;
        b = a;
        if (*p == '-') {
            p++;
            b = strtol(p, &end, 10);
            if (end == p || end - p != 3 || b < a || b > 499)
                return 0;
            p = end;
        }
        if (*p == ',')
            p++;
        else if (*p)
            return 0;
    }
    return 1;
}

int lb_matcher_ok(const char *m, int status)
{
    const char *p = m;

    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p)
            return 0;
        p = end;
        b = a;
        if (*p == '-')
            b = strtol(p + 1, (char **)&p, 10);
        if (status >= a && status <= b)
            return 1;
        if (*p == ',')
            p++;
        else
            break;
    }
    return 0;
}

static const char *const PROTOS[] = {"tcp", "http", NULL};
static const char *const ALGOS[] = {"round-robin", "least-outstanding", "random-two", NULL};
static const char *const PPS[] = {"none", "v1", "v2", NULL};

static int check_listener(struct lb_listener *l, const char *key, const char *text,
                          char *err, size_t len)
{
    int i;

    if (strcmp(key, "protocol") == 0) {
        if ((i = one_of(text, PROTOS, "tcp or http", err, len)) < 0)
            return -1;
        l->protocol = (enum lb_proto)i;
    } else if (strcmp(key, "idle-timeout") == 0) {
        return dur_range(l->idle_timeout_ms, 1000, 4000 * 1000, text, err, len);
    } else if (strcmp(key, "header-timeout") == 0) {
        return dur_range(l->header_timeout_ms, 1000, 300 * 1000, text, err, len);
    } else if (strcmp(key, "backend-timeout") == 0) {
        return dur_range(l->backend_timeout_ms, 1000, 4000 * 1000, text, err, len);
    } else if (strcmp(key, "max-header-size") == 0) {
        if (l->max_header_size < 1024 || l->max_header_size > 65536) {
            snprintf(err, len, "expected a size from 1KiB to 64KiB, got \"%s\"", text);
            return -1;
        }
    } else if (strcmp(key, "listen") == 0) {
        unsigned char buf[16];
        if (inet_pton(AF_INET, l->listen.host, buf) != 1 &&
            inet_pton(AF_INET6, l->listen.host, buf) != 1) {
            snprintf(err, len, "expected an IP address, not a name, got \"%s\"", text);
            return -1;
        }
        if (l->listen.port == 0) {
            snprintf(err, len, "expected a port from 1 to 65535, got \"%s\"", text);
            return -1;
        }
    }
    return 0;
}

static int check_tg(struct lb_tg *t, const char *key, const char *text, char *err,
                    size_t len)
{
    int i;

    if (strcmp(key, "protocol") == 0) {
        if ((i = one_of(text, PROTOS, "tcp or http", err, len)) < 0)
            return -1;
        t->protocol = (enum lb_proto)i;
    } else if (strcmp(key, "algorithm") == 0) {
        if ((i = one_of(text, ALGOS, "round-robin, least-outstanding or random-two",
                        err, len)) < 0)
            return -1;
        t->algorithm = (enum lb_algo)i;
    } else if (strcmp(key, "health-check") == 0) {
        if ((i = one_of(text, PROTOS, "tcp or http", err, len)) < 0)
            return -1;
        t->check = (enum lb_check)i;
    } else if (strcmp(key, "proxy-protocol") == 0) {
        if ((i = one_of(text, PPS, "none, v1 or v2", err, len)) < 0)
            return -1;
        t->proxy_protocol = (enum lb_pp)i;
    } else if (strcmp(key, "health-check-path") == 0) {
        if (text[0] != '/' || strlen(text) > 1024 || strpbrk(text, " \t\r\n")) {
            snprintf(err, len, "expected a path starting with '/' (no spaces, at "
                               "most 1024 characters), got \"%s\"", text);
            return -1;
        }
    } else if (strcmp(key, "health-check-matcher") == 0) {
        if (!matcher_valid(text)) {
            snprintf(err, len, "expected HTTP codes 200-499 or ranges separated by "
                               "commas, such as 200,302 or 200-299, got \"%s\"", text);
            return -1;
        }
    } else if (strcmp(key, "health-check-interval") == 0) {
        return dur_range(t->interval_ms, 5000, 300000, text, err, len);
    } else if (strcmp(key, "health-check-timeout") == 0) {
        return dur_range(t->timeout_ms, 2000, 120000, text, err, len);
    } else if (strcmp(key, "healthy-threshold") == 0) {
        return int_range(t->healthy_th, 2, 10, text, err, len);
    } else if (strcmp(key, "unhealthy-threshold") == 0) {
        return int_range(t->unhealthy_th, 2, 10, text, err, len);
    } else if (strcmp(key, "deregistration-delay") == 0) {
        return dur_range(t->dereg_ms, 0, 3600000, text, err, len);
    } else if (strcmp(key, "slow-start") == 0) {
        if (t->slow_start_ms == 0)
            return 0;
        if (dur_range(t->slow_start_ms, 30000, 900000, text, err, len) < 0) {
            snprintf(err, len, "expected 0s (off) or a duration from 30s to 15m, "
                               "got \"%s\"", text);
            return -1;
        }
        return 0;
    } else if (strcmp(key, "connect-timeout") == 0) {
        return dur_range(t->connect_timeout_ms, 100, 60000, text, err, len);
    } else if (strcmp(key, "connect-attempts") == 0) {
        return int_range(t->connect_attempts, 1, 10, text, err, len);
    }
    return 0;
}

/* HOST PATH-PREFIX TARGET-GROUP, appended to l's rules. */
static int add_rule(struct lb_listener *l, const char *text, int line, char *err, size_t len)
{
    char host[256], path[1025], tg[64], extra[2];
    int n = sscanf(text, "%255s %1024s %63s %1s", host, path, tg, extra);

    if (n != 3) {
        snprintf(err, len, "expected HOST PATH-PREFIX TARGET-GROUP (such as "
                           "\"api.example.com /v1/ api\" or \"* / web\"), got \"%s\"", text);
        return -1;
    }
    if (strcmp(host, "*") != 0) {
        for (const char *p = host; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')) {
                snprintf(err, len, "HOST: expected a host name (letters, digits, '-', "
                                   "'.') or *, got \"%.200s\"", host);
                return -1;
            }
    }
    if (path[0] != '/') {
        snprintf(err, len, "PATH-PREFIX: expected a path starting with '/', got \"%.200s\"", path);
        return -1;
    }
    struct lb_rule *r = realloc(l->rules, (l->n_rules + 1) * sizeof *r);
    if (!r) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    l->rules = r;
    r = &r[l->n_rules];
    r->host = strdup(host);
    r->path = strdup(path);
    r->tg = strdup(tg);
    r->line = line;
    if (!r->host || !r->path || !r->tg) {
        free(r->host);
        free(r->path);
        free(r->tg);
        snprintf(err, len, "out of memory");
        return -1;
    }
    l->n_rules++;
    return 0;
}

static void key_list(const struct berth_option *t, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (; t->name && n < size; t++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", t->name);
}

static int lb_entry(void *p, const char *sect, const char *key, const char *value,
                    int line, const char *path, struct conf_errors *errs)
{
    struct lb_conf_state *st = p;
    const struct berth_option *table;
    void *base;
    int *key_line;
    char err[512];

    switch (st->cur) {
    case CUR_GLOBAL:
        table = lb_global_options;
        base = &st->c.global;
        key_line = st->global_key_line;
        break;
    case CUR_LISTENER:
        table = lb_listener_options;
        base = &st->c.listeners[st->c.n_listeners - 1];
        key_line = st->c.listeners[st->c.n_listeners - 1].key_line;
        break;
    case CUR_TG:
        table = lb_tg_options;
        base = &st->c.tgs[st->c.n_tgs - 1];
        key_line = st->c.tgs[st->c.n_tgs - 1].key_line;
        break;
    default:
        return 0;
    }
    const struct berth_option *o = options_find(table, key);
    if (!o) {
        key_list(table, err, sizeof err);
        conf_error_at(errs, path, line, sect, key, "unknown key; valid keys: %s", err);
        return 1;
    }
    size_t i = (size_t)(o - table);
    if (st->cur == CUR_LISTENER && strcmp(key, "rule") == 0) { /* repeatable */
        if (!key_line[i])
            key_line[i] = line;
        if (add_rule(base, value, line, err, sizeof err) < 0) {
            conf_error_at(errs, path, line, sect, key, "%s", err);
            return 1;
        }
        return 0;
    }
    if (key_line[i]) {
        conf_error_at(errs, path, line, sect, key, "duplicate key (first on line %d)",
                      key_line[i]);
        return 1;
    }
    key_line[i] = line;
    int bad = options_set(table, base, key, value, err, sizeof err) < 0;
    if (!bad && st->cur == CUR_GLOBAL)
        bad = int_range(st->c.global.workers, 0, 64, value, err, sizeof err) < 0;
    else if (!bad && st->cur == CUR_LISTENER)
        bad = check_listener(base, key, value, err, sizeof err) < 0;
    else if (!bad && st->cur == CUR_TG)
        bad = check_tg(base, key, value, err, sizeof err) < 0;
    if (bad) {
        conf_error_at(errs, path, line, sect, key, "%s", err);
        return 1;
    }
    return 0;
}

const struct lb_tg *lb_conf_tg(const struct lb_conf *lc, const char *name)
{
    for (size_t i = 0; i < lc->n_tgs; i++)
        if (strcmp(lc->tgs[i].name, name) == 0)
            return &lc->tgs[i];
    return NULL;
}

const struct lb_tg *lb_conf_tg_ref(const struct lb_conf *lc, const char *ref)
{
    static const char pre[] = "arn:aws:elasticloadbalancing:";
    char name[64];

    if (strncmp(ref, pre, sizeof pre - 1) != 0)
        return lb_conf_tg(lc, ref);
    /* REGION:ACCOUNT:targetgroup/NAME/ID */
    const char *p = ref + sizeof pre - 1;
    for (int colons = 0; colons < 2; colons++) {
        p = strchr(p, ':');
        if (!p)
            return NULL;
        p++;
    }
    if (strncmp(p, "targetgroup/", 12) != 0)
        return NULL;
    p += 12;
    const char *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= sizeof name)
        return NULL;
    memcpy(name, p, (size_t)(slash - p));
    name[slash - p] = '\0';
    return lb_conf_tg(lc, name);
}

static int lb_finish(void *p, const char *path, struct conf_errors *errs)
{
    struct lb_conf *c = &((struct lb_conf_state *)p)->c;
    int n = 0;
    char sect[64];

    for (size_t i = 0; i < c->n_listeners; i++) {
        struct lb_listener *l = &c->listeners[i];
        snprintf(sect, sizeof sect, "listener %s", l->name);
        if (!l->key_line[0]) {
            conf_error_at(errs, path, l->line, sect, "listen",
                          "required, but not set (an address such as 127.0.0.1:8080)");
            n++;
        }
        if (!l->default_tg[0]) {
            conf_error_at(errs, path, l->line, sect, "default-target-group",
                          "required, but not set (the name of a [target-group NAME])");
            n++;
        } else if (!lb_conf_tg(c, l->default_tg)) {
            conf_error_at(errs, path, l->key_line[2], sect, "default-target-group",
                          "no section [target-group %s] in this file", l->default_tg);
            n++;
        }
        if (l->protocol == LB_PROTO_HTTP && !l->key_line[3])
            l->idle_timeout_ms = 60000; /* ALB's */
        if (l->protocol != LB_PROTO_HTTP && l->n_rules) {
            conf_error_at(errs, path, l->key_line[4], sect, "rule",
                          "rules need protocol = http (a tcp listener sends everything "
                          "to its default-target-group)");
            n++;
        }
        for (size_t j = 0; j < l->n_rules; j++) {
            if (!lb_conf_tg(c, l->rules[j].tg)) {
                conf_error_at(errs, path, l->rules[j].line, sect, "rule",
                              "no section [target-group %s] in this file", l->rules[j].tg);
                n++;
            }
        }
        for (size_t j = 0; j < i; j++) {
            const struct lb_listener *o = &c->listeners[j];
            if (o->listen.port == l->listen.port && l->listen.port &&
                strcmp(o->listen.host, l->listen.host) == 0) {
                conf_error_at(errs, path, l->key_line[0], sect, "listen",
                              "same address as [listener %s] (line %d)", o->name,
                              o->key_line[0]);
                n++;
            }
        }
    }
    for (size_t i = 0; i < c->n_tgs; i++) {
        struct lb_tg *t = &c->tgs[i];
        snprintf(sect, sizeof sect, "target-group %s", t->name);
        if (t->timeout_ms >= t->interval_ms) {
            conf_error_at(errs, path, t->key_line[6] ? t->key_line[6] : t->line, sect,
                          "health-check-timeout",
                          "must be less than health-check-interval (%llums >= %llums)",
                          (unsigned long long)t->timeout_ms,
                          (unsigned long long)t->interval_ms);
            n++;
        }
    }
    return n;
}

static const struct conf_ext lb_ext = {
    .hint = "[lb], [listener NAME], [target-group NAME]",
    .owns = lb_owns,
    .create = lb_create,
    .section = lb_section,
    .entry = lb_entry,
    .finish = lb_finish,
    .destroy = lb_destroy,
};

void lb_conf_register(void)
{
    conf_register_ext(&lb_ext);
}

const struct lb_conf *lb_conf_of(const struct conf *c)
{
    struct lb_conf_state *st = conf_ext_state(c, &lb_ext);
    return st ? &st->c : NULL;
}
