/* test_conf.c: berth.conf loading and validation, and docs that list every key. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/options.h"
#include "dns/dns_conf.h"
#include "tests/lib/tap.h"

static const char *srcdir;

static char *src_path(const char *rel)
{
    char *p;
    if (asprintf(&p, "%s/%s", srcdir, rel) < 0)
        abort();
    return p;
}

/* All of errs as one string, one message per line, for exact comparison. */
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
    struct conf *c = (struct conf *)1;
    struct conf_errors e = {0};
    int r = conf_load_string(text, "t.conf", &c, &e);
    ok(r == 0 && c != NULL && e.n == 0, "%s: loads", name);
    for (size_t i = 0; i < e.n; i++)
        diag("  unexpected: %s", e.msg[i]);
    conf_errors_clear(&e);
    return r == 0 ? c : NULL;
}

/* want: every expected message followed by "\n". */
static void load_fails(const char *name, const char *text, const char *want)
{
    struct conf *c = (struct conf *)1;
    struct conf_errors e = {0};
    int r = conf_load_string(text, "t.conf", &c, &e);
    ok(r == -1 && c == NULL, "%s: refused, no struct", name);
    char *got = joined(&e);
    is_str(got, want, "%s: messages", name);
    free(got);
    conf_errors_clear(&e);
}

static void test_defaults(void)
{
    struct conf *c = load_ok("empty text", "");
    if (!c)
        return;
    is_str(c->path, "t.conf", "conf_load_string keeps the given path");
    is_str(c->agent.cluster, "default", "cluster default");
    is_str(c->agent.region, "local", "region default");
    is_str(c->agent.account_id, "000000000000", "account-id default");
    is_str(c->agent.state_dir, LOCALSTATEDIR "/lib/berth", "state-dir default");
    is_str(c->agent.plugin_dir, PKGLIBDIR, "plugin-dir default");
    is_str(c->agent.pidfile, "", "pidfile default: none");
    is_str(c->agent.services_dir, SYSCONFDIR "/berth/services.d", "services-dir default");
    is_str(c->agent.log_level, "info", "log-level default");
    is_str(c->agent.log_target, "stderr", "log-target default");
    ok(c->agent.shutdown_timeout_ms == 10000, "shutdown-timeout default 10s");
    ok(c->agent.metrics_interval_ms == 10000, "metrics-interval default 10s");
    ok(c->n_plugins == 0 && c->plugins == NULL, "no plugins");
    conf_free(c);

    c = load_ok("an empty [agent] section", "[agent]\n");
    if (c) {
        is_str(c->agent.cluster, "default", "defaults with an empty [agent]");
        conf_free(c);
    }
    conf_free(NULL);
    ok(1, "conf_free(NULL) is harmless");
}

