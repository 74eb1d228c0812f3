/* pause.c: berth-pause, PID 1 of the container that holds an awsvpc task's
 * network namespace on Docker.  It does nothing but wait: it reaps any
 * child that ends up under it, and exits 0 on SIGTERM or SIGINT, so a
 * sandbox stops at once instead of waiting for its stop timeout (PID 1 has
 * no default signal actions).  Built static, it is the whole image. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

int
main(void)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return 1;
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            return 1;
        if (sig != SIGCHLD)
            return 0;
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
}
