/* wire.c: parsing queries and writing responses. */
#include "config.h"

#include "dns/wire.h"

#include <ctype.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The question's name: labels only (a pointer in a query's first name can
 * only point backwards into the header: refused). */
static int parse_qname(const uint8_t *pkt, size_t len, size_t *off, struct wire_query *q)
{
    size_t o = *off, n = 0, dotted = 0;

    for (;;) {
        if (o >= len)
            return -1;
        uint8_t l = pkt[o];
        if (l & 0xc0)
            return -1; /* pointer or the obsolete extended labels */
        if (n + 1 + l > DNS_MAX_NAME || o + 1 + l > len)
            return -1;
        memcpy(q->qname + n, pkt + o, 1u + l);
        n += 1u + l;
        if (l == 0)
            break;
        if (dotted)
            q->name[dotted++] = '.';
        for (size_t i = 0; i < l; i++) {
            uint8_t ch = pkt[o + 1 + i];
            /* A dot or NUL inside a label cannot be told apart in the
             * dotted form: such names are never ours, so refuse them. */
            if (ch == '.' || ch == '\0')
                return -1;
            q->name[dotted++] = (char)tolower(ch);
        }
        o += 1u + l;
    }
    q->name[dotted] = '\0';
    q->qname_len = n;
    *off = o + 1;
    return 0;
}

enum wire_verdict wire_parse_query(const uint8_t *pkt, size_t len, struct wire_query *q)
{
    size_t off = DNS_HDR;

    memset(q, 0, offsetof(struct wire_query, qname));
    q->qname_len = 0;
    q->name[0] = '\0';
    q->question_len = 0;
    q->edns = false;
    q->edns_size = 0;
    q->edns_version = 0;
    q->do_bit = false;
    if (len < DNS_HDR)
        return WIRE_DROP;
    q->id = get16(pkt);
    q->flags = get16(pkt + 2);
    if (q->flags & 0x8000)
        return WIRE_DROP; /* a response: answering could loop */
    if (((q->flags >> 11) & 0xf) != 0)
        return WIRE_NOTIMP; /* only QUERY */
    if (get16(pkt + 4) != 1 || get16(pkt + 6) != 0 || get16(pkt + 8) != 0 ||
        get16(pkt + 10) > 1)
        return WIRE_FORMERR;
    if (parse_qname(pkt, len, &off, q) < 0 || off + 4 > len)
        return WIRE_FORMERR;
    q->qtype = get16(pkt + off);
    q->qclass = get16(pkt + off + 2);
    off += 4;
    q->question_len = q->qname_len + 4;
    if (get16(pkt + 10) == 1) {
        /* OPT: root owner, type 41, class = size, ttl = ext rcode, version,
         * flags; rdata (options) skipped whole. */
        if (off + 11 > len || pkt[off] != 0 || get16(pkt + off + 1) != DNS_T_OPT)
            return WIRE_FORMERR;
        uint16_t rdlen = get16(pkt + off + 9);
        if (off + 11 + rdlen != len)
            return WIRE_FORMERR;
        q->edns = true;
        q->edns_size = get16(pkt + off + 3);
        if (q->edns_size < DNS_UDP_MIN)
            q->edns_size = DNS_UDP_MIN;
        q->edns_version = pkt[off + 6];
        q->do_bit = (pkt[off + 7] & 0x80) != 0;
        off += 11u + rdlen;
    }
    if (off != len)
        return WIRE_FORMERR; /* trailing bytes */
    return WIRE_OK;
}

size_t wire_udp_limit(const struct wire_query *q)
{
    if (!q->edns)
        return DNS_UDP_MIN;
    return q->edns_size > DNS_EDNS_MAX ? DNS_EDNS_MAX : q->edns_size;
}

size_t wire_error(const uint8_t *pkt, size_t len, const struct wire_query *q, int rcode,
                  uint8_t *out, size_t cap)
{
    size_t n = DNS_HDR;

    if (len < DNS_HDR || cap < DNS_HDR)
        return 0;
    memset(out, 0, DNS_HDR);
    memcpy(out, pkt, 2);
    /* QR, the opcode as received, RD copied. */
    out[2] = (uint8_t)(0x80 | (pkt[2] & 0x79));
    out[3] = (uint8_t)(rcode & 0xf);
    if (q && q->question_len && n + q->question_len <= cap) {
        memcpy(out + n, q->qname, q->qname_len);
        put16(out + n + q->qname_len, q->qtype);
        put16(out + n + q->qname_len + 2, q->qclass);
        n += q->question_len;
        put16(out + 4, 1);
    }
    return n;
}