static void test_good_file(void)
{
    char *path = src_path("tests/unit/data/good.conf");
    struct conf *c = NULL;
    struct conf_errors e = {0};
    int r = conf_load(path, &c, &e);

    ok(r == 0 && c && e.n == 0, "good.conf loads");
    for (size_t i = 0; i < e.n; i++)
        diag("  unexpected: %s", e.msg[i]);
    conf_errors_clear(&e);
    if (!c) {
        free(path);
        return;
    }
    ok(c->path[0] == '/', "conf->path is absolute: %s", c->path);
    like(c->path, "/tests/unit/data/good.conf", "conf->path names the file");
    is_str(c->agent.cluster, "prod-1", "cluster");
    is_str(c->agent.region, "eu-west-1", "region");
    is_str(c->agent.account_id, "123456789012", "account-id");
    is_str(c->agent.state_dir, "/srv/berth/state", "state-dir");
    is_str(c->agent.plugin_dir, "/opt/berth/plugins/", "plugin-dir");
    is_str(c->agent.pidfile, "/run/berthd.pid", "pidfile");
    is_str(c->agent.log_level, "debug", "log-level");
    is_str(c->agent.log_target, "syslog", "log-target");
    ok(c->agent.shutdown_timeout_ms == 90000, "shutdown-timeout 1.5m");
    ok(c->agent.metrics_interval_ms == 3600000, "metrics-interval 1h");

    ok(c->n_plugins == 3, "three plugins");
    if (c->n_plugins == 3) {
        struct conf_plugin *p = c->plugins;
        is_str(p[0].name, "example", "plugins in file order (1)");
        is_str(p[1].name, "other", "plugins in file order (2)");
        is_str(p[2].name, "rel_2", "plugins in file order (3)");
        ok(p[0].line == 14 && p[1].line == 18 && p[2].line == 22,
           "each plugin keeps its header's line");
        is_str(p[0].file, "example.so", "file defaults to NAME.so");
        ok(p[0].enabled == 1, "enabled defaults to yes");
        ok(p[1].enabled == 0, "enabled = no");
        ok(p[0].n_opts == 2, "the plugin's own keys are kept");
        if (p[0].n_opts == 2) {
            is_str(p[0].opts[0].key, "interval", "opt 1 key");
            is_str(p[0].opts[0].value, "2s", "opt 1 value, raw");
            ok(p[0].opts[0].line == 15, "opt 1 line");
            is_str(p[0].opts[1].key, "output", "opt 2 key");
            is_str(p[0].opts[1].value, "/tmp/with space.txt", "opt 2 unquoted");
            ok(p[0].opts[1].line == 16, "opt 2 line");
        }
        ok(p[1].n_opts == 0 && p[2].n_opts == 0,
           "host keys are not among the plugin's options");

        char *so = conf_plugin_path(c, &p[0]);
        is_str(so, "/opt/berth/plugins/example.so",
               "plugin path: plugin-dir/NAME.so (one slash)");
        free(so);
        so = conf_plugin_path(c, &p[1]);
        is_str(so, "/abs/other.so", "plugin path: an absolute file as is");
        free(so);
        so = conf_plugin_path(c, &p[2]);
        is_str(so, "/opt/berth/plugins/sub/rel.so",
               "plugin path: a relative file from plugin-dir");
        free(so);
    }
    conf_free(c);
    free(path);
}

static void test_paths(void)
{
    struct conf *c = load_ok("plugin-dir without a trailing slash",
                             "[agent]\nplugin-dir = /p\n[plugin x]\n");
    if (c) {
        char *so = conf_plugin_path(c, &c->plugins[0]);
        is_str(so, "/p/x.so", "plugin-dir/NAME.so");
        free(so);
        /* A plugin struct built by hand, without a file. */
        struct conf_plugin bare = {.name = (char *)"y"};
        so = conf_plugin_path(c, &bare);
        is_str(so, "/p/y.so", "a NULL file means NAME.so");
        free(so);
        conf_free(c);
    }

    /* A relative conf path becomes absolute from the working directory. */
    char *dir = src_path("tests/unit/data");
    char *old = getcwd(NULL, 0);
    if (chdir(dir) == 0) {
        struct conf_errors e = {0};
        c = NULL;
        ok(conf_load("good.conf", &c, &e) == 0 && c, "a relative path loads");
        if (c) {
            char *cwd = getcwd(NULL, 0), *want;
            if (asprintf(&want, "%s/good.conf", cwd) < 0)
                abort();
            is_str(c->path, want, "conf->path = cwd/path");
            free(want);
            free(cwd);
            conf_free(c);
        }
        c = NULL;
        ok(conf_load("./good.conf", &c, &e) == 0 && c, "./path loads");
        if (c) {
            ok(c->path[0] == '/' && !strstr(c->path, "/./"),
               "conf->path drops a leading ./");
            conf_free(c);
        }
        conf_errors_clear(&e);
        if (chdir(old) != 0)
            diag("cannot go back to %s", old);
    } else {
        ok(0, "chdir %s", dir);
    }
    free(old);
    free(dir);
}

#define VALID_KEYS "valid keys: cluster, region, account-id, state-dir, " \
    "plugin-dir, pidfile, services-dir, log-level, log-target, "              \
    "shutdown-timeout, metrics-interval"

