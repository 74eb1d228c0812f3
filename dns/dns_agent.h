/* dns_agent.h: the responder's place in the agent.
 *
 * dns_register() (berthd's main, before any conf is loaded) registers the
 * [dns] conf section (dns_conf.h) and an agent_module: start runs once the
 * scheduler and the registry exist, reload after each SIGHUP, stop before
 * the registry goes.  Start and reload make the running responder match
 * the conf's [dns]: they start, stop, rebind or recompile as needed; a
 * failure at start is an error in errs (the agent does not start), after a
 * reload it is logged and the previous responder keeps serving.  The
 * responder recompiles its zone on every registry change
 * (registry_subscribe), so the next answer shows it.  It registers a
 * drainer: a task the scheduler stops leaves the answers at once (the
 * registry marks it draining) and is stopped one TTL later, when cached
 * answers have expired. */
#ifndef BERTH_DNS_AGENT_H
#define BERTH_DNS_AGENT_H

void dns_register(void);

#endif
