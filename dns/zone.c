/* zone.c: compiling the registry into names and answering from them. */
#include "config.h"

#include "dns/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "agent/registry.h"
#include "dns/dns_conf.h"

struct zrr {
    uint16_t type;
    uint16_t rdlen;
    uint8_t rdata[6 + DNS_MAX_NAME]; /* an SRV with its target is the longest */
    /* SRV: the target's addresses (A, AAAA), for the additional section. */
    struct zaddr {
        uint16_t type;                /* 0: none */
        uint8_t len;
        uint8_t addr[16];
    } add[2];
    char *target;                     /* SRV target, dotted */
};

/* A task's addresses: at most one of each family. */
struct taddrs {
    struct zaddr a[2];
    size_t n;
};

struct zname {
    char *name;
    size_t ns;           /* index of its namespace */
    struct zrr *rr;      /* sorted by type */
    size_t n_rr, cap_rr;
};

struct zns {
    char *name;
    uint8_t soa[2 * DNS_MAX_NAME + 20];
    size_t soa_len;
};

struct dns_zone {
    int refs;
    uint32_t ttl, neg_ttl;
    size_t max_answers;
    struct zns *ns;
    size_t n_ns;
    struct zname *names; /* sorted by name */
    size_t n_names, cap_names;
};

/* ---- building ---- */

static struct zname *add_name(struct dns_zone *z, const char *name, size_t ns)
{
    if (z->n_names == z->cap_names) {
        size_t cap = z->cap_names ? 2 * z->cap_names : 64;
        struct zname *grown = realloc(z->names, cap * sizeof *grown);
        if (!grown)
            return NULL;
        z->names = grown;
        z->cap_names = cap;
    }
    struct zname *n = &z->names[z->n_names];
    memset(n, 0, sizeof *n);
    if (!(n->name = strdup(name)))
        return NULL;
    n->ns = ns;
    z->n_names++;
    return n;
}

static struct zrr *add_rr(struct zname *n, uint16_t type)
{
    if (n->n_rr == n->cap_rr) {
        size_t cap = n->cap_rr ? 2 * n->cap_rr : 4;
        struct zrr *grown = realloc(n->rr, cap * sizeof *grown);
        if (!grown)
            return NULL;
        n->rr = grown;
        n->cap_rr = cap;
    }
    struct zrr *r = &n->rr[n->n_rr++];
    memset(r, 0, sizeof *r);
    r->type = type;
    return r;
}

static void put_addr(struct taddrs *ta, uint16_t type, const uint8_t *addr)
{
    struct zaddr *z = &ta->a[ta->n++];
    z->type = type;
    z->len = type == DNS_T_A ? 4 : 16;
    memcpy(z->addr, addr, z->len);
}

/* A task's addresses (none when it has none): its own in awsvpc mode,
 * advertise-address's in bridge and host mode. */
static void task_addrs(const struct conf_dns *c, const struct reg_task *t, struct taddrs *ta)
{
    uint8_t addr[16];

    ta->n = 0;
    if (t->net == REG_NET_AWSVPC) {
        if (inet_pton(AF_INET, t->ip, addr) == 1)
            put_addr(ta, DNS_T_A, addr);
        else if (inet_pton(AF_INET6, t->ip, addr) == 1)
            put_addr(ta, DNS_T_AAAA, addr);
        return;
    }
    if (t->net == REG_NET_NONE)
        return;
    if (c->has_adv4)
        put_addr(ta, DNS_T_A, c->adv4);
    if (c->has_adv6)
        put_addr(ta, DNS_T_AAAA, c->adv6);
}

static int add_addr(struct zname *n, uint16_t type, const uint8_t *addr, int len)
{
    for (size_t i = 0; i < n->n_rr; i++) /* an RRset holds no duplicates */
        if (n->rr[i].type == type && memcmp(n->rr[i].rdata, addr, (size_t)len) == 0)
            return 0;
    struct zrr *r = add_rr(n, type);
    if (!r)
        return -1;
    memcpy(r->rdata, addr, (size_t)len);
    r->rdlen = (uint16_t)len;
    return 0;
}