/* Relative paths in the file are taken from the file's folder. */
static void test_relative_paths(void)
{
    struct conf *c = NULL;
    struct conf_errors e = {0};
    int r = conf_load_string("[agent]\nplugin-dir = plugins\nstate-dir = ./state\n"
                             "pidfile = run/berthd.pid\nservices-dir = services.d\n"
                             "[plugin x]\n",
                             "/etc/berth/berth.conf", &c, &e);
    ok(r == 0 && c, "relative paths: loads");
    if (!c)
        return;
    is_str(c->agent.plugin_dir, "/etc/berth/plugins", "plugin-dir from the conf's folder");
    is_str(c->agent.state_dir, "/etc/berth/./state", "state-dir from the conf's folder");
    is_str(c->agent.pidfile, "/etc/berth/run/berthd.pid", "pidfile from the conf's folder");
    is_str(c->agent.services_dir, "/etc/berth/services.d",
           "services-dir from the conf's folder");
    char *so = conf_plugin_path(c, &c->plugins[0]);
    is_str(so, "/etc/berth/plugins/x.so", "a plugin's file follows plugin-dir");
    free(so);
    conf_free(c);
    c = load_ok("absolute paths stay", "[agent]\nplugin-dir = /p\npidfile = /run/b.pid\n");
    if (c) {
        is_str(c->agent.plugin_dir, "/p", "absolute plugin-dir unchanged");
        is_str(c->agent.pidfile, "/run/b.pid", "absolute pidfile unchanged");
        conf_free(c);
    }
}

