/* evloop.h: driving a libev loop from the unit tests.  `loop` is the
 * test's loop; `ticks` counts a repeating timer the test may start with
 * on_tick, to prove the loop kept running while it waited on something.
 * run_until() gives up after 30 s so a hang fails instead of stalling. */
#ifndef BERTH_TEST_EVLOOP_H
#define BERTH_TEST_EVLOOP_H

#include <ev.h>
#include <stdbool.h>

#include "tests/lib/tap.h"

static struct ev_loop *loop;
static unsigned ticks;
static int watchdog_fired;

__attribute__((unused)) static void
on_watchdog(struct ev_loop *l, ev_timer *w, int revents)
{
    watchdog_fired = 1;
}

__attribute__((unused)) static void
on_tick(struct ev_loop *l, ev_timer *w, int revents)
{
    ticks++;
}

/* Runs the loop until *counter reaches want; false after 30 s (a hang). */
__attribute__((unused)) static bool
run_until(const int *counter, int want)
{
    ev_timer wd;

    watchdog_fired = 0;
    ev_timer_init(&wd, on_watchdog, 30., 0.);
    ev_timer_start(loop, &wd);
    while (*counter < want && !watchdog_fired)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &wd);
    if (watchdog_fired)
        diag("gave up waiting (30 s)");
    return !watchdog_fired;
}

/* Runs the loop for n more ticks of on_tick's timer. */
__attribute__((unused)) static void
run_ticks(unsigned n)
{
    unsigned until = ticks + n;

    while (ticks < until)
        ev_run(loop, EVRUN_ONCE);
}

#endif