static int add_srv(struct zname *n, uint16_t port, const char *target,
                   const struct taddrs *ta)
{
    struct zrr *r = add_rr(n, DNS_T_SRV);
    if (!r)
        return -1;
    r->rdata[0] = 0, r->rdata[1] = 1; /* priority */
    r->rdata[2] = 0, r->rdata[3] = 1; /* weight */
    r->rdata[4] = (uint8_t)(port >> 8), r->rdata[5] = (uint8_t)port;
    int tl = wire_put_name(r->rdata + 6, sizeof r->rdata - 6, target);
    if (tl < 0)
        return 0; /* a name too long for DNS: no SRV rather than a bad one */
    r->rdlen = (uint16_t)(6 + tl);
    if (!(r->target = strdup(target)))
        return -1;
    for (size_t i = 0; i < ta->n; i++)
        r->add[i] = ta->a[i];
    return 0;
}

/* The port a task's SRV names for discovery entry d (0: none). */
static uint16_t srv_port(const struct reg_discovery *d, const struct reg_task *t)
{
    const struct reg_port *p = NULL;

    if (d && d->container[0] && d->container_port)
        p = reg_task_port(t, d->container, d->container_port);
    else if (d && d->port)
        return d->port;
    else
        for (size_t i = 0; i < t->n_ports && !p; i++)
            if (!t->ports[i].udp)
                p = &t->ports[i];
    if (!p)
        return 0;
    if (t->net == REG_NET_AWSVPC || !p->host_port)
        return p->container_port;
    return p->host_port;
}

int dns_zone_service_name(const struct conf_dns *c, const struct reg_service *svc,
                          const struct reg_discovery *d, size_t *ns_idx,
                          char *name, size_t namelen)
{
    static const char prefix[] = "arn:aws:servicediscovery:";
    const char *arn = d ? d->registry_arn : "";
    const char *res;

    if (c->n_ns == 0)
        return -1;
    if (strncmp(arn, prefix, sizeof prefix - 1) == 0 &&
        (res = strstr(arn + sizeof prefix - 1, ":service/")) != NULL) {
        const char *ns = res + 9, *slash = strchr(ns, '/');
        if (slash && slash > ns && slash[1] && !strchr(slash + 1, '/')) {
            char nsname[256], svname[256];
            size_t nl = (size_t)(slash - ns);
            if (nl >= sizeof nsname)
                return -1;
            memcpy(nsname, ns, nl);
            nsname[nl] = '\0';
            if (dns_name_normalize(nsname, nsname, sizeof nsname) < 0 ||
                dns_name_normalize(slash + 1, svname, sizeof svname) < 0 ||
                strchr(svname, '.'))
                return -1;
            for (size_t i = 0; i < c->n_ns; i++) {
                if (strcmp(c->ns[i], nsname) == 0) {
                    *ns_idx = i;
                    snprintf(name, namelen, "%s", svname);
                    return 0;
                }
            }
            return -1;
        }
    }
    *ns_idx = 0;
    if (dns_name_normalize(svc->name, name, namelen) < 0 || strchr(name, '.'))
        return -1;
    return 0;
}