static void test_agent_errors(void)
{
    load_fails("bad duration", "[agent]\nshutdown-timeout = soon\n",
               "t.conf:2: [agent] shutdown-timeout: expected a duration such "
               "as 250ms, 5s, 2m or 1h, got \"soon\"\n");
    load_fails("unknown key", "[agent]\nloglevel = debug\n",
               "t.conf:2: [agent] loglevel: unknown key; " VALID_KEYS "\n");
    load_fails("keys are case-sensitive", "[agent]\nCluster = x\n",
               "t.conf:2: [agent] Cluster: unknown key; " VALID_KEYS "\n");
    load_fails("duplicate key", "[agent]\ncluster = a\n\ncluster = b\n",
               "t.conf:4: [agent] cluster: duplicate key (first on line 2)\n");
    load_fails("duplicate section",
               "[agent]\ncluster = a\n[plugin p]\n[agent]\ncluster = b\n",
               "t.conf:4: duplicate section [agent] (first on line 1)\n");
    load_fails("unknown section", "[foo]\nx = 1\n",
               "t.conf:1: unknown section [foo]; known: [agent], [api], [store], [tasks], [metadata], [plugin NAME]\n");
    load_fails("[agent] with a name", "[agent x]\ncluster = a\n",
               "t.conf:1: section [agent x]: [agent] takes no name\n");
    load_fails("key before any section", "\ncluster = a\n[agent]\n",
               "t.conf:2: cluster: key outside any section; expected a section "
               "header first (known: [agent], [api], [store], [tasks], [metadata], [plugin NAME])\n");

    load_fails("shutdown-timeout below range", "[agent]\nshutdown-timeout = 999ms\n",
               "t.conf:2: [agent] shutdown-timeout: expected a duration from "
               "1s to 10m, got \"999ms\"\n");
    load_fails("shutdown-timeout above range", "[agent]\nshutdown-timeout = 601s\n",
               "t.conf:2: [agent] shutdown-timeout: expected a duration from "
               "1s to 10m, got \"601s\"\n");
    load_fails("shutdown-timeout 0", "[agent]\nshutdown-timeout = 0\n",
               "t.conf:2: [agent] shutdown-timeout: expected a duration from "
               "1s to 10m, got \"0\"\n");
    load_fails("metrics-interval above range", "[agent]\nmetrics-interval = 2h\n",
               "t.conf:2: [agent] metrics-interval: expected a duration from "
               "1s to 1h, got \"2h\"\n");
    load_fails("metrics-interval below range", "[agent]\nmetrics-interval = 0.5s\n",
               "t.conf:2: [agent] metrics-interval: expected a duration from "
               "1s to 1h, got \"0.5s\"\n");
    load_fails("negative duration", "[agent]\nmetrics-interval = -1s\n",
               "t.conf:2: [agent] metrics-interval: expected a duration such as "
               "250ms, 5s, 2m or 1h (not negative), got \"-1s\"\n");

    struct conf *c = load_ok("range edges",
                             "[agent]\nshutdown-timeout = 1s\nmetrics-interval = 1h\n");
    if (c) {
        ok(c->agent.shutdown_timeout_ms == 1000 &&
               c->agent.metrics_interval_ms == 3600000, "edges are inside the range");
        conf_free(c);
    }
    c = load_ok("upper edge", "[agent]\nshutdown-timeout = 10m\nmetrics-interval = 1s\n");
    conf_free(c);

    load_fails("account-id too short", "[agent]\naccount-id = 12345\n",
               "t.conf:2: [agent] account-id: expected 12 digits such as "
               "123456789012, got \"12345\"\n");
    load_fails("account-id not digits", "[agent]\naccount-id = 12345678901x\n",
               "t.conf:2: [agent] account-id: expected 12 digits such as "
               "123456789012, got \"12345678901x\"\n");
    load_fails("account-id too long", "[agent]\naccount-id = 1234567890123\n",
               "t.conf:2: [agent] account-id: expected 12 digits such as "
               "123456789012, got \"1234567890123\"\n");
    load_fails("log-level", "[agent]\nlog-level = verbose\n",
               "t.conf:2: [agent] log-level: expected error, warn, info or "
               "debug, got \"verbose\"\n");
    load_fails("log-level is case-sensitive", "[agent]\nlog-level = INFO\n",
               "t.conf:2: [agent] log-level: expected error, warn, info or "
               "debug, got \"INFO\"\n");
    load_fails("log-target", "[agent]\nlog-target = file\n",
               "t.conf:2: [agent] log-target: expected stderr or syslog, "
               "got \"file\"\n");
    load_fails("cluster with a space", "[agent]\ncluster = \"my cluster\"\n",
               "t.conf:2: [agent] cluster: expected 1 to 255 letters, digits, "
               "'-' or '_', got \"my cluster\"\n");
    load_fails("empty cluster", "[agent]\ncluster =\n",
               "t.conf:2: [agent] cluster: expected 1 to 255 letters, digits, "
               "'-' or '_', got \"\"\n");
    load_fails("region", "[agent]\nregion = eu_west\n",
               "t.conf:2: [agent] region: expected a region such as local or "
               "eu-west-1 (letters, digits and '-'), got \"eu_west\"\n");
    load_fails("empty state-dir", "[agent]\nstate-dir = \"\"\n",
               "t.conf:2: [agent] state-dir: expected a directory, got \"\"\n");
    load_fails("empty plugin-dir", "[agent]\nplugin-dir =\n",
               "t.conf:2: [agent] plugin-dir: expected a directory, got \"\"\n");

    char longname[300], *text;
    memset(longname, 'c', 256);
    longname[256] = '\0';
    if (asprintf(&text, "[agent]\ncluster = %.255s\n", longname) < 0)
        abort();
    c = load_ok("a 255-character cluster name", text);
    conf_free(c);
    free(text);
    if (asprintf(&text, "[agent]\ncluster = %s\n", longname) < 0)
        abort();
    struct conf *c2 = (struct conf *)1;
    struct conf_errors e = {0};
    ok(conf_load_string(text, "t.conf", &c2, &e) == -1 && c2 == NULL && e.n == 1,
       "a 256-character cluster name is refused");
    if (e.n)
        like(e.msg[0], "t.conf:2: [agent] cluster: expected 1 to 255", "message");
    conf_errors_clear(&e);
    free(text);

    c = load_ok("pidfile may be empty", "[agent]\npidfile =\n");
    if (c) {
        is_str(c->agent.pidfile, "", "empty pidfile");
        conf_free(c);
    }
}

