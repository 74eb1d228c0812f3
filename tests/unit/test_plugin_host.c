/* test_plugin_host.c: loading real plugin files: the ABI rule, every
 * refusal, options of each type, the lifecycle and resource release, and
 * trial loads that survive a crashing plugin. */
#include "config.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/host.h"
#include "agent/log.h"
#include "agent/plugin_host.h"
#include "agent/runtime.h"
#include "tests/lib/tap.h"
#include "tests/plugins/good.h"

static char plugdir[4096], tmpdir[64];

static char *
plugin_file(const char *name)
{
    static char buf[8][4352];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s.so", plugdir, name);
    return buf[i];
}

static char *
slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

static struct conf *
load_conf(const char *text, struct conf_errors *errs)
{
    struct conf *c = NULL;
    if (conf_load_string(text, "/etc/berth/test.conf", &c, errs) < 0) {
        for (size_t i = 0; i < errs->n; i++)
            diag("conf error: %s", errs->msg[i]);
        return NULL;
    }
    return c;
}

static void
test_abi_rule(void)
{
    struct berth_plugin d = {.abi_major = 1, .abi_minor = 1};
    char err[512];

    ok(plugin_check_abi(&d, 1, 1, err, sizeof(err)) == 0, "same ABI accepted");
    ok(plugin_check_abi(&d, 1, 5, err, sizeof(err)) == 0, "older minor accepted");
    ok(plugin_check_abi(&d, 1, 0, err, sizeof(err)) < 0, "newer minor refused");
    like(err, "plugin needs ABI 1.1 but berthd has 1.0", "newer minor names both versions");
    ok(plugin_check_abi(&d, 2, 0, err, sizeof(err)) < 0, "other major refused");
    like(err, "plugin ABI 1.1 is not supported: berthd speaks ABI 2.0",
         "other major names both versions");
}