/* Adds the names of service svc as NAME.NS for discovery entry d. */
static int add_service(struct dns_zone *z, const struct conf_dns *c,
                       const struct reg_service *svc, const struct reg_discovery *d)
{
    char label[256], sname[DNS_MAX_NAME], name[3 * DNS_MAX_NAME];
    size_t ns;
    bool any_healthy = false;

    if (dns_zone_service_name(c, svc, d, &ns, label, sizeof label) < 0)
        return 0;
    if (snprintf(sname, sizeof sname, "%s.%s", label, c->ns[ns]) >= (int)sizeof sname - 1)
        return 0;
    struct zname *sn = add_name(z, sname, ns);
    if (!sn)
        return -1;
    size_t sidx = (size_t)(sn - z->names);
    for (size_t i = 0; i < svc->n_tasks; i++)
        if (svc->tasks[i].healthy && !svc->tasks[i].draining)
            any_healthy = true;
    for (size_t i = 0; i < svc->n_tasks; i++) {
        const struct reg_task *t = &svc->tasks[i];
        struct taddrs ta;
        task_addrs(c, t, &ta);
        char target[2 * DNS_MAX_NAME];
        snprintf(target, sizeof target, "%s.%s", t->id, sname);
        char tl[DNS_MAX_NAME + 1];
        bool ok_name = dns_name_normalize(target, tl, sizeof tl) == 0;
        if (ok_name && ta.n > 0) {
            struct zname *tn = add_name(z, tl, ns);
            if (!tn)
                return -1;
            for (size_t k = 0; k < ta.n; k++)
                if (add_addr(tn, ta.a[k].type, ta.a[k].addr, ta.a[k].len) < 0)
                    return -1;
        }
        if (t->draining || (any_healthy && !t->healthy))
            continue;
        sn = &z->names[sidx]; /* add_name may have moved it */
        for (size_t k = 0; k < ta.n; k++)
            if (add_addr(sn, ta.a[k].type, ta.a[k].addr, ta.a[k].len) < 0)
                return -1;
        uint16_t port = srv_port(d, t);
        if (ok_name && port && add_srv(sn, port, tl, &ta) < 0)
            return -1;
        /* _PORT._tcp / _udp for each named binding. */
        for (size_t j = 0; ok_name && j < t->n_ports; j++) {
            const struct reg_port *p = &t->ports[j];
            char pl[DNS_MAX_NAME + 1];
            if (!p->name[0] || dns_name_normalize(p->name, pl, sizeof pl) < 0 ||
                strchr(pl, '.'))
                continue;
            snprintf(name, sizeof name, "_%s._%s.%s", pl, p->udp ? "udp" : "tcp", sname);
            if (strlen(name) > 253)
                continue;
            struct zname *pn = add_name(z, name, ns);
            uint16_t pp = t->net == REG_NET_AWSVPC || !p->host_port ? p->container_port
                                                                   : p->host_port;
            if (!pn || add_srv(pn, pp, tl, &ta) < 0)
                return -1;
        }
    }
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct zname *)a)->name, ((const struct zname *)b)->name);
}

static int cmp_rr(const void *a, const void *b)
{
    const struct zrr *x = a, *y = b;
    return (int)x->type - (int)y->type;
}

/* Sorts the names, merges the ones added twice (a task's own name, a port
 * name shared by several tasks) and adds the names between each and its
 * namespace. */
static int finish_names(struct dns_zone *z)
{
    size_t n0 = z->n_names;

    for (size_t i = 0; i < n0; i++) {
        const char *ns = z->ns[z->names[i].ns].name;
        size_t nslen = strlen(ns);
        char cut[DNS_MAX_NAME];
        snprintf(cut, sizeof cut, "%s", z->names[i].name);
        char *p = cut;
        while (strlen(p) > nslen) {
            p = strchr(p, '.') + 1;
            if (strlen(p) <= nslen)
                break;
            if (!add_name(z, p, z->names[i].ns))
                return -1;
        }
    }
    if (z->n_names > 1)
        qsort(z->names, z->n_names, sizeof *z->names, cmp_name);
    size_t out = 0;
    for (size_t i = 0; i < z->n_names; i++) {
        struct zname *n = &z->names[i];
        if (out > 0 && strcmp(z->names[out - 1].name, n->name) == 0) {
            struct zname *keep = &z->names[out - 1];
            for (size_t j = 0; j < n->n_rr; j++) {
                struct zrr *r = &n->rr[j];
                bool dup = false;
                for (size_t k = 0; k < keep->n_rr && !dup; k++)
                    dup = keep->rr[k].type == r->type && keep->rr[k].rdlen == r->rdlen &&
                          memcmp(keep->rr[k].rdata, r->rdata, r->rdlen) == 0;
                struct zrr *dst = dup ? NULL : add_rr(keep, r->type);
                if (!dup && !dst)
                    return -1;
                if (dst) {
                    *dst = *r;
                    r->target = NULL;
                }
                free(r->target);
            }
            free(n->rr);
            free(n->name);
            continue;
        }
        z->names[out++] = *n;
    }
    z->n_names = out;
    for (size_t i = 0; i < z->n_names; i++)
        if (z->names[i].n_rr > 1)
            qsort(z->names[i].rr, z->names[i].n_rr, sizeof *z->names[i].rr, cmp_rr);
    return 0;
}

