/* test_registry.c: the live view's snapshots: building, sorting, lookups,
 * publish dropping an unchanged view, subscribers, reference counting, and
 * readers on other threads while the control loop publishes. */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/registry.h"
#include "tests/lib/tap.h"

/* A snapshot with services named b and a, a having one task on port 8080. */
static struct reg_snapshot *two_services(bool healthy, uint16_t host_port)
{
    struct reg_snapshot *s = reg_snapshot_new("prod");
    struct reg_service *b = reg_add_service(s, "b", "arn:b", false);
    struct reg_service *a;
    struct reg_task *t;

    if (!b || !reg_add_discovery(b, "arn:aws:servicediscovery:r:1:service/srv-b", "web",
                                 80, 0))
        return NULL;
    if (!(a = reg_add_service(s, "a", "arn:a", false)))
        return NULL;
    if (!reg_add_lb(a, "web-tg", NULL, "web", 8080))
        return NULL;
    t = reg_add_task(a, "0123456789abcdef0123456789abcdef", "arn:task/1", "172.17.0.2",
                     REG_NET_BRIDGE, healthy, false, 1000);
    if (!t || !reg_add_port(t, "web", "http", 8080, host_port, false) ||
        !reg_add_port(t, "web", NULL, 53, 40001, true))
        return NULL;
    return s;
}

static int calls;
static void count_call(void *arg)
{
    (void)arg;
    calls++;
}

static void test_build_and_lookup(void)
{
    struct reg_snapshot *s = two_services(true, 40000);
    const struct reg_service *a;
    const struct reg_port *p;

    if (!ok(s != NULL, "a snapshot is built"))
        return;
    reg_snapshot_sort(s);
    is_str(s->services[0].name, "a", "sorted by name: a first");
    a = reg_find_service(s, "a");
    ok(a && a->n_tasks == 1 && a->n_lbs == 1, "service a found, with its task and target group");
    ok(reg_find_service(s, "b") && reg_find_service(s, "b")->n_regs == 1,
       "service b found, with its registry");
    ok(reg_find_service(s, "c") == NULL && reg_find_service(s, "") == NULL,
       "an unknown name is not found");
    p = a ? reg_task_port(&a->tasks[0], "web", 8080) : NULL;
    ok(p && p->host_port == 40000 && !p->udp, "the binding of web:8080 -> 40000");
    is_str(p ? p->name : NULL, "http", "with its port name");
    ok(a && reg_task_port(&a->tasks[0], "web", 8081) == NULL &&
           reg_task_port(&a->tasks[0], "db", 8080) == NULL,
       "another port or container has no binding");
    is_str(a ? a->tasks[0].ports[1].name : NULL, "", "a port without a name: \"\"");
    is_str(a ? a->lbs[0].lb_name : NULL, "", "an absent string is \"\"");
    reg_snapshot_free(s);
}

static void test_publish(void)
{
    struct registry *r = registry_new("prod");
    struct reg_snapshot *s0, *s1, *held;

    if (!ok(r != NULL, "a registry"))
        return;
    s0 = registry_acquire(r);
    ok(s0->generation == 0 && s0->n_services == 0, "it starts empty, generation 0");
    is_str(s0->cluster, "prod", "naming its cluster");
    reg_snapshot_release(s0);

    ok(registry_subscribe(r, count_call, NULL) == 0, "a subscriber");
    ok(registry_publish(r, two_services(true, 40000)) == 1, "publishing a change: 1");
    ok(calls == 1, "the subscriber is called");
    held = registry_acquire(r);
    ok(held->generation == 1 && held->n_services == 2, "generation 1, two services");

    ok(registry_publish(r, two_services(true, 40000)) == 0,
       "publishing the same content: 0");
    ok(calls == 1, "and no call");
    s1 = registry_acquire(r);
    ok(s1 == held, "the current snapshot is still the first");
    reg_snapshot_release(s1);

    ok(registry_publish(r, two_services(false, 40000)) == 1, "a task turning unhealthy is a change");
    ok(registry_publish(r, two_services(false, 40002)) == 1, "a host port moving is a change");
    ok(calls == 3, "each change called the subscriber");
    s1 = registry_acquire(r);
    ok(s1->generation == 3 && !s1->services[0].tasks[0].healthy &&
           s1->services[0].tasks[0].ports[0].host_port == 40002,
       "the newest is current");
    ok(held->generation == 1 && held->services[0].tasks[0].healthy &&
           held->services[0].tasks[0].ports[0].host_port == 40000,
       "a reader's older snapshot is unchanged while it holds it");
    reg_snapshot_release(held);
    reg_snapshot_release(s1);

    registry_unsubscribe(r, count_call, NULL);
    registry_publish(r, reg_snapshot_new("prod"));
    ok(calls == 3, "no call after unsubscribing");
    s1 = registry_acquire(r);
    ok(s1->n_services == 0 && s1->generation == 4, "an empty view is published too");
    reg_snapshot_release(s1);
    registry_free(r);
}

/* Readers acquire, check and release while the main thread publishes:
 * under ASan a use after free or a leak would show. */
struct reader {
    struct registry *r;
    atomic_int *stop;
    int bad;
    atomic_int reads;
};

static void *read_loop(void *arg)
{
    struct reader *x = arg;
    uint64_t last = 0;
    while (!atomic_load(x->stop)) {
        struct reg_snapshot *s = registry_acquire(x->r);
        if (s->generation < last)
            x->bad++;
        last = s->generation;
        for (size_t i = 0; i < s->n_services; i++)
            if (!s->services[i].name || !*s->services[i].name)
                x->bad++;
        reg_snapshot_release(s);
        atomic_fetch_add(&x->reads, 1);
    }
    return NULL;
}

static void test_threads(void)
{
    struct registry *r = registry_new("prod");
    atomic_int stop;
    struct reader x[2];
    pthread_t th[2];
    int published = 0;

    atomic_init(&stop, 0);
    for (int i = 0; i < 2; i++) {
        x[i] = (struct reader){.r = r, .stop = &stop};
        atomic_init(&x[i].reads, 0);
        pthread_create(&th[i], NULL, read_loop, &x[i]);
    }
    /* Both readers are running before the publishing starts, and are
     * still reading between publishes. */
    for (int i = 0; i < 2000; i++) {
        int seen0 = atomic_load(&x[0].reads), seen1 = atomic_load(&x[1].reads);
        while (i % 100 == 0 &&
               (atomic_load(&x[0].reads) == seen0 || atomic_load(&x[1].reads) == seen1))
            sched_yield();
        published += registry_publish(r, two_services(i % 2, (uint16_t)(40000 + i)));
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ok(published == 2000, "2000 changes published");
    ok(x[0].bad == 0 && x[1].bad == 0,
       "readers never saw a generation go back or a broken service (%d, %d reads)",
       atomic_load(&x[0].reads), atomic_load(&x[1].reads));
    ok(atomic_load(&x[0].reads) >= 20 && atomic_load(&x[1].reads) >= 20,
       "both readers read during the publishing");
    registry_free(r);
}

int main(void)
{
    test_build_and_lookup();
    test_publish();
    test_threads();
    return done_testing();
}
