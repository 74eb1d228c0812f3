/* sigv4_sign.c: SigV4 canonical request, string to sign, keys; see
 * sigv4_sign.h. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/sigv4_sign.h"

struct sb {
    char *s;
    size_t len, cap;
};

static void
sb_add(struct sb *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *g = realloc(b->s, cap);
        if (!g)
            abort();
        b->s = g;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void
sb_chr(struct sb *b, char c)
{
    sb_add(b, &c, 1);
}

static void
hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void
sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    hex(md, sizeof(md), out);
}

void
sigv4_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                  unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n);
}

static void
hmac_str(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    sigv4_hmac_sha256(key, klen, msg, strlen(msg), out);
}

void
sigv4_signing_key(const char *secret, const char *date, const char *region,
                  const char *service, unsigned char out[32])
{
    size_t kdate_len = strlen(secret) + 4;
    unsigned char k1[32], k2[32], k3[32];
    char *kdate = malloc(kdate_len + 1);

    if (!kdate)
        abort();
    memcpy(kdate, "AWS4", 4);
    memcpy(kdate + 4, secret, kdate_len - 4 + 1);
    hmac_str(kdate, kdate_len, date, k1);
    OPENSSL_cleanse(kdate, kdate_len);
    free(kdate);
    hmac_str(k1, 32, region, k2);
    hmac_str(k2, 32, service, k3);
    hmac_str(k3, 32, "aws4_request", out);
    OPENSSL_cleanse(k1, 32);
    OPENSSL_cleanse(k2, 32);
    OPENSSL_cleanse(k3, 32);
}

void
sigv4_signature(const unsigned char key[32], const char *string_to_sign, char out[65])
{
    unsigned char sig[32];
    hmac_str(key, 32, string_to_sign, sig);
    hex(sig, 32, out);
}

void
sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* ---- canonical request ---- */

static int
unreserved(unsigned char ch)
{
    return isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

static void
uri_encode(struct sb *b, const char *s, size_t n)
{
    char esc[4];

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (unreserved(ch)) {
            sb_chr(b, (char)ch);
        } else {
            snprintf(esc, sizeof(esc), "%%%02X", ch);
            sb_add(b, esc, 3);
        }
    }
}

/* Removes "." and ".." and empty segments, as botocore and the AWS
 * services normalise a path before encoding it. */
static void
canonical_uri(struct sb *b, const char *path, size_t n)
{
    const char **seg = calloc(n + 1, sizeof(*seg));
    size_t *len = calloc(n + 1, sizeof(*len));
    size_t ns = 0, i = 0;

    if (!seg || !len)
        abort();
    while (i < n) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t l = j - i;
        if (l == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (ns)
                ns--;
        } else if (l > 0 && !(l == 1 && path[i] == '.')) {
            seg[ns] = path + i;
            len[ns++] = l;
        }
        i = j + 1;
    }
    sb_chr(b, '/');
    for (i = 0; i < ns; i++) {
        if (i)
            sb_chr(b, '/');
        uri_encode(b, seg[i], len[i]);
    }
    if (ns && n && path[n - 1] == '/')
        sb_chr(b, '/');
    free(seg);
    free(len);
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX and '+' (a space, as form encoding sends it), then encodes
 * again the AWS way, so every client spelling gives the same text. */
static char *
requery(const char *s, size_t n)
{
    struct sb dec = {0}, enc = {0};

    sb_add(&dec, "", 0);
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n &&
            (h = hexval(s[i + 1])) >= 0 && (l = hexval(s[i + 2])) >= 0) {
            sb_chr(&dec, (char)(h * 16 + l));
            i += 2;
        } else {
            sb_chr(&dec, s[i] == '+' ? ' ' : s[i]);
        }
    }
    sb_add(&enc, "", 0);
    uri_encode(&enc, dec.s, dec.len);
    free(dec.s);
    return enc.s;
}

struct qpair {
    char *k, *v;
};

static int
qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int r = strcmp(x->k, y->k);
    return r ? r : strcmp(x->v, y->v);
}

static void
canonical_query(struct sb *b, const char *q)
{
    struct qpair *v = NULL;
    size_t n = 0;

    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        struct qpair *g = realloc(v, (n + 1) * sizeof(*v));
        if (!g)
            abort();
        v = g;
        v[n].k = requery(q, eq ? (size_t)(eq - q) : len);
        v[n].v = eq ? requery(eq + 1, len - (size_t)(eq - q) - 1) : requery("", 0);
        n++;
        q = amp ? amp + 1 : NULL;
    }
    if (n)
        qsort(v, n, sizeof(*v), qpair_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_chr(b, '&');
        sb_str(b, v[i].k);
        sb_chr(b, '=');
        sb_str(b, v[i].v);
        free(v[i].k);
        free(v[i].v);
    }
    free(v);
}