static int add_namespaces(struct dns_zone *z, const struct conf_dns *c, uint32_t serial)
{
    if (!(z->ns = calloc(c->n_ns ? c->n_ns : 1, sizeof *z->ns)))
        return -1;
    for (size_t i = 0; i < c->n_ns; i++) {
        struct zns *ns = &z->ns[i];
        char host[DNS_MAX_NAME + 16];
        int a, b;
        if (!(ns->name = strdup(c->ns[i])))
            return -1;
        z->n_ns++;
        snprintf(host, sizeof host, "ns.%s", c->ns[i]);
        a = wire_put_name(ns->soa, sizeof ns->soa, host);
        snprintf(host, sizeof host, "hostmaster.%s", c->ns[i]);
        b = a < 0 ? -1 : wire_put_name(ns->soa + a, sizeof ns->soa - (size_t)a, host);
        if (b < 0) /* a namespace of 240+ bytes: its SOA names fall back to it */
            a = wire_put_name(ns->soa, sizeof ns->soa, c->ns[i]),
            b = wire_put_name(ns->soa + a, sizeof ns->soa - (size_t)a, c->ns[i]);
        uint32_t v[5] = {serial, 3600, 600, 86400, z->neg_ttl};
        uint8_t *p = ns->soa + a + b;
        for (int k = 0; k < 5; k++, p += 4)
            p[0] = (uint8_t)(v[k] >> 24), p[1] = (uint8_t)(v[k] >> 16),
            p[2] = (uint8_t)(v[k] >> 8), p[3] = (uint8_t)v[k];
        ns->soa_len = (size_t)(a + b) + 20;
        struct zname *apex = add_name(z, c->ns[i], i);
        struct zrr *r = apex ? add_rr(apex, DNS_T_SOA) : NULL;
        if (!r)
            return -1;
        memcpy(r->rdata, ns->soa, ns->soa_len > sizeof r->rdata ? sizeof r->rdata : ns->soa_len);
        r->rdlen = (uint16_t)ns->soa_len;
    }
    return 0;
}

struct dns_zone *dns_zone_compile(const struct conf_dns *c, const struct reg_snapshot *s)
{
    struct dns_zone *z = calloc(1, sizeof *z);

    if (!z)
        return NULL;
    z->refs = 1;
    z->ttl = (uint32_t)(c->ttl_ms / 1000);
    z->neg_ttl = (uint32_t)(c->negative_ttl_ms / 1000);
    z->max_answers = (size_t)c->max_answers;
    if (add_namespaces(z, c, (uint32_t)s->generation) < 0)
        goto fail;
    for (size_t i = 0; i < s->n_services; i++) {
        const struct reg_service *svc = &s->services[i];
        for (size_t j = 0; j < svc->n_regs; j++)
            if (add_service(z, c, svc, &svc->regs[j]) < 0)
                goto fail;
        if (svc->n_regs == 0 && c->all_services && add_service(z, c, svc, NULL) < 0)
            goto fail;
    }
    if (finish_names(z) < 0)
        goto fail;
    return z;
fail:
    dns_zone_unref(z);
    return NULL;
}

void dns_zone_ref(struct dns_zone *z)
{
    __atomic_add_fetch(&z->refs, 1, __ATOMIC_RELAXED);
}

