/* dns_conf.c: the [dns] option table and its checks. */
#include "config.h"

#include "dns/dns_conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/options.h"
#include "agent/value.h"

#define DNS(n, t, d, f, h) {n, t, d, offsetof(struct conf_dns, f), h, 0}

const struct berth_option conf_dns_options[] = {
    DNS("enabled", BERTH_OPT_BOOL, "no", enabled,
        "Whether the agent runs its DNS responder (service discovery)."),
    DNS("listen", BERTH_OPT_ADDRESS, "127.0.0.1:53", listen,
        "Address and port of the responder, UDP and TCP."),
    DNS("namespaces", BERTH_OPT_STRING, "", namespaces,
        "The namespaces it is authoritative for, separated by commas, such "
        "as prod.local; a service with discovery is SERVICE.NAMESPACE."),
    DNS("ttl", BERTH_OPT_DURATION, "5s", ttl_ms,
        "TTL of the records it answers; 0s to 1d."),
    DNS("negative-ttl", BERTH_OPT_DURATION, "5s", negative_ttl_ms,
        "The SOA minimum: how long resolvers cache a name that does not "
        "exist; 0s to 1d."),
    DNS("max-answers", BERTH_OPT_INT, "8", max_answers,
        "At most this many A or SRV records per answer (Cloud Map's "
        "multivalue answers 8); 1 to 256."),
    DNS("advertise-address", BERTH_OPT_STRING, "127.0.0.1", advertise_address,
        "The address answered for tasks in bridge or host mode, whose "
        "ports are published on this host: an IPv4 address (A), an IPv6 "
        "address (AAAA), or one of each separated by a comma."),
    DNS("all-services", BERTH_OPT_BOOL, "no", all_services,
        "With yes, every service gets a name in the first namespace, not "
        "only those created with serviceRegistries."),
    DNS("upstreams", BERTH_OPT_STRING, "", upstreams,
        "Resolvers for names outside the namespaces, separated by commas; "
        "empty: the nameservers of /etc/resolv.conf."),
    DNS("allow", BERTH_OPT_STRING, "", allow,
        "Networks (CIDR, separated by commas) whose clients may have names "
        "forwarded; others get REFUSED.  Empty: loopback and the engines' "
        "bridge networks."),
    DNS("workers", BERTH_OPT_INT, "0", workers,
        "Worker threads serving queries; 0: one per core."),
    DNS("tcp-idle-timeout", BERTH_OPT_DURATION, "10s", tcp_idle_timeout_ms,
        "How long a TCP connection may stay idle between queries; 1s to 5m."),
    DNS("task-resolver", BERTH_OPT_BOOL, "no", task_resolver,
        "With yes, containers of bridge and awsvpc tasks that set no "
        "dnsServers get the responder as their resolver: it also listens on "
        "port 53 of the address containers reach this host at (the "
        "engine's bridge gateway), and that bridge's network may forward."),
    {NULL, 0, NULL, 0, NULL, 0},
};

_Static_assert(sizeof conf_dns_options / sizeof conf_dns_options[0] - 1 == DNS_CONF_KEYS,
               "DNS_CONF_KEYS must count conf_dns_options");

int dns_name_normalize(const char *in, char *out, size_t outlen)
{
    size_t n = 0, label = 0;

    while (*in == ' ' || *in == '\t')
        in++;
    for (; *in && *in != ' ' && *in != '\t'; in++) {
        unsigned char ch = (unsigned char)*in;
        if (ch == '.') {
            if (label == 0)
                return -1; /* an empty label (a trailing dot is cut below) */
            label = 0;
        } else if (isalnum(ch) || ch == '-' || ch == '_') {
            if (++label > 63)
                return -1;
        } else {
            return -1;
        }
        if (n + 1 >= outlen || n >= 254)
            return -1;
        out[n++] = (char)tolower(ch);
    }
    while (*in == ' ' || *in == '\t')
        in++;
    if (*in || n == 0)
        return -1;
    if (out[n - 1] == '.')
        n--; /* a trailing dot: the same name */
    if (n > 253)
        return -1;
    out[n] = '\0';
    return 0;
}

