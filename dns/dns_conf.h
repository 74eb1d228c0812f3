/* dns_conf.h: the [dns] section of berth.conf (the embedded DNS responder).
 *
 * The option table and the per-key checks live here, and the section is
 * parsed through agent/conf.c's conf_ext hook: dns_conf_register() must run
 * once before any conf is loaded (berthd's main via dns_register(), and the
 * tests); dns_conf_of() then gives a loaded conf's [dns] (NULL when not
 * registered).  Errors read "FILE:LINE: [dns] KEY: ...".  Values that need parsing (namespaces, addresses,
 * networks) are parsed once here, so the responder never reparses text.
 * Errors are written to err as "what was expected, what was found"; the
 * caller adds FILE:LINE: [dns] KEY. */
#ifndef BERTH_DNS_CONF_H
#define BERTH_DNS_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/plugin.h"

#define DNS_CONF_KEYS 13

struct dns_net {               /* an "allow" entry */
    int family;                /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix;
};

struct conf_dns {
    int enabled;
    struct berth_address listen;
    char *namespaces;          /* as written */
    uint64_t ttl_ms;
    uint64_t negative_ttl_ms;
    int64_t max_answers;
    char *advertise_address;
    int all_services;
    char *upstreams;           /* as written; "" for /etc/resolv.conf */
    char *allow;               /* as written; "" for the defaults */
    int64_t workers;           /* 0: one per core */
    uint64_t tcp_idle_timeout_ms;
    int task_resolver;
    int line;                  /* of [dns]; 0 when absent */
    int key_line[DNS_CONF_KEYS];
    /* Parsed from the text above. */
    char **ns;                 /* lowercase, no trailing dot */
    size_t n_ns;
    bool has_adv4, has_adv6;   /* advertise-address: an IPv4, an IPv6, or both */
    uint8_t adv4[4], adv6[16];
    struct dns_net *nets;      /* empty: loopback and the engines' bridges */
    size_t n_nets;
};

extern const struct berth_option conf_dns_options[];

struct conf;
void dns_conf_register(void);
const struct conf_dns *dns_conf_of(const struct conf *c);

/* Applies the defaults to d (zeroed).  -1 with err on a broken table. */
int dns_conf_defaults(struct conf_dns *d, char *err, size_t errlen);
/* Sets one key (already known to be in the table) and checks its value. */
int dns_conf_set(struct conf_dns *d, const char *key, const char *value,
                 char *err, size_t errlen);
/* Cross-key checks once the section is read: enabled needs a namespace. */
int dns_conf_finish(struct conf_dns *d, char *err, size_t errlen);
void dns_conf_free(struct conf_dns *d);

/* A name as the responder stores it: lowercase, no trailing dot; -1 when
 * it is not a valid DNS name (labels 1-63 bytes, at most 253 in all). */
int dns_name_normalize(const char *in, char *out, size_t outlen);

#endif
