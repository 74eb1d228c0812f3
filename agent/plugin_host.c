/* plugin_host.c: dlopen, descriptor checks, options and lifecycle. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/host.h"
#include "agent/log.h"
#include "agent/options.h"
#include "agent/plugin_host.h"

/* How long a trial load may take before the child is killed. */
#define PROBE_TIMEOUT_MS 10000

/* The descriptor size each minor of the current major defines: a plugin must
 * provide at least what its own minor has. */
static const size_t desc_size_for_minor[] = {
    [0] = offsetof(struct berth_plugin, reconfigure),
    [1] = sizeof(struct berth_plugin),
    [2] = sizeof(struct berth_plugin), /* 1.2 added runtime ops, not descriptor fields */
    [3] = sizeof(struct berth_plugin), /* 1.3 appended a runtime op */
    [4] = sizeof(struct berth_plugin), /* 1.4: host and sink fields only */
};

/* The runtime ops each minor defines (none before 1.2): a runtime plugin
 * provides at least what its own minor has, every one non-NULL. */
#define RT_OPS_END(field) \
    (offsetof(struct berth_runtime_ops, field) + \
     sizeof(((struct berth_runtime_ops *)0)->field))
static const size_t runtime_ops_size_for_minor[] = {
    [0] = 0,
    [1] = 0,
    [2] = RT_OPS_END(watch),
    [3] = RT_OPS_END(host_address),
    [4] = RT_OPS_END(host_address),
};

const char *
plugin_kind_name(enum berth_plugin_kind k)
{
    switch (k) {
    case BERTH_KIND_EXTENSION:
        return "extension";
    case BERTH_KIND_RUNTIME:
        return "runtime";
    case BERTH_KIND_METRICS_SINK:
        return "metrics-sink";
    }
    return NULL;
}

int
plugin_check_abi(const struct berth_plugin *d, unsigned host_major,
                 unsigned host_minor, char *err, size_t errlen)
{
    if (d->abi_major != host_major) {
        snprintf(err, errlen,
                 "plugin ABI %u.%u is not supported: berthd speaks ABI %u.%u "
                 "(rebuild the plugin against berthd's plugin.h)",
                 d->abi_major, d->abi_minor, host_major, host_minor);
        return -1;
    }
    if (d->abi_minor > host_minor) {
        snprintf(err, errlen,
                 "plugin needs ABI %u.%u but berthd has %u.%u "
                 "(upgrade berthd or rebuild the plugin against its plugin.h)",
                 d->abi_major, d->abi_minor, host_major, host_minor);
        return -1;
    }
    return 0;
}

static int
valid_option_name(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return 0;
    return 1;
}

/* A broken option table is the plugin author's bug: say which row. */
static int
check_options(const struct berth_plugin *d, char *err, size_t errlen)
{
    const struct berth_option *o = d->options;

    for (size_t i = 0; o && o[i].name; i++) {
        size_t fs = options_field_size(o[i].type);
        if (!valid_option_name(o[i].name)) {
            snprintf(err, errlen, "option table row %zu: invalid name \"%s\"", i,
                     o[i].name);
            return -1;
        }
        if (options_find(conf_plugin_host_options, o[i].name)) {
            snprintf(err, errlen, "option %s: the name is reserved for berthd",
                     o[i].name);
            return -1;
        }
        if (!fs) {
            snprintf(err, errlen, "option %s: unknown type %d", o[i].name,
                     (int)o[i].type);
            return -1;
        }
        if (o[i].offset + fs > d->config_size) {
            snprintf(err, errlen,
                     "option %s: offset %zu lies outside config_size %zu",
                     o[i].name, o[i].offset, d->config_size);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(o[i].name, o[j].name) == 0) {
                snprintf(err, errlen, "option %s is listed twice", o[i].name);
                return -1;
            }
    }
    if (o) {
        char oerr[256];
        void *scratch = calloc(1, d->config_size ? d->config_size : 1);
        int r = scratch ? options_defaults(o, scratch, oerr, sizeof(oerr)) : -1;
        if (scratch) {
            options_free(o, scratch);
            free(scratch);
        }
        if (r < 0) {
            snprintf(err, errlen, "option table: bad default: %s",
                     scratch ? oerr : "out of memory");
            return -1;
        }
    }
    return 0;
}

