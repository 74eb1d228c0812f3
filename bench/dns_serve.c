/* dns_serve.c: Berth's DNS workers serving a fixed set of names, for
 * bench/dns.sh: 100 services svcNN.bench.local, each with one awsvpc task
 * (10.0.0.NN+1, port 8000+NN named http): 100 A names and 100 SRV names
 * _http._tcp.svcNN.bench.local.  The zone comes from a registry snapshot
 * as the agent's does and the serving code is the agent's; only the
 * containers are left out (the hot path does not see them).
 *   dns_serve PORT WORKERS   (runs until SIGTERM or SIGINT) */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/conf.h"
#include "dns/dns_conf.h"
#include "agent/registry.h"
#include "dns/workers.h"
#include "dns/zone.h"

int main(int argc, char **argv)
{
    char text[512], err[512], id[33], ip[32], svc[32];
    struct conf *c = NULL;
    struct conf_errors e = {0};
    sigset_t set;
    int sig;

    if (argc != 3) {
        fprintf(stderr, "usage: dns_serve PORT WORKERS\n");
        return 2;
    }
    dns_conf_register();
    snprintf(text, sizeof text, "[dns]\nenabled = yes\nlisten = 127.0.0.1:%s\n"
             "namespaces = bench.local\nworkers = %s\nupstreams = 127.0.0.1:9\n",
             argv[1], argv[2]);
    if (conf_load_string(text, "dns_serve", &c, &e) < 0) {
        fprintf(stderr, "%s\n", e.n ? e.msg[0] : "bad conf");
        return 1;
    }
    struct reg_snapshot *s = reg_snapshot_new("bench");
    for (int i = 0; i < 100; i++) {
        snprintf(svc, sizeof svc, "svc%02d", i);
        snprintf(id, sizeof id, "%032x", i + 1);
        snprintf(ip, sizeof ip, "10.0.0.%d", i + 1);
        struct reg_service *v = reg_add_service(s, svc, "arn", false);
        reg_add_discovery(v, "srv-bench", "", 0, 0);
        struct reg_task *t = reg_add_task(v, id, "arn", ip, REG_NET_AWSVPC, true, false, i);
        reg_add_port(t, "app", "http", (uint16_t)(8000 + i), 0, false);
    }
    struct dns_zone *z = dns_zone_compile(dns_conf_of(c), s);
    /* Signals are taken by sigwait, never by the worker threads. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct dns_workers *w = z ? dns_workers_new(dns_conf_of(c), z, err, sizeof err) : NULL;
    if (!w) {
        fprintf(stderr, "dns_serve: %s\n", z ? err : "out of memory");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    sigwait(&set, &sig);
    dns_workers_free(w);
    dns_zone_unref(z);
    reg_snapshot_free(s);
    conf_free(c);
    return 0;
}