static void test_plugin_sections(void)
{
    load_fails("[plugin] without a name", "[plugin]\nx = 1\n",
               "t.conf:1: section [plugin]: expected [plugin NAME] with one NAME\n");
    load_fails("[plugin] with two names", "[plugin a b]\n",
               "t.conf:1: section [plugin a b]: expected [plugin NAME] with one NAME\n");
    load_fails("bad plugin name", "[plugin a.b]\n",
               "t.conf:1: section [plugin a.b]: expected a NAME of letters, "
               "digits, '-' or '_', got \"a.b\"\n");
    load_fails("duplicate plugin section", "[plugin a]\nx = 1\n[plugin a]\nx = 2\n",
               "t.conf:3: duplicate section [plugin a] (first on line 1)\n");
    load_fails("duplicate plugin option", "[plugin a]\nx = 1\ny = 2\nx = 3\n",
               "t.conf:4: [plugin a] x: duplicate key (first on line 2)\n");
    load_fails("duplicate host key", "[plugin a]\nenabled = yes\nenabled = no\n",
               "t.conf:3: [plugin a] enabled: duplicate key (first on line 2)\n");
    load_fails("bad enabled", "[plugin a]\nenabled = maybe\n",
               "t.conf:2: [plugin a] enabled: expected a boolean (yes/no, "
               "true/false, on/off, 1/0), got \"maybe\"\n");
    load_fails("empty file", "[plugin a]\nfile =\n",
               "t.conf:2: [plugin a] file: expected the path of a shared "
               "object, got \"\"\n");

    struct conf *c = load_ok("plugin names and keys",
                             "[plugin A-z_09]\n[plugin b]\nenabled = off\n"
                             "some.key = v\n[plugin c]\nfile = c2.so\n");
    if (c && c->n_plugins == 3) {
        is_str(c->plugins[0].name, "A-z_09", "names may hold - and _");
        ok(c->plugins[1].enabled == 0, "enabled = off");
        ok(c->plugins[1].n_opts == 1 && c->plugins[1].opts[0].line == 4,
           "opts keep their line");
        is_str(c->plugins[2].file, "c2.so", "file as given");
    } else {
        ok(0, "three plugins");
    }
    conf_free(c);

    c = load_ok("sections and spacing normalised", "[ plugin    x ]\nk = 1\n");
    if (c && c->n_plugins == 1)
        is_str(c->plugins[0].name, "x", "[ plugin    x ] is plugin x");
    conf_free(c);
}

static void test_many_errors(void)
{
    char *path = src_path("tests/unit/data/bad-many.conf");
    struct conf *c = (struct conf *)1;
    struct conf_errors e = {0};
    char *want;

    int r = conf_load(path, &c, &e);
    ok(r == -1 && c == NULL, "bad-many.conf: refused, no struct");
    if (asprintf(&want,
        "%1$s:1: cluster: key outside any section; expected a section header "
        "first (known: [agent], [api], [store], [tasks], [metadata], [plugin NAME])\n"
        "%1$s:3: [agent] cluster: expected 1 to 255 letters, digits, '-' or "
        "'_', got \"my cluster\"\n"
        "%1$s:4: [agent] shutdown-timeout: expected a duration such as 250ms, "
        "5s, 2m or 1h, got \"soon\"\n"
        "%1$s:5: [agent] shutdown-timeout: duplicate key (first on line 4)\n"
        "%1$s:6: [agent] loglevel: unknown key; " VALID_KEYS "\n"
        "%1$s:7: [agent] metrics-interval: expected a duration from 1s to 1h, "
        "got \"2h\"\n"
        "%1$s:8: unknown section [bogus]; known: [agent], [api], [store], [tasks], [metadata], [plugin NAME]\n"
        "%1$s:10: duplicate section [agent] (first on line 2)\n"
        "%1$s:13: [plugin example] enabled: expected a boolean (yes/no, "
        "true/false, on/off, 1/0), got \"maybe\"\n"
        "%1$s:15: [plugin example] interval: duplicate key (first on line 14)\n"
        "%1$s:16: duplicate section [plugin example] (first on line 12)\n"
        "%1$s:17: section [plugin bad.name]: expected a NAME of letters, "
        "digits, '-' or '_', got \"bad.name\"\n"
        "%1$s:18: expected 'key = value', '[section]' or a comment, got "
        "\"this is not ini\"\n"
        "%1$s:19: missing ']'\n", path) < 0)
        abort();
    char *got = joined(&e);
    is_str(got, want, "bad-many.conf: every error, in order, with file and line");
    ok(e.n == 14, "14 errors (got %zu)", e.n);
    free(got);
    free(want);
    conf_errors_clear(&e);
    ok(e.n == 0 && e.msg == NULL, "conf_errors_clear empties the list");
    free(path);

    /* Errors accumulate across loads until cleared. */
    conf_load_string("[x]\n", "a.conf", &c, &e);
    conf_load_string("[y]\n", "b.conf", &c, &e);
    ok(e.n == 2, "errors accumulate until cleared");
    conf_errors_clear(&e);

    load_fails("syntax and semantic errors together",
               "[agent]\ncluster = \"a\nlog-level = loud\nregion\n",
               "t.conf:2: unterminated quote: expected a closing '\"'\n"
               "t.conf:3: [agent] log-level: expected error, warn, info or "
               "debug, got \"loud\"\n"
               "t.conf:4: expected 'key = value', '[section]' or a comment, "
               "got \"region\"\n");
}