int wire_begin(struct wire_buf *b, const struct wire_query *q, bool aa, int rcode)
{
    if (b->cap < DNS_HDR + q->question_len)
        return -1;
    uint8_t *h = b->p;
    memset(h, 0, DNS_HDR);
    put16(h, q->id);
    h[2] = (uint8_t)(0x80 | (aa ? 0x04 : 0) | ((q->flags >> 8) & 0x01));
    h[3] = (uint8_t)(rcode & 0xf);
    put16(h + 4, 1);
    b->len = DNS_HDR;
    memcpy(b->p + b->len, q->qname, q->qname_len);
    put16(b->p + b->len + q->qname_len, q->qtype);
    put16(b->p + b->len + q->qname_len + 2, q->qclass);
    b->len += q->question_len;
    b->qname = q->name;
    return 0;
}

int wire_put_name(uint8_t *out, size_t cap, const char *name)
{
    size_t n = 0;

    while (*name) {
        size_t l = strcspn(name, ".");
        if (l == 0 || l > 63 || n + 1 + l + 1 > cap)
            return -1;
        out[n++] = (uint8_t)l;
        memcpy(out + n, name, l);
        n += l;
        name += l;
        if (*name == '.')
            name++;
    }
    if (n + 1 > cap)
        return -1;
    out[n++] = 0;
    return (int)n;
}

/* Writes name, pointing into the question for the longest suffix it shares
 * with the question's name (the question is at offset 12 of every
 * response we write). */
static int put_name_compressed(struct wire_buf *b, const char *name, const char *qname)
{
    size_t qlen = strlen(qname);
    const char *p = name;

    /* Offsets of the suffixes of qname, walked label by label. */
    for (;;) {
        /* Is p a suffix of qname that starts at a label boundary? */
        size_t plen = strlen(p);
        if (plen > 0 && plen <= qlen && strcmp(qname + qlen - plen, p) == 0 &&
            (plen == qlen || qname[qlen - plen - 1] == '.')) {
            /* The suffix starts after the labels of qname before it. */
            size_t skip = qlen - plen, qoff = DNS_HDR;
            const char *s = qname;
            while ((size_t)(s - qname) < skip) {
                size_t l = strcspn(s, ".");
                qoff += 1 + l;
                s += l + 1;
            }
            if (b->len + 2 > b->cap)
                return -1;
            b->p[b->len++] = (uint8_t)(0xc0 | (qoff >> 8));
            b->p[b->len++] = (uint8_t)qoff;
            return 0;
        }
        if (!*p)
            break;
        size_t l = strcspn(p, ".");
        if (l == 0 || l > 63 || b->len + 1 + l > b->cap)
            return -1;
        b->p[b->len++] = (uint8_t)l;
        memcpy(b->p + b->len, p, l);
        b->len += l;
        p += l;
        if (*p == '.')
            p++;
    }
    if (b->len + 1 > b->cap)
        return -1;
    b->p[b->len++] = 0;
    return 0;
}

static void count(struct wire_buf *b, int section)
{
    uint8_t *c = b->p + 6 + 2 * section;
    put16(c, (uint16_t)(get16(c) + 1));
}

int wire_rr(struct wire_buf *b, int section, const char *name, uint16_t type,
            uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
    size_t mark = b->len;

    if (put_name_compressed(b, name, b->qname) < 0 || b->len + 10 + rdlen > b->cap) {
        b->len = mark;
        return -1;
    }
    put16(b->p + b->len, type);
    put16(b->p + b->len + 2, DNS_C_IN);
    b->p[b->len + 4] = (uint8_t)(ttl >> 24);
    b->p[b->len + 5] = (uint8_t)(ttl >> 16);
    b->p[b->len + 6] = (uint8_t)(ttl >> 8);
    b->p[b->len + 7] = (uint8_t)ttl;
    put16(b->p + b->len + 8, (uint16_t)rdlen);
    memcpy(b->p + b->len + 10, rdata, rdlen);
    b->len += 10 + rdlen;
    count(b, section);
    return 0;
}

int wire_opt(struct wire_buf *b, const struct wire_query *q)
{
    if (!q->edns)
        return 0;
    if (b->len + 11 > b->cap)
        return -1;
    uint8_t *p = b->p + b->len;
    p[0] = 0;
    put16(p + 1, DNS_T_OPT);
    put16(p + 3, DNS_EDNS_MAX);
    memset(p + 5, 0, 6);
    b->len += 11;
    count(b, 2);
    return 0;
}

void wire_set_tc(struct wire_buf *b)
{
    b->p[2] |= 0x02;
}

void wire_set_rcode(struct wire_buf *b, int rcode)
{
    b->p[3] = (uint8_t)((b->p[3] & 0xf0) | (rcode & 0xf));
}