static void free_ns(struct conf_dns *d)
{
    for (size_t i = 0; i < d->n_ns; i++)
        free(d->ns[i]);
    free(d->ns);
    d->ns = NULL;
    d->n_ns = 0;
}

static int parse_namespaces(struct conf_dns *d, const char *text, char *err, size_t errlen)
{
    char *copy = strdup(text), *save = NULL;
    char name[256];

    free_ns(d);
    if (!copy)
        goto oom;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (dns_name_normalize(tok, name, sizeof name) < 0) {
            snprintf(err, errlen, "expected DNS names separated by commas, such as "
                                  "prod.local, got \"%s\"", tok);
            goto fail;
        }
        for (size_t i = 0; i < d->n_ns; i++) {
            if (strcmp(d->ns[i], name) == 0) {
                snprintf(err, errlen, "namespace \"%s\" is listed twice", name);
                goto fail;
            }
        }
        char **grown = realloc(d->ns, (d->n_ns + 1) * sizeof *grown);
        if (!grown)
            goto oom;
        d->ns = grown;
        if (!(d->ns[d->n_ns] = strdup(name)))
            goto oom;
        d->n_ns++;
    }
    free(copy);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(copy);
    free_ns(d);
    return -1;
}

static int parse_net(const char *tok, struct dns_net *n)
{
    char host[64];
    const char *slash = strchr(tok, '/');
    size_t len = slash ? (size_t)(slash - tok) : strlen(tok);
    unsigned long prefix;
    char *end;

    if (len == 0 || len >= sizeof host)
        return -1;
    memcpy(host, tok, len);
    host[len] = '\0';
    memset(n, 0, sizeof *n);
    if (inet_pton(AF_INET, host, n->addr) == 1)
        n->family = AF_INET;
    else if (inet_pton(AF_INET6, host, n->addr) == 1)
        n->family = AF_INET6;
    else
        return -1;
    unsigned max = n->family == AF_INET ? 32 : 128;
    if (!slash) {
        n->prefix = max;
        return 0;
    }
    prefix = strtoul(slash + 1, &end, 10);
    if (end == slash + 1 || *end || prefix > max)
        return -1;
    n->prefix = (unsigned)prefix;
    return 0;
}

static int parse_allow(struct conf_dns *d, const char *text, char *err, size_t errlen)
{
    char *copy = strdup(text), *save = NULL;

    free(d->nets);
    d->nets = NULL;
    d->n_nets = 0;
    if (!copy)
        goto oom;
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        struct dns_net net;
        if (parse_net(tok, &net) < 0) {
            snprintf(err, errlen, "expected networks such as 10.0.0.0/8 or ::1/128 "
                                  "separated by commas, got \"%s\"", tok);
            goto fail;
        }
        struct dns_net *grown = realloc(d->nets, (d->n_nets + 1) * sizeof *grown);
        if (!grown)
            goto oom;
        d->nets = grown;
        d->nets[d->n_nets++] = net;
    }
    free(copy);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(copy);
    free(d->nets);
    d->nets = NULL;
    d->n_nets = 0;
    return -1;
}

static int check_upstreams(const char *text, char *err, size_t errlen)
{
    char *copy = strdup(text), *save = NULL;
    int rc = 0;

    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        struct berth_address a;
        uint8_t buf[16];
        char verr[256];
        /* ADDRESS or ADDRESS:PORT, IPv6 in brackets with a port. */
        if (inet_pton(AF_INET, tok, buf) == 1 || inet_pton(AF_INET6, tok, buf) == 1)
            continue;
        if (value_parse_address(tok, &a, verr, sizeof verr) == 0 &&
            (inet_pton(AF_INET, a.host, buf) == 1 || inet_pton(AF_INET6, a.host, buf) == 1))
            continue;
        snprintf(err, errlen, "expected resolver addresses (IP or IP:PORT) separated by "
                              "commas, got \"%s\"", tok);
        rc = -1;
        break;
    }
    free(copy);
    return rc;
}