static int
check_descriptor(const struct berth_plugin *d, char *err, size_t errlen)
{
    if (!d->name || !*d->name) {
        snprintf(err, errlen, "the descriptor has no name");
        return -1;
    }
    if (!plugin_kind_name(d->kind)) {
        snprintf(err, errlen, "plugin %s: unknown kind %d", d->name, (int)d->kind);
        return -1;
    }
    if (!d->init || !d->destroy) {
        snprintf(err, errlen, "plugin %s: the descriptor lacks init or destroy",
                 d->name);
        return -1;
    }
    if (d->kind == BERTH_KIND_METRICS_SINK) {
        const struct berth_metrics_sink_ops *ops = d->ops;
        if (!ops || ops->struct_size < offsetof(struct berth_metrics_sink_ops, write) +
                                           sizeof(ops->write) || !ops->write) {
            snprintf(err, errlen, "plugin %s: a metrics sink needs ops with write()",
                     d->name);
            return -1;
        }
    } else if (d->kind == BERTH_KIND_RUNTIME) {
        /* Runtime operations came with 1.2: an older runtime plugin has
         * none the agent could call. */
        const struct berth_runtime_ops *ops = d->ops;
        if (d->abi_minor < 2) {
            snprintf(err, errlen,
                     "plugin %s: runtime plugins need ABI 1.2 or newer (it "
                     "was built against %u.%u, whose runtime kind had no "
                     "operations)",
                     d->name, (unsigned)d->abi_major, (unsigned)d->abi_minor);
            return -1;
        }
        size_t need = d->abi_minor < sizeof(runtime_ops_size_for_minor) /
                                         sizeof(runtime_ops_size_for_minor[0])
                          ? runtime_ops_size_for_minor[d->abi_minor]
                          : sizeof(struct berth_runtime_ops);
        if (!ops || ops->struct_size < need) {
            snprintf(err, errlen,
                     "plugin %s: a runtime plugin of ABI %u.%u needs ops with "
                     "every %u.%u operation (struct_size %u, expected at least %zu)",
                     d->name, (unsigned)d->abi_major, (unsigned)d->abi_minor,
                     (unsigned)d->abi_major, (unsigned)d->abi_minor,
                     ops ? (unsigned)ops->struct_size : 0u, need);
            return -1;
        }
        const void *fns[] = {(const void *)ops->sandbox_create,
                             (const void *)ops->sandbox_remove,
                             (const void *)ops->create, (const void *)ops->start,
                             (const void *)ops->stop, (const void *)ops->remove,
                             (const void *)ops->inspect, (const void *)ops->list,
                             (const void *)ops->stats, (const void *)ops->watch,
                             (const void *)ops->engine_version,
                             /* 1.3: only read when the plugin has it */
                             need >= RT_OPS_END(host_address)
                                 ? (const void *)ops->host_address
                                 : (const void *)ops->watch};
        for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
            if (!fns[i]) {
                snprintf(err, errlen,
                         "plugin %s: a runtime plugin must provide every "
                         "operation (one is NULL)", d->name);
                return -1;
            }
    }
    char why[400];
    if (check_options(d, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "plugin %s: %s", d->name, why);
        return -1;
    }
    return 0;
}

/* Reads the descriptor through its fixed-offset version fields first, then
 * copies only the bytes the plugin says it has. */
static int
read_descriptor(const struct berth_plugin *src, struct berth_plugin *dst,
                char *err, size_t errlen)
{
    if (plugin_check_abi(src, BERTH_PLUGIN_ABI_MAJOR, BERTH_PLUGIN_ABI_MINOR, err,
                         errlen) < 0)
        return -1;
    if (src->struct_size < desc_size_for_minor[src->abi_minor]) {
        snprintf(err, errlen,
                 "descriptor struct_size %u is smaller than ABI %u.%u defines (%zu)",
                 src->struct_size, src->abi_major, src->abi_minor,
                 desc_size_for_minor[src->abi_minor]);
        return -1;
    }
    memset(dst, 0, sizeof(*dst));
    memcpy(dst, src, src->struct_size < sizeof(*dst) ? src->struct_size : sizeof(*dst));
    return check_descriptor(dst, err, errlen);
}

/* dlopen's own words for a text file are "file too short" or "invalid ELF
 * header"; the magic number lets us say plainly what is wrong. */
static int
is_elf(const char *path)
{
    unsigned char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(magic, 1, sizeof(magic), f) : 0;
    if (f)
        fclose(f);
    return n == 4 && memcmp(magic, "\177ELF", 4) == 0;
}

