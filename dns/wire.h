/* wire.h: the DNS wire format, as much as the responder needs: a strict
 * parser for queries and a writer for responses (RFC 1035, 2671/6891).
 *
 * The parser accepts only what a stub or recursive resolver sends: a
 * header with QR clear, one question whose name has no compression
 * pointer, at most one additional record (EDNS OPT, root owner) and nothing
 * after it.  It never reads past len and never loops.  Its verdict:
 *   WIRE_OK      q is filled;
 *   WIRE_DROP    no answer at all (shorter than a header, or a response);
 *   WIRE_FORMERR / WIRE_NOTIMP: answer with that rcode (wire_error()).
 *
 * The writer appends to a fixed buffer and fails (returns -1, buffer
 * unchanged past the mark) when the next record does not fit, which is how
 * truncation (TC) is decided. */
#ifndef BERTH_DNS_WIRE_H
#define BERTH_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { DNS_T_A = 1, DNS_T_NS = 2, DNS_T_SOA = 6, DNS_T_AAAA = 28, DNS_T_SRV = 33,
       DNS_T_OPT = 41, DNS_T_AXFR = 252, DNS_T_ANY = 255 };
enum { DNS_C_IN = 1 };
enum { DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3,
       DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5 };
enum wire_verdict { WIRE_OK, WIRE_DROP, WIRE_FORMERR, WIRE_NOTIMP };

#define DNS_HDR 12
#define DNS_MAX_NAME 255
#define DNS_UDP_MIN 512     /* without EDNS */
#define DNS_EDNS_MAX 4096   /* what we announce and honour at most */

struct wire_query {
    uint16_t id;
    uint16_t flags;          /* as received */
    uint16_t qtype, qclass;
    uint8_t qname[DNS_MAX_NAME]; /* wire form, as received (case kept) */
    size_t qname_len;        /* with the final zero */
    char name[DNS_MAX_NAME]; /* dotted, lowercase, no trailing dot; "" = root */
    size_t question_len;     /* qname + type + class */
    bool edns;
    uint16_t edns_size;      /* the client's payload size (>= 512) */
    uint8_t edns_version;
    bool do_bit;
};

enum wire_verdict wire_parse_query(const uint8_t *pkt, size_t len, struct wire_query *q);

/* The most a UDP answer to q may take. */
size_t wire_udp_limit(const struct wire_query *q);

struct wire_buf {
    uint8_t *p;
    size_t len, cap;
    const char *qname;       /* set by wire_begin: q's dotted name */
};

/* An error answer for a packet the parser refused with FORMERR/NOTIMP (or
 * for a query to refuse): the header with the id and RD of the query, the
 * question when q is given, and the rcode.  Returns its length, 0 when pkt
 * is shorter than a header. */
size_t wire_error(const uint8_t *pkt, size_t len, const struct wire_query *q, int rcode,
                  uint8_t *out, size_t cap);

/* Response header + the question of q; flags QR, RD copied, AA as given. */
int wire_begin(struct wire_buf *b, const struct wire_query *q, bool aa, int rcode);
/* One record; name is a dotted name that may end in q's name (then it is
 * compressed to point into the question).  Counted in section 0..2
 * (answer, authority, additional). */
int wire_rr(struct wire_buf *b, int section, const char *name, uint16_t type,
            uint32_t ttl, const uint8_t *rdata, size_t rdlen);
/* A name in rdata (SRV target, SOA names) uncompressed, into rdata. */
int wire_put_name(uint8_t *out, size_t cap, const char *name);
/* The OPT record (additional) when q had one. */
int wire_opt(struct wire_buf *b, const struct wire_query *q);
void wire_set_tc(struct wire_buf *b);
void wire_set_rcode(struct wire_buf *b, int rcode);

#endif