static void
test_open(void)
{
    struct plugin *p;
    char err[1024], path[256];

    ok(plugin_open("good", plugin_file("good"), &p, err, sizeof(err)) == 0,
       "good plugin loads");
    if (p) {
        is_str(p->desc.name, "good", "descriptor name read");
        ok(p->desc.reconfigure != NULL, "1.1 field reconfigure present");
        plugin_close(p);
    } else {
        diag("%s", err);
    }

    ok(plugin_open("old", plugin_file("old_minor"), &p, err, sizeof(err)) == 0,
       "plugin built against ABI 1.0 loads");
    if (p) {
        ok(p->desc.abi_minor == 0 && p->desc.struct_size < sizeof(struct berth_plugin),
           "its descriptor is the smaller 1.0 one (minor %u, size %u)",
           p->desc.abi_minor, p->desc.struct_size);
        ok(p->desc.reconfigure == NULL, "fields past its struct_size read as absent");
        plugin_close(p);
    } else {
        diag("%s", err);
    }

    /* Runtime ops grow by minor too (1.3 appended host_address). */
    ok(plugin_open("rt12", plugin_file("runtime_1_2"), &p, err, sizeof(err)) == 0,
       "a runtime plugin built against ABI 1.2 loads");
    if (p) {
        const struct berth_runtime_ops *ops = p->desc.ops;
        ok(p->desc.abi_minor == 2 &&
               ops->struct_size < sizeof(struct berth_runtime_ops),
           "its ops are the smaller 1.2 ones (size %u)", ops->struct_size);
        struct runtime *rt = runtime_new("k=v", NULL, NULL);
        runtime_attach(rt, p);
        ok(runtime_host_address(rt, "host") == NULL &&
               runtime_host_address(rt, "bridge") == NULL,
           "host_address, past its ops, reads as absent: no address");
        runtime_detach(rt, p);
        runtime_free(rt);
        plugin_close(p);
    } else {
        diag("%s", err);
    }
    ok(plugin_open("rtna", plugin_file("runtime_no_addr"), &p, err, sizeof(err)) < 0 && !p,
       "a 1.3 runtime plugin without host_address is refused");
    like(err, "a runtime plugin must provide every operation",
         "the message says an operation is missing");

    ok(plugin_open("n", plugin_file("new_minor"), &p, err, sizeof(err)) < 0 && !p,
       "plugin needing a newer minor refused");
    char want[128];
    snprintf(want, sizeof want, "needs ABI %d.%d but berthd has %d.%d",
             BERTH_PLUGIN_ABI_MAJOR, BERTH_PLUGIN_ABI_MINOR + 1,
             BERTH_PLUGIN_ABI_MAJOR, BERTH_PLUGIN_ABI_MINOR);
    like(err, want, "newer minor: both versions named");
    like(err, plugin_file("new_minor"), "newer minor: the file named");

    ok(plugin_open("m", plugin_file("other_major"), &p, err, sizeof(err)) < 0,
       "plugin of another major refused");
    snprintf(want, sizeof want, "plugin ABI %d.0 is not supported: berthd speaks ABI %d.%d",
             BERTH_PLUGIN_ABI_MAJOR + 1, BERTH_PLUGIN_ABI_MAJOR, BERTH_PLUGIN_ABI_MINOR);
    like(err, want,
         "other major: both versions named");

    ok(plugin_open("d", plugin_file("no_descriptor"), &p, err, sizeof(err)) < 0,
       "shared object without descriptor refused");
    like(err, "no descriptor (the symbol berth_plugin is not exported",
         "no descriptor: says which symbol");

    snprintf(path, sizeof(path), "%s/text.so", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("this is not an ELF file\n", f);
    fclose(f);
    ok(plugin_open("t", path, &p, err, sizeof(err)) < 0, "non-ELF file refused");
    like(err, "not an ELF shared object", "non-ELF: says what is wrong");
    like(err, path, "non-ELF: the file named");

    snprintf(path, sizeof(path), "%s/missing.so", tmpdir);
    ok(plugin_open("x", path, &p, err, sizeof(err)) < 0, "missing file refused");
    like(err, "No such file or directory", "missing file: says so");

    ok(plugin_open("x", tmpdir, &p, err, sizeof(err)) < 0, "directory refused");
    like(err, "not a regular file", "directory: says so");
}

static void
test_options(void)
{
    struct conf_errors errs = {0};
    struct plugin *p = NULL;
    char text[8192], err[1024];
    struct conf *c;
    struct good_config *cfg;

    plugin_open("good", plugin_file("good"), &p, err, sizeof(err));
    if (!ok(p != NULL, "good plugin opened for option tests"))
        return;
    snprintf(text, sizeof(text),
             "[plugin good]\nfile = %s\nrequired = here\ncount = -7\nflag = yes\n"
             "wait = 250ms\nlimit = 64KiB\nlisten = [::1]:9000\n",
             plugin_file("good"));
    c = load_conf(text, &errs);
    cfg = c ? plugin_config_new(p, c, &c->plugins[0], &errs) : NULL;
    ok(cfg != NULL && errs.n == 0, "every option type parses");
    if (cfg) {
        ok(cfg->count == -7, "int option");
        ok(cfg->flag == 1, "bool option");
        ok(cfg->wait_ms == 250, "duration option in ms");
        ok(cfg->limit == 65536, "size option in bytes");
        is_str(cfg->listen.host, "::1", "address host without brackets");
        ok(cfg->listen.port == 9000, "address port");
        is_str(cfg->required, "here", "string option");
        ok(cfg->trace == NULL, "unset string without default stays NULL");
        plugin_config_free(p, cfg);
    }
    conf_free(c);
    conf_errors_clear(&errs);

    snprintf(text, sizeof(text),
             "[plugin good]\nfile = %s\nrequired = x\ncount = many\nbogus = 1\n",
             plugin_file("good"));
    c = load_conf(text, &errs);
    cfg = c ? plugin_config_new(p, c, &c->plugins[0], &errs) : NULL;
    ok(cfg == NULL && errs.n == 2, "bad value and unknown key: both reported (%zu)",
       errs.n);
    if (errs.n == 2) {
        like(errs.msg[0], "/etc/berth/test.conf:4: [plugin good] count: ",
             "bad value names file, line, section and key");
        like(errs.msg[1], "/etc/berth/test.conf:5: [plugin good] bogus: unknown key",
             "unknown key names file, line, section and key");
        like(errs.msg[1], "valid keys: trace, count, flag, wait, limit, listen, required",
             "unknown key lists the plugin's options");
    }
    conf_free(c);
    conf_errors_clear(&errs);

    snprintf(text, sizeof(text), "[agent]\ncluster = x\n\n[plugin good]\nfile = %s\n",
             plugin_file("good"));
    c = load_conf(text, &errs);
    cfg = c ? plugin_config_new(p, c, &c->plugins[0], &errs) : NULL;
    ok(cfg == NULL && errs.n == 1, "missing required option refused");
    if (errs.n)
        like(errs.msg[0], "/etc/berth/test.conf:4: [plugin good] required: required, but not set",
             "missing option names the section's line");
    conf_free(c);
    conf_errors_clear(&errs);
    plugin_close(p);
}

static void
test_lifecycle(void)
{
    struct conf_errors errs = {0};
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    char text[8192], err[1024], trace[128];
    struct plugin *p = NULL;
    struct host *h;
    struct conf *c;
    void *cfg;

    snprintf(trace, sizeof(trace), "%s/trace", tmpdir);
    h = host_new(loop, err, sizeof(err));
    ok(h != NULL, "host starts");
    snprintf(text, sizeof(text), "[plugin good]\nfile = %s\nrequired = x\ntrace = %s\n",
             plugin_file("good"), trace);
    c = load_conf(text, &errs);
    if (!h || !c || plugin_open("good", plugin_file("good"), &p, err, sizeof(err)) < 0) {
        ok(0, "setup for lifecycle: %s", err);
        return;
    }
    host_set_conf(h, c);
    cfg = plugin_config_new(p, c, &c->plugins[0], &errs);
    ok(plugin_init(p, h, cfg, err, sizeof(err)) == 0, "init");
    ok(plugin_start(p, err, sizeof(err)) == 0, "start");
    ok(host_ctx_resources(p->ctx) == 2, "the plugin holds a timer and a watcher (%u)",
       host_ctx_resources(p->ctx));

    /* reconfigure: accepted, then refused by the plugin itself. */
    snprintf(text, sizeof(text), "[plugin good]\nfile = %s\nrequired = y\ntrace = %s\n",
             plugin_file("good"), trace);
    struct conf *c2 = load_conf(text, &errs);
    cfg = plugin_config_new(p, c2, &c2->plugins[0], &errs);
    ok(plugin_reconfigure(p, cfg, err, sizeof(err)) == 0, "reconfigure accepted");
    is_str(((struct good_config *)p->config)->required, "y", "new config in force");
    conf_free(c2);
    snprintf(text, sizeof(text), "[plugin good]\nfile = %s\nrequired = z\ncount = -1\n",
             plugin_file("good"));
    c2 = load_conf(text, &errs);
    cfg = plugin_config_new(p, c2, &c2->plugins[0], &errs);
    ok(plugin_reconfigure(p, cfg, err, sizeof(err)) < 0, "reconfigure refused by plugin");
    is_str(err, "count must not be negative", "the plugin's reason is kept");
    is_str(((struct good_config *)p->config)->required, "y", "old config stays in force");
    conf_free(c2);

    ok(plugin_stop(p) == 0 && p->st == PLUGIN_STOPPED, "stop");
    plugin_destroy(p);
    ok(p->ctx == NULL && p->st == PLUGIN_LOADED, "destroy releases the context");
    is_str(slurp(trace), "init\nstart\nreconfigure\nstop\ndestroy\n",
           "lifecycle calls in order");
    plugin_close(p);
    host_free(h);
    conf_free(c);
    ev_loop_destroy(loop);

    /* An ABI 1.0 plugin cannot reconfigure: the agent restarts it instead. */
    snprintf(text, sizeof(text), "[plugin old]\nfile = %s\n", plugin_file("old_minor"));
    c = load_conf(text, &errs);
    loop = ev_loop_new(EVFLAG_AUTO);
    h = host_new(loop, err, sizeof(err));
    host_set_conf(h, c);
    plugin_open("old", plugin_file("old_minor"), &p, err, sizeof(err));
    cfg = plugin_config_new(p, c, &c->plugins[0], &errs);
    ok(plugin_init(p, h, cfg, err, sizeof(err)) == 0, "1.0 plugin initialises");
    cfg = plugin_config_new(p, c, &c->plugins[0], &errs);
    ok(plugin_reconfigure(p, cfg, err, sizeof(err)) < 0, "1.0 plugin: no reconfigure");
    is_str(err, "does not support reconfigure", "and the reason says so");
    plugin_close(p);
    host_free(h);
    conf_free(c);
    ev_loop_destroy(loop);
}

static void
test_probe(void)
{
    struct conf_errors errs = {0};
    char text[8192];
    struct conf *c;

    snprintf(text, sizeof(text),
             "[plugin fails]\nfile = %s\n\n[plugin crashes]\nfile = %s\n\n"
             "[plugin good]\nfile = %s\nrequired = x\n\n[plugin old]\nfile = %s\n",
             plugin_file("init_fails"), plugin_file("init_crashes"), plugin_file("good"),
             plugin_file("old_minor"));
    c = load_conf(text, &errs);
    if (!ok(c != NULL, "probe conf loads"))
        return;
    ok(plugin_probe(c, &c->plugins[0], PROBE_INIT, &errs) < 0 && errs.n == 1,
       "init failure found by trial load");
    if (errs.n)
        is_str(errs.msg[0],
               "/etc/berth/test.conf:1: [plugin fails] init failed: cannot reach the "
               "frobnicator at /dev/frob",
               "init failure: the plugin's own message, with location");
    conf_errors_clear(&errs);

    ok(plugin_probe(c, &c->plugins[1], PROBE_INIT, &errs) < 0 && errs.n == 1,
       "crash in init found by trial load, and we are still here");
    if (errs.n)
        like(errs.msg[0], "/etc/berth/test.conf:4: [plugin crashes] crashed in init (signal 11",
             "crash: names the stage and the signal");
    conf_errors_clear(&errs);

    ok(plugin_probe(c, &c->plugins[1], PROBE_LOAD, &errs) == 0,
       "load-only probe does not run init");
    ok(plugin_probe(c, &c->plugins[2], PROBE_INIT, &errs) == 0 && errs.n == 0,
       "good plugin passes the trial");
    ok(plugin_probe(c, &c->plugins[3], PROBE_INIT, &errs) == 0 && errs.n == 0,
       "1.0 plugin passes the trial");
    conf_free(c);
    conf_errors_clear(&errs);
}

int
main(void)
{
    const char *b = getenv("top_builddir");

    log_setup(LOG_TARGET_STDERR, BERTH_LOG_WARN);
    snprintf(plugdir, sizeof(plugdir), "%s/tests/plugins/.libs", b ? b : ".");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-ph-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 99;
    test_abi_rule();
    test_open();
    test_options();
    test_lifecycle();
    test_probe();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpdir);
    return done_testing();
}