int
plugin_open(const char *instance, const char *path, struct plugin **out,
            char *err, size_t errlen)
{
    struct plugin *p;
    const struct berth_plugin *d;
    struct stat st;
    char why[512];
    void *dl;

    *out = NULL;
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "cannot load %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot load %s: not a regular file", path);
        return -1;
    }
    if (!is_elf(path)) {
        snprintf(err, errlen, "cannot load %s: not an ELF shared object", path);
        return -1;
    }
    dlerror();
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        snprintf(err, errlen, "cannot load %s: %s", path, e ? e : "dlopen failed");
        return -1;
    }
    d = dlsym(dl, BERTH_PLUGIN_SYMBOL);
    if (!d) {
        snprintf(err, errlen,
                 "cannot load %s: no descriptor (the symbol %s is not exported; "
                 "is this a Berth plugin?)",
                 path, BERTH_PLUGIN_SYMBOL);
        dlclose(dl);
        return -1;
    }
    p = calloc(1, sizeof(*p));
    if (!p || read_descriptor(d, p ? &p->desc : NULL, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "cannot load %s: %s", path, p ? why : "out of memory");
        free(p);
        dlclose(dl);
        return -1;
    }
    p->instance = strdup(instance);
    p->path = strdup(path);
    p->dl = dl;
    p->st = PLUGIN_LOADED;
    if (!p->instance || !p->path) {
        plugin_close(p);
        snprintf(err, errlen, "cannot load %s: out of memory", path);
        return -1;
    }
    *out = p;
    return 0;
}

void
plugin_close(struct plugin *p)
{
    if (!p)
        return;
    if (p->st != PLUGIN_LOADED)
        plugin_destroy(p);
    if (p->dl)
        dlclose(p->dl);
    free(p->instance);
    free(p->path);
    free(p->opts_digest);
    free(p);
}

void *
plugin_config_new(const struct plugin *p, const struct conf *c,
                  const struct conf_plugin *cp, struct conf_errors *errs)
{
    void *config = calloc(1, p->desc.config_size ? p->desc.config_size : 1);

    if (!config) {
        conf_errors_add(errs, "%s:%d: [plugin %s] out of memory", c->path, cp->line,
                        cp->name);
        return NULL;
    }
    if (conf_plugin_apply(c, cp, p->desc.options, config, errs) < 0) {
        plugin_config_free(p, config);
        return NULL;
    }
    return config;
}

void
plugin_config_free(const struct plugin *p, void *config)
{
    if (!config)
        return;
    if (p->desc.options)
        options_free(p->desc.options, config);
    free(config);
}

int
plugin_init(struct plugin *p, struct host *h, void *config, char *err,
            size_t errlen)
{
    void *state = NULL;

    p->ctx = host_ctx_new(h, p);
    if (!p->ctx) {
        plugin_config_free(p, config);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->config = config;
    err[0] = '\0';
    if (p->desc.init(p->ctx, &host_api, config, &state, err, errlen) != 0) {
        if (!err[0])
            snprintf(err, errlen, "init failed (the plugin gave no reason)");
        host_ctx_release(p->ctx);
        p->ctx = NULL;
        plugin_config_free(p, config);
        p->config = NULL;
        return -1;
    }
    p->state = state;
    p->st = PLUGIN_INITIALISED;
    return 0;
}

int
plugin_start(struct plugin *p, char *err, size_t errlen)
{
    err[0] = '\0';
    if (p->desc.start && p->desc.start(p->state, err, errlen) != 0) {
        if (!err[0])
            snprintf(err, errlen, "start failed (the plugin gave no reason)");
        return -1;
    }
    p->st = PLUGIN_STARTED;
    return 0;
}

int
plugin_reconfigure(struct plugin *p, void *config, char *err, size_t errlen)
{
    err[0] = '\0';
    if (!p->desc.reconfigure) {
        plugin_config_free(p, config);
        snprintf(err, errlen, "does not support reconfigure");
        return -1;
    }
    if (p->desc.reconfigure(p->state, config, err, errlen) != 0) {
        if (!err[0])
            snprintf(err, errlen, "reconfigure failed (the plugin gave no reason)");
        plugin_config_free(p, config);
        return -1;
    }
    plugin_config_free(p, p->config);
    p->config = config;
    return 0;
}

int
plugin_stop(struct plugin *p)
{
    if (p->st != PLUGIN_STARTED && p->st != PLUGIN_INITIALISED)
        return 0;
    if (p->st == PLUGIN_STARTED && p->desc.stop &&
        p->desc.stop(p->state) == BERTH_PENDING) {
        p->st = PLUGIN_STOPPING;
        return BERTH_PENDING;
    }
    p->st = PLUGIN_STOPPED;
    return 0;
}

void
plugin_destroy(struct plugin *p)
{
    if (p->st == PLUGIN_LOADED)
        return;
    p->desc.destroy(p->state);
    p->state = NULL;
    host_ctx_release(p->ctx);
    p->ctx = NULL;
    plugin_config_free(p, p->config);
    p->config = NULL;
    p->st = PLUGIN_LOADED;
}

char *
plugin_opts_digest(const struct conf *c, const struct conf_plugin *cp)
{
    char *path = conf_plugin_path(c, cp), *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f) {
        free(path);
        return NULL;
    }
    fprintf(f, "file=%s\n", path ? path : "");
    for (size_t i = 0; i < cp->n_opts; i++)
        fprintf(f, "%s=%s\n", cp->opts[i].key, cp->opts[i].value);
    fclose(f);
    free(path);
    return buf;
}

