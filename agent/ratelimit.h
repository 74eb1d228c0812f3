/* ratelimit.h: token buckets by key (a client's address), for the task
 * metadata endpoint.
 *
 * Contract
 *   - Each key has a bucket of `burst` tokens, refilled at `rate` tokens a
 *     second; a request takes one token, and is refused when none is left.
 *     A new key starts full.  So a client may send `burst` requests at
 *     once, then `rate` a second for ever.
 *   - Keys whose bucket has been full for a while (idle) are forgotten at
 *     later calls, so memory follows the active clients only; at most
 *     max_keys are kept (beyond, the oldest idle one goes, else the
 *     request is refused: a flood of addresses cannot grow it).
 *   - Time is passed in (seconds, monotonic), so tests drive it.
 * Not thread-safe: the control loop only. */
#ifndef BERTH_RATELIMIT_H
#define BERTH_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

struct ratelimit;

/* NULL on OOM.  rate > 0, burst >= 1. */
struct ratelimit *ratelimit_new(double rate, double burst, size_t max_keys);
void ratelimit_free(struct ratelimit *rl);
/* Takes a token from key's bucket at time now: true when there was one. */
bool ratelimit_take(struct ratelimit *rl, const char *key, double now);
/* Keys held (for tests). */
size_t ratelimit_keys(const struct ratelimit *rl);

#endif
