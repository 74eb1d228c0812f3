/* main.c: berthd's command line, daemonising, pidfile and the loop. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "agent/agent.h"
#include "agent/conf.h"
#include "agent/log.h"
#include "agent/notify.h"
#include "dns/dns_agent.h"
#include "lb/lb.h"

#define DEFAULT_CONF SYSCONFDIR "/berth/berth.conf"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: berthd [OPTION]...\n"
            "Run the Berth agent: ECS task definitions and services on this host.\n"
            "\n"
            "  -c, --config FILE    the conf file (default %s)\n"
            "  -t, --check-config   check the conf and the plugins it loads, print\n"
            "                       every error, and exit (0 when valid)\n"
            "  -f, --foreground     stay in the foreground (for systemd and tests);\n"
            "                       otherwise detach once started\n"
            "  -p, --pidfile FILE   write the pid here (overrides [agent] pidfile)\n"
            "  -V, --version        print the version and plugin ABI, and exit\n"
            "  -h, --help           print this help, and exit\n"
            "\n"
            "Signals: TERM or INT stop in order; HUP reloads the conf (a bad conf is\n"
            "refused and the running one stays in force).\n"
            "See berthd(8), berth.conf(5) and berth-plugin(7).\n",
            DEFAULT_CONF);
}

/* Holds an exclusive lock on the pidfile for the life of the process, so a
 * second berthd on the same file refuses to start. */
static int
pidfile_take(const char *path)
{
    char buf[32];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        fprintf(stderr, "berthd: cannot open pidfile %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        fprintf(stderr, "berthd: pidfile %s is held by another berthd (pid %s)\n", path,
                *buf ? buf : "unknown");
        close(fd);
        return -1;
    }
    int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
        fprintf(stderr, "berthd: cannot write pidfile %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Forks; the parent waits until the child says it started (exit 0) or the
 * child exits (its status).  Returns in the child with the fd to report on. */
static int
daemonise(void)
{
    int fds[2];
    pid_t pid;
    char c;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        perror("berthd: pipe");
        exit(1);
    }
    pid = fork();
    if (pid < 0) {
        perror("berthd: fork");
        exit(1);
    }
    if (pid > 0) {
        int status;
        close(fds[1]);
        if (read(fds[0], &c, 1) == 1)
            _exit(0);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
    }
    close(fds[0]);
    setsid();
    if (chdir("/") < 0)
        _exit(1);
    return fds[1];
}

static void
detach_stdio(void)
{
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return;
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2)
        close(fd);
}

static void
print_errors(const struct conf_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        fprintf(stderr, "berthd: %s\n", errs->msg[i]);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 't'},
        {"foreground", no_argument, NULL, 'f'},
        {"pidfile", required_argument, NULL, 'p'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *conf_path = DEFAULT_CONF, *pidfile = NULL;
    char *conf_pidfile = NULL;
    int check = 0, foreground = 0, opt, ready_fd = -1, pid_fd = -1, rc;
    struct conf_errors errs = {0};
    struct agent agent;
    char abs[4096], abs_pid[4096];

    /* Before any plugin code runs (trial loads included): a write to a
     * closed socket must be an EPIPE, not the end of the agent. */
    signal(SIGPIPE, SIG_IGN);
    lb_register(); /* the proxy's conf sections and its agent module */
    dns_register(); /* the same for the DNS responder */
    while ((opt = getopt_long(argc, argv, "c:tfp:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            conf_path = optarg;
            break;
        case 't':
            check = 1;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'p':
            pidfile = optarg;
            break;
        case 'V':
            printf("berthd %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
                   BERTH_PLUGIN_ABI_MAJOR, BERTH_PLUGIN_ABI_MINOR);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "berthd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    /* The daemon chdirs to "/": paths given on the command line are taken
     * from where berthd was started. */
    if (conf_path[0] != '/' && getcwd(abs, sizeof(abs) - strlen(conf_path) - 2)) {
        strcat(abs, "/");
        strcat(abs, conf_path);
        conf_path = abs;
    }
    if (pidfile && pidfile[0] != '/' &&
        getcwd(abs_pid, sizeof(abs_pid) - strlen(pidfile) - 2)) {
        strcat(abs_pid, "/");
        strcat(abs_pid, pidfile);
        pidfile = abs_pid;
    }

    if (check) {
        if (agent_check_config(conf_path, &errs) < 0) {
            print_errors(&errs);
            fprintf(stderr, "berthd: %s: %zu error%s\n", conf_path, errs.n,
                    errs.n == 1 ? "" : "s");
            conf_errors_clear(&errs);
            return 1;
        }
        printf("%s: ok\n", conf_path);
        return 0;
    }

    log_setup(LOG_TARGET_STDERR, BERTH_LOG_INFO);
    if (!foreground)
        ready_fd = daemonise();

    /* Loaded once, before the pidfile is taken, so that a second instance
     * stops before it loads anything; the agent then owns it. */
    struct conf *conf = NULL;
    if (conf_load(conf_path, &conf, &errs) < 0) {
        print_errors(&errs);
        fprintf(stderr, "berthd: not started: %zu error%s\n", errs.n,
                errs.n == 1 ? "" : "s");
        conf_errors_clear(&errs);
        return 1;
    }
    if (!pidfile && conf->agent.pidfile && *conf->agent.pidfile)
        pidfile = conf_pidfile = strdup(conf->agent.pidfile); /* outlives reloads */
    if (pidfile && (pid_fd = pidfile_take(pidfile)) < 0) {
        conf_free(conf);
        free(conf_pidfile);
        return 1;
    }

    struct ev_loop *loop = EV_DEFAULT;
    if (agent_start(&agent, loop, conf, !foreground, &errs) < 0) {
        print_errors(&errs);
        fprintf(stderr, "berthd: not started: %zu error%s\n", errs.n,
                errs.n == 1 ? "" : "s");
        conf_errors_clear(&errs);
        agent_free(&agent);
        if (pid_fd >= 0)
            unlink(pidfile);
        free(conf_pidfile);
        return 1;
    }
    notify_systemd("READY=1");
    if (ready_fd >= 0) {
        detach_stdio();
        if (write(ready_fd, "1", 1) < 0)
            log_warn("agent.ready.unreported", "error=\"%s\"", strerror(errno));
        close(ready_fd);
    }
    ev_run(loop, 0);
    rc = agent.st == AGENT_DONE ? 0 : 1;
    agent_free(&agent);
    if (pid_fd >= 0) {
        unlink(pidfile);
        close(pid_fd);
    }
    ev_loop_destroy(loop);
    free(conf_pidfile);
    return rc;
}