/* ---- trial loads in a child process ---- */

static void
probe_say(int fd, const char *tag, const char *msg)
{
    char line[2048];
    int n = snprintf(line, sizeof(line), "%s %s\n", tag, msg);
    /* Messages are single lines; make sure of it. */
    for (int i = 0; i < n - 1 && i < (int)sizeof(line) - 1; i++)
        if (line[i] == '\n')
            line[i] = ' ';
    if (n > 0 && write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
        _exit(3);
}

static void
probe_child(const struct conf *c, const struct conf_plugin *cp,
            enum probe_depth depth, int fd)
{
    struct conf_errors errs = {0};
    struct plugin *p = NULL;
    char err[1024], msg[1536];
    char *path = conf_plugin_path(c, cp);
    void *config;

    /* Die of the real signal, even under a sanitizer's handler, so the
     * parent can name it. */
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        signal(fatal[i], SIG_DFL);
    log_setup(LOG_TARGET_STDERR, BERTH_LOG_ERROR);
    probe_say(fd, "stage", "loading");
    if (!path || plugin_open(cp->name, path, &p, err, sizeof(err)) < 0) {
        snprintf(msg, sizeof(msg), "%s:%d: [plugin %s] %s", c->path, cp->line,
                 cp->name, path ? err : "out of memory");
        probe_say(fd, "error", msg);
        _exit(1);
    }
    free(path);
    probe_say(fd, "stage", "reading its options");
    config = plugin_config_new(p, c, cp, &errs);
    for (size_t i = 0; i < errs.n; i++)
        probe_say(fd, "error", errs.msg[i]);
    if (!config)
        _exit(1);
    if (depth == PROBE_INIT) {
        struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
        struct host *h = loop ? host_new(loop, err, sizeof(err)) : NULL;
        if (!h) {
            probe_say(fd, "error", "cannot set up a trial host");
            _exit(1);
        }
        host_set_conf(h, c);
        probe_say(fd, "stage", "in init");
        if (plugin_init(p, h, config, err, sizeof(err)) < 0) {
            snprintf(msg, sizeof(msg), "%s:%d: [plugin %s] init failed: %s", c->path,
                     cp->line, cp->name, err);
            probe_say(fd, "error", msg);
            _exit(1);
        }
        probe_say(fd, "stage", "in destroy");
        plugin_destroy(p);
    }
    probe_say(fd, "ok", "");
    _exit(0);
}

static long
elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int
plugin_probe(const struct conf *c, const struct conf_plugin *cp,
             enum probe_depth depth, struct conf_errors *errs)
{
    char buf[16384], stage[128] = "starting";
    size_t len = 0;
    int fds[2], status = 0, ok = 0, timed_out = 0;
    size_t before = errs->n;
    struct timespec t0;
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        conf_errors_add(errs, "%s:%d: [plugin %s] cannot probe: %s", c->path,
                        cp->line, cp->name, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        conf_errors_add(errs, "%s:%d: [plugin %s] cannot probe: %s", c->path,
                        cp->line, cp->name, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        probe_child(c, cp, depth, fds[1]);
        _exit(2);
    }
    close(fds[1]);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        long left = PROBE_TIMEOUT_MS - elapsed_ms(&t0);
        if (left <= 0) {
            timed_out = 1;
            kill(pid, SIGKILL);
            break;
        }
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf) - 1)
            break;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    buf[len] = '\0';
    for (char *line = buf, *nl; *line; line = nl + 1) {
        if (!(nl = strchr(line, '\n')))
            break;
        *nl = '\0';
        if (strncmp(line, "stage ", 6) == 0)
            snprintf(stage, sizeof(stage), "%s", line + 6);
        else if (strncmp(line, "error ", 6) == 0)
            conf_errors_add(errs, "%s", line + 6);
        else if (strncmp(line, "ok", 2) == 0)
            ok = 1;
    }
    if (timed_out) {
        conf_errors_add(errs, "%s:%d: [plugin %s] did not finish %s within %ds",
                        c->path, cp->line, cp->name, stage, PROBE_TIMEOUT_MS / 1000);
    } else if (WIFSIGNALED(status)) {
        conf_errors_add(errs, "%s:%d: [plugin %s] crashed %s (signal %d, %s)", c->path,
                        cp->line, cp->name, stage, WTERMSIG(status),
                        strsignal(WTERMSIG(status)));
    } else if (!ok && errs->n == before) {
        conf_errors_add(errs, "%s:%d: [plugin %s] trial load failed %s (exit %d)",
                        c->path, cp->line, cp->name, stage,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    return errs->n == before && ok ? 0 : -1;
}