void dns_zone_unref(struct dns_zone *z)
{
    if (!z || __atomic_sub_fetch(&z->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (size_t i = 0; i < z->n_names; i++) {
        for (size_t j = 0; j < z->names[i].n_rr; j++)
            free(z->names[i].rr[j].target);
        free(z->names[i].rr);
        free(z->names[i].name);
    }
    free(z->names);
    for (size_t i = 0; i < z->n_ns; i++)
        free(z->ns[i].name);
    free(z->ns);
    free(z);
}

size_t dns_zone_size(const struct dns_zone *z)
{
    return z->n_names;
}

/* ---- answering ---- */

static const struct zns *find_ns(const struct dns_zone *z, const char *name, size_t *idx)
{
    size_t len = strlen(name);
    const struct zns *best = NULL;
    size_t best_len = 0;

    for (size_t i = 0; i < z->n_ns; i++) {
        size_t l = strlen(z->ns[i].name);
        if (l > len || l < best_len || strcmp(name + len - l, z->ns[i].name) != 0)
            continue;
        if (l < len && name[len - l - 1] != '.')
            continue;
        best = &z->ns[i];
        best_len = l;
        *idx = i;
    }
    return best;
}

bool dns_zone_is_ours(const struct dns_zone *z, const char *name)
{
    size_t i;
    return find_ns(z, name, &i) != NULL;
}

static const struct zname *find_name(const struct dns_zone *z, const char *name)
{
    size_t lo = 0, hi = z->n_names;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, z->names[mid].name);
        if (c == 0)
            return &z->names[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Header, question, SOA in authority, OPT: NXDOMAIN, NODATA, or a
 * truncated answer. */
static size_t answer_soa(const struct dns_zone *z, const struct zns *ns,
                         const struct wire_query *q, int rcode, bool tc,
                         uint8_t *out, size_t limit)
{
    struct wire_buf b = {.p = out, .cap = limit};

    if (wire_begin(&b, q, true, rcode) < 0)
        return 0;
    if (tc)
        wire_set_tc(&b);
    else if (wire_rr(&b, 1, ns->name, DNS_T_SOA, z->neg_ttl, ns->soa, ns->soa_len) < 0)
        wire_set_tc(&b);
    wire_opt(&b, q);
    return b.len;
}

size_t dns_zone_answer(const struct dns_zone *z, const struct wire_query *q, uint32_t rot,
                       uint8_t *out, size_t limit)
{
    size_t nsi = 0;
    const struct zns *ns = find_ns(z, q->name, &nsi);
    const struct zname *n;
    struct wire_buf b = {.p = out, .cap = limit};
    size_t lo, hi, opt_room = q->edns ? 11 : 0;

    if (!ns || q->qclass != DNS_C_IN) {
        if (wire_begin(&b, q, false, DNS_R_REFUSED) < 0)
            return 0;
        wire_opt(&b, q);
        return b.len;
    }
    if (!(n = find_name(z, q->name)))
        return answer_soa(z, ns, q, DNS_R_NXDOMAIN, false, out, limit);
    if (q->qtype == DNS_T_ANY) {
        lo = 0;
        hi = n->n_rr;
    } else {
        for (lo = 0; lo < n->n_rr && n->rr[lo].type != q->qtype; lo++)
            ;
        for (hi = lo; hi < n->n_rr && n->rr[hi].type == q->qtype; hi++)
            ;
    }
    if (lo == hi)
        return answer_soa(z, ns, q, DNS_R_NOERROR, false, out, limit);
    size_t k = hi - lo, take = k < z->max_answers ? k : z->max_answers;
    size_t start = rot % k;
    b.cap = limit > opt_room ? limit - opt_room : 0;
    if (wire_begin(&b, q, true, DNS_R_NOERROR) < 0)
        return 0;
    for (size_t i = 0; i < take; i++) {
        const struct zrr *r = &n->rr[lo + (start + i) % k];
        uint32_t ttl = r->type == DNS_T_SOA ? z->neg_ttl : z->ttl;
        if (wire_rr(&b, 0, n->name, r->type, ttl, r->rdata, r->rdlen) < 0)
            return answer_soa(z, ns, q, DNS_R_NOERROR, true, out, limit);
    }
    /* The targets' addresses, A then AAAA: left out when they do not fit
     * (RFC 2181). */
    bool full = false;
    for (size_t i = 0; i < take && !full; i++) {
        const struct zrr *r = &n->rr[lo + (start + i) % k];
        for (size_t j = 0; r->type == DNS_T_SRV && j < 2 && r->add[j].type && !full; j++)
            full = wire_rr(&b, 2, r->target, r->add[j].type, z->ttl, r->add[j].addr,
                           r->add[j].len) < 0;
    }
    b.cap = limit;
    wire_opt(&b, q);
    return b.len;
}