/* Trimall: no space before or after, runs of spaces as one. */
static void
header_value(struct sb *b, const char *v)
{
    int space = 0, any = 0;

    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = 1;
            continue;
        }
        if (space && any)
            sb_chr(b, ' ');
        space = 0;
        any = 1;
        sb_chr(b, *v);
    }
}

char *
sigv4_canonical_request(const char *method, const char *path, size_t path_len,
                        const char *query, const struct sigv4_header *headers,
                        size_t n, const char *signed_headers, const char *payload_hash)
{
    struct sb cr = {0};

    sb_str(&cr, method);
    sb_chr(&cr, '\n');
    canonical_uri(&cr, path, path_len);
    sb_chr(&cr, '\n');
    canonical_query(&cr, query);
    sb_chr(&cr, '\n');
    for (const char *p = signed_headers; *p;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        int first = 1;
        sb_add(&cr, p, len);
        sb_chr(&cr, ':');
        for (size_t i = 0; i < n; i++) {
            if (strlen(headers[i].name) != len ||
                strncasecmp(headers[i].name, p, len) != 0)
                continue;
            if (!first)
                sb_chr(&cr, ',');
            header_value(&cr, headers[i].value);
            first = 0;
        }
        sb_chr(&cr, '\n');
        if (!semi)
            break;
        p = semi + 1;
    }
    sb_chr(&cr, '\n');
    sb_str(&cr, signed_headers);
    sb_chr(&cr, '\n');
    sb_str(&cr, payload_hash);
    return cr.s;
}

char *
sigv4_string_to_sign(const char *amz_date, const char *date, const char *region,
                     const char *service, const char *canonical_request)
{
    struct sb sts = {0};
    char cr_hash[65];

    sigv4_sha256_hex(canonical_request, strlen(canonical_request), cr_hash);
    sb_str(&sts, SIGV4_ALGORITHM "\n");
    sb_str(&sts, amz_date);
    sb_chr(&sts, '\n');
    sb_str(&sts, date);
    sb_chr(&sts, '/');
    sb_str(&sts, region);
    sb_chr(&sts, '/');
    sb_str(&sts, service);
    sb_str(&sts, "/aws4_request\n");
    sb_str(&sts, cr_hash);
    return sts.s;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
sigv4_authorization(const char *method, const char *path, const char *query,
                    const struct sigv4_header *headers, size_t n, const void *body,
                    size_t body_len, const char *key_id, const char *secret,
                    const char *region, const char *service, const char *amz_date)
{
    char **names = calloc(n ? n : 1, sizeof(*names));
    struct sb sh = {0}, out = {0};
    char body_hash[65], date[9], sig[65];
    unsigned char key[32];
    char *cr, *sts;

    if (!names)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!(names[i] = strdup(headers[i].name)))
            abort();
        for (char *p = names[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    qsort(names, n, sizeof(*names), name_cmp);
    sb_add(&sh, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(names[i], names[i - 1]) == 0)
            continue; /* a repeated header is one line */
        if (sh.len)
            sb_chr(&sh, ';');
        sb_str(&sh, names[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);

    sigv4_sha256_hex(body ? body : "", body_len, body_hash);
    cr = sigv4_canonical_request(method, path, strlen(path), query, headers, n, sh.s,
                                 body_hash);
    snprintf(date, sizeof(date), "%.8s", amz_date);
    sts = sigv4_string_to_sign(amz_date, date, region, service, cr);
    sigv4_signing_key(secret, date, region, service, key);
    sigv4_signature(key, sts, sig);
    OPENSSL_cleanse(key, sizeof(key));
    sb_str(&out, SIGV4_ALGORITHM " Credential=");
    sb_str(&out, key_id);
    sb_chr(&out, '/');
    sb_str(&out, date);
    sb_chr(&out, '/');
    sb_str(&out, region);
    sb_chr(&out, '/');
    sb_str(&out, service);
    sb_str(&out, "/aws4_request, SignedHeaders=");
    sb_str(&out, sh.s);
    sb_str(&out, ", Signature=");
    sb_str(&out, sig);
    free(cr);
    free(sts);
    free(sh.s);
    return out.s;
}
