/* dns_agent.h: the responder's place in the agent.
 *
 * agent_dns_sync() makes the running responder match a->conf->dns: called
 * once the registry exists (start) and after each reload.  It starts,
 * stops, rebinds or recompiles as needed; a failure at start is an error
 * in errs (the agent does not start), after a reload it is logged and the
 * previous responder keeps serving.  The responder recompiles its zone on
 * every registry change (registry_subscribe), so the next answer shows it.
 * It registers a drainer: a task the scheduler stops leaves the answers at
 * once (the registry marks it draining) and is stopped one TTL later, when
 * cached answers have expired.
 *
 * agent_dns_free() before registry_free(), after services_free(). */
#ifndef BERTH_DNS_AGENT_H
#define BERTH_DNS_AGENT_H

struct agent;
struct conf_errors;

int agent_dns_sync(struct agent *a, struct conf_errors *errs);
/* After a reload: agent_dns_sync, its errors logged. */
void agent_dns_reload(struct agent *a);
void agent_dns_free(struct agent *a);

#endif