/* One IPv4 address, one IPv6 address, or one of each (A and AAAA). */
static int parse_advertise(struct conf_dns *d, const char *text, char *err, size_t errlen)
{
    char *copy = strdup(text), *save = NULL;
    int rc = 0;

    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->has_adv4 = d->has_adv6 = false;
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (!d->has_adv4 && inet_pton(AF_INET, tok, d->adv4) == 1) {
            d->has_adv4 = true;
        } else if (!d->has_adv6 && inet_pton(AF_INET6, tok, d->adv6) == 1) {
            d->has_adv6 = true;
        } else {
            snprintf(err, errlen, "expected an IPv4 or IPv6 address, or one of each "
                                  "separated by a comma, got \"%s\"", tok);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && !d->has_adv4 && !d->has_adv6) {
        snprintf(err, errlen, "expected an IPv4 or IPv6 address, got \"%s\"", text);
        rc = -1;
    }
    free(copy);
    return rc;
}

static int check_duration(uint64_t ms, const char *text, uint64_t min, uint64_t max,
                          const char *range, char *err, size_t errlen)
{
    if (ms >= min && ms <= max)
        return 0;
    snprintf(err, errlen, "expected a duration of %s, got \"%s\"", range, text);
    return -1;
}

int dns_conf_set(struct conf_dns *d, const char *key, const char *value,
                 char *err, size_t errlen)
{
    if (options_set(conf_dns_options, d, key, value, err, errlen) < 0)
        return -1;
    if (strcmp(key, "namespaces") == 0)
        return parse_namespaces(d, value, err, errlen);
    if (strcmp(key, "allow") == 0)
        return parse_allow(d, value, err, errlen);
    if (strcmp(key, "upstreams") == 0)
        return check_upstreams(value, err, errlen);
    if (strcmp(key, "ttl") == 0 || strcmp(key, "negative-ttl") == 0)
        return check_duration(strcmp(key, "ttl") == 0 ? d->ttl_ms : d->negative_ttl_ms,
                              value, 0, 86400000, "0s to 1d", err, errlen);
    if (strcmp(key, "tcp-idle-timeout") == 0)
        return check_duration(d->tcp_idle_timeout_ms, value, 1000, 300000, "1s to 5m",
                              err, errlen);
    if (strcmp(key, "max-answers") == 0 && (d->max_answers < 1 || d->max_answers > 256)) {
        snprintf(err, errlen, "expected 1 to 256, got \"%s\"", value);
        return -1;
    }
    if (strcmp(key, "workers") == 0 && (d->workers < 0 || d->workers > 64)) {
        snprintf(err, errlen, "expected 0 (one per core) to 64, got \"%s\"", value);
        return -1;
    }
    if (strcmp(key, "advertise-address") == 0)
        return parse_advertise(d, value, err, errlen);
    return 0;
}

int dns_conf_defaults(struct conf_dns *d, char *err, size_t errlen)
{
    if (options_defaults(conf_dns_options, d, err, errlen) < 0)
        return -1;
    d->has_adv4 = true;
    d->has_adv6 = false;
    inet_pton(AF_INET, "127.0.0.1", d->adv4);
    return 0;
}

int dns_conf_finish(struct conf_dns *d, char *err, size_t errlen)
{
    /* Loopback, Docker's bridges (172.17.0.0/16 and the user networks it
     * carves from 172.16.0.0/12) and Podman's 10.88.0.0/16. */
    if (d->n_nets == 0 &&
        parse_allow(d, "127.0.0.0/8, ::1, 172.16.0.0/12, 10.88.0.0/16", err, errlen) < 0)
        return -1;
    if (d->task_resolver && !d->enabled) {
        snprintf(err, errlen, "task-resolver: containers cannot use a responder that is "
                              "not enabled; set enabled = yes or task-resolver = no");
        return -1;
    }
    if (d->enabled && d->n_ns == 0) {
        snprintf(err, errlen, "namespaces: the responder is enabled but no namespace is "
                              "set; expected names such as prod.local");
        return -1;
    }
    return 0;
}

void dns_conf_free(struct conf_dns *d)
{
    free_ns(d);
    free(d->nets);
    d->nets = NULL;
    d->n_nets = 0;
    options_free(conf_dns_options, d);
}