static void test_files(void)
{
    struct conf *c = (struct conf *)1;
    struct conf_errors e = {0};
    char *got;

    ok(conf_load("/nonexistent/berth.conf", &c, &e) == -1 && c == NULL,
       "a missing file: refused, no struct");
    got = joined(&e);
    is_str(got, "cannot open /nonexistent/berth.conf: No such file or directory\n",
           "missing file message");
    free(got);
    conf_errors_clear(&e);

    char *dir = src_path("tests/unit/data");
    c = (struct conf *)1;
    ok(conf_load(dir, &c, &e) == -1 && c == NULL, "a directory is refused");
    char *want;
    if (asprintf(&want, "cannot read %s: Is a directory\n", dir) < 0)
        abort();
    got = joined(&e);
    is_str(got, want, "directory message");
    free(got);
    free(want);
    free(dir);
    conf_errors_clear(&e);

    /* CRLF, BOM and no final newline through conf_load. */
    char tmp[] = "/tmp/test_conf.XXXXXX";
    int fd = mkstemp(tmp);
    static const char text[] = "\xef\xbb\xbf[agent]\r\ncluster = crlf\r\n"
                               "[plugin p]\r\nx = 1";
    if (fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1)) {
        close(fd);
        c = NULL;
        ok(conf_load(tmp, &c, &e) == 0 && c, "a CRLF file with a BOM loads");
        if (c) {
            is_str(c->agent.cluster, "crlf", "value without the CR");
            ok(c->n_plugins == 1 && c->plugins[0].n_opts == 1 &&
                   strcmp(c->plugins[0].opts[0].value, "1") == 0,
               "last line without a newline read");
            is_str(c->path, tmp, "an absolute path is kept as is");
            conf_free(c);
        }
        conf_errors_clear(&e);
    } else {
        ok(0, "write %s", tmp);
    }
    unlink(tmp);
}

/* ------------------------------------------------------------------ */

struct pcfg {
    uint64_t interval;
    char *output;
    int64_t count;
    char *probe;
};

static const struct berth_option ptable[] = {
    {"interval", BERTH_OPT_DURATION, "10s", offsetof(struct pcfg, interval), "", 0},
    {"output", BERTH_OPT_STRING, NULL, offsetof(struct pcfg, output), "", 0},
    {"count", BERTH_OPT_INT, NULL, offsetof(struct pcfg, count), "",
     BERTH_OPT_REQUIRED},
    {"probe", BERTH_OPT_STRING, "none", offsetof(struct pcfg, probe), "", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static const struct berth_option ptable_broken[] = {
    {"interval", BERTH_OPT_DURATION, "often", offsetof(struct pcfg, interval), "", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static void test_plugin_apply(void)
{
    struct conf *c = load_ok("plugin options",
                             "[plugin good]\ninterval = 2s\noutput = /o\ncount = 3\n"
                             "[plugin bad]\ninterval = soon\nbogus = 1\n"
                             "[plugin none]\nx = 1\n[plugin empty]\n");
    if (!c || c->n_plugins != 4) {
        ok(0, "four plugins");
        conf_free(c);
        return;
    }
    struct conf_errors e = {0};
    struct pcfg cfg = {0};
    char *got;

    ok(conf_plugin_apply(c, &c->plugins[0], ptable, &cfg, &e) == 0 && e.n == 0,
       "good options apply");
    ok(cfg.interval == 2000 && cfg.count == 3, "typed values set");
    is_str(cfg.output, "/o", "string set");
    is_str(cfg.probe, "none", "default kept for a key not in the section");
    options_free(ptable, &cfg);

    memset(&cfg, 0, sizeof cfg);
    ok(conf_plugin_apply(c, &c->plugins[1], ptable, &cfg, &e) == -1,
       "bad options refused");
    got = joined(&e);
    is_str(got,
           "t.conf:6: [plugin bad] interval: expected a duration such as "
           "250ms, 5s, 2m or 1h, got \"soon\"\n"
           "t.conf:7: [plugin bad] bogus: unknown key; valid keys: interval, "
           "output, count, probe, file, enabled\n"
           "t.conf:5: [plugin bad] count: required, but not set (integer)\n",
           "every plugin option error, in conf format");
    free(got);
    conf_errors_clear(&e);
    options_free(ptable, &cfg);

    memset(&cfg, 0, sizeof cfg);
    ok(conf_plugin_apply(c, &c->plugins[2], NULL, &cfg, &e) == -1,
       "a plugin without options refuses any key");
    got = joined(&e);
    is_str(got, "t.conf:9: [plugin none] x: unknown key; valid keys: file, "
                "enabled (the plugin has no options)\n",
           "message for a plugin without options");
    free(got);
    conf_errors_clear(&e);

    ok(conf_plugin_apply(c, &c->plugins[3], NULL, &cfg, &e) == 0 && e.n == 0,
       "no table and no keys is fine");

    ok(conf_plugin_apply(c, &c->plugins[3], ptable_broken, &cfg, &e) == -1,
       "a broken default in the plugin's table is reported");
    got = joined(&e);
    is_str(got, "t.conf:10: [plugin empty] the plugin's option table is broken: "
                "default of interval: expected a duration such as 250ms, 5s, 2m "
                "or 1h, got \"often\"\n", "broken table message");
    free(got);
    conf_errors_clear(&e);

    conf_plugin_error(&e, c, &c->plugins[0], &c->plugins[0].opts[1],
                      "cannot open %s", "/o");
    conf_plugin_error(&e, c, &c->plugins[0], NULL, "init failed: %d", 7);
    got = joined(&e);
    is_str(got, "t.conf:3: [plugin good] output: cannot open /o\n"
                "t.conf:1: [plugin good] init failed: 7\n",
           "conf_plugin_error formats like conf errors");
    free(got);
    conf_errors_clear(&e);
    conf_free(c);
}

/* ------------------------------------------------------------------ */
/* The docs list every key                                            */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap * 2 + 8192;
            buf = realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* True when text has a line that is exactly line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

/* The value of a (possibly commented) "#key = value" line, or NULL. */
static char *conf_example_value(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = text; p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        const char *q = p;
        if (*q == '#')
            q++;
        if (strncmp(q, key, n) != 0)
            continue;
        q += n;
        while (*q == ' ')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ')
            q++;
        const char *end = strchr(q, '\n');
        if (!end)
            end = q + strlen(q);
        return strndup(q, (size_t)(end - q));
    }
    return NULL;
}

static void check_key_docs(const struct berth_option *o, const char *man,
                           const char *example)
{
    char roff[128], line[140];
    size_t j = 0;

    /* In roff a key's '-' is written "\-" so it stays a hyphen-minus. */
    for (const char *k = o->name; *k && j < sizeof roff - 3; k++) {
        if (*k == '-')
            roff[j++] = '\\';
        roff[j++] = *k;
    }
    roff[j] = '\0';
    snprintf(line, sizeof line, ".B %s", roff);
    ok(man && has_line(man, line), "berth.conf.5 documents %s (\"%s\")",
       o->name, line);

    char *v = example ? conf_example_value(example, o->name) : NULL;
    ok(v != NULL, "conf/berth.conf shows %s", o->name);
    if (v && o->default_value && o->default_value[0] != '/')
        is_str(v, o->default_value, "conf/berth.conf shows the default of %s",
               o->name);
    ok(o->help && strlen(o->help) > 10, "%s has a help text", o->name);
    free(v);
}

static void test_metadata(void)
{
    struct conf *c = load_ok("no [metadata]", "");
    if (c) {
        ok(c->metadata.enabled == 1 && c->metadata.port == 51679,
           "[metadata] defaults: enabled, port 51679 (ECS's)");
        conf_free(c);
    }
    c = load_ok("[metadata] set", "[metadata]\nenabled = no\nport = 40001\n");
    if (c) {
        ok(c->metadata.enabled == 0 && c->metadata.port == 40001 &&
               c->metadata.line == 1 && c->metadata.key_line[1] == 3,
           "[metadata] enabled and port read, with their lines");
        conf_free(c);
    }
    load_fails("[metadata] port 0", "[metadata]\nport = 0\n",
               "t.conf:2: [metadata] port: expected a TCP port 1-65535, got \"0\"\n");
    load_fails("[metadata] port 65536", "[metadata]\nport = 65536\n",
               "t.conf:2: [metadata] port: expected a TCP port 1-65535, got \"65536\"\n");
    load_fails("[metadata] unknown key", "[metadata]\nrate = 5\n",
               "t.conf:2: [metadata] rate: unknown key; valid keys: enabled, port\n");
    load_fails("[metadata] twice", "[metadata]\n[metadata]\n",
               "t.conf:2: duplicate section [metadata] (first on line 1)\n");
    load_fails("[metadata] with a name", "[metadata x]\n",
               "t.conf:1: section [metadata x]: [metadata] takes no name\n");
}

static void test_docs(void)
{
    char *man_path = src_path("man/berth.conf.5");
    char *ex_path = src_path("conf/berth.conf");
    char *man = slurp(man_path), *example = slurp(ex_path);

    ok(man != NULL, "read %s", man_path);
    ok(example != NULL, "read %s", ex_path);
    for (const struct berth_option *o = conf_agent_options; o->name; o++)
        check_key_docs(o, man, example);
    for (const struct berth_option *o = conf_tasks_options; o->name; o++)
        check_key_docs(o, man, example);
    for (const struct berth_option *o = conf_plugin_host_options; o->name; o++)
        check_key_docs(o, man, example);
    for (const struct berth_option *o = conf_api_options; o->name; o++)
        check_key_docs(o, man, example);
    for (const struct berth_option *o = conf_store_options; o->name; o++)
        check_key_docs(o, man, example);
    for (const struct berth_option *o = conf_metadata_options; o->name; o++)
        check_key_docs(o, man, example);
    free(man);
    free(example);
    free(man_path);

    /* The installed example loads, with the example plugin (its [dns] is
     * the responder's section, which berthd registers). */
    dns_conf_register();
    struct conf *c = NULL;
    struct conf_errors e = {0};
    ok(conf_load(ex_path, &c, &e) == 0 && c, "conf/berth.conf loads without errors");
    for (size_t i = 0; i < e.n; i++)
        diag("  %s", e.msg[i]);
    conf_errors_clear(&e);
    if (c) {
        ok(c->n_plugins == 1 && strcmp(c->plugins[0].name, "example") == 0,
           "conf/berth.conf has [plugin example]");
        ok(c->n_plugins == 1 && c->plugins[0].enabled &&
               strcmp(c->plugins[0].file, "example.so") == 0,
           "the example plugin is enabled, from example.so");
        ok(c->n_plugins == 1 && c->plugins[0].n_opts == 1 &&
               strcmp(c->plugins[0].opts[0].key, "interval") == 0 &&
               strcmp(c->plugins[0].opts[0].value, "10s") == 0,
           "the example plugin sets interval = 10s");
        is_str(c->agent.cluster, "default", "conf/berth.conf keeps the defaults");
        conf_free(c);
    }
    free(ex_path);
}

int main(void)
{
    srcdir = getenv("top_srcdir");
    if (!srcdir || !*srcdir)
        srcdir = ".";

    test_defaults();
    test_metadata();
    test_good_file();
    test_paths();
    test_relative_paths();
    test_agent_errors();
    test_plugin_sections();
    test_many_errors();
    test_files();
    test_plugin_apply();
    test_docs();
    return done_testing();
}
