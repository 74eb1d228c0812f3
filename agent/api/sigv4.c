/* sigv4.c: AWS SigV4 verification and the credentials file; see sigv4.h. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "agent/api/sigv4.h"
#include "agent/ini.h"
#include "agent/log.h"

#define ALGORITHM SIGV4_ALGORITHM

struct sigv4_key {
    char *profile;
    char *id;
    char *secret;
    int line; /* of the section */
    int id_line, secret_line;
};

struct sigv4_creds {
    struct sigv4_key *keys;
    size_t n;
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...) BERTH_PRINTF(3, 4);

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- credentials file ---- */

struct creds_loader {
    const char *path;
    struct sigv4_creds *c;
    struct sigv4_key *cur;
    char *err;
    size_t errlen;
    int failed;
};

static void
creds_fail(struct creds_loader *ld, int line, const char *section, const char *key,
           const char *fmt, ...) BERTH_PRINTF(5, 6);

static void
creds_fail(struct creds_loader *ld, int line, const char *section, const char *key,
           const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (ld->failed++)
        return; /* the first error is the one reported */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    seterr(ld->err, ld->errlen, "%s:%d: %s%s%s%s%s%s", ld->path, line,
           section ? "[" : "", section ? section : "", section ? "] " : "",
           key ? key : "", key ? ": " : "", msg);
}

static void
creds_section(void *arg, const char *name, int line)
{
    struct creds_loader *ld = arg;
    struct sigv4_creds *c = ld->c;
    struct sigv4_key *g;

    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->keys[i].profile, name) == 0) {
            creds_fail(ld, line, NULL, NULL, "duplicate profile [%s] (first on line %d)",
                       name, c->keys[i].line);
            ld->cur = NULL;
            return;
        }
    g = realloc(c->keys, (c->n + 1) * sizeof(*g));
    if (!g)
        abort();
    c->keys = g;
    ld->cur = &c->keys[c->n++];
    memset(ld->cur, 0, sizeof(*ld->cur));
    ld->cur->line = line;
    if (!(ld->cur->profile = strdup(name)))
        abort();
}

static void
creds_entry(void *arg, const char *section, const char *key, const char *value, int line)
{
    struct creds_loader *ld = arg;
    struct sigv4_key *k = ld->cur;
    char **field;
    int *fline;

    if (!k) {
        if (!*section)
            creds_fail(ld, line, NULL, key, "key outside any [profile] section");
        return;
    }
    if (strcmp(key, "aws_access_key_id") == 0) {
        field = &k->id;
        fline = &k->id_line;
    } else if (strcmp(key, "aws_secret_access_key") == 0) {
        field = &k->secret;
        fline = &k->secret_line;
    } else {
        return; /* aws_session_token, region...: not ours to check */
    }
    if (*field) {
        creds_fail(ld, line, section, key, "duplicate key (first on line %d)", *fline);
        return;
    }
    if (!*value) {
        creds_fail(ld, line, section, key, "empty value");
        return;
    }
    if (strcmp(key, "aws_access_key_id") == 0) {
        for (const char *p = value; *p; p++)
            if (!isalnum((unsigned char)*p)) {
                creds_fail(ld, line, section, key,
                           "expected letters and digits, got \"%s\"", value);
                return;
            }
    }
    if (!(*field = strdup(value)))
        abort();
    *fline = line;
}

static void
creds_error(void *arg, int line, const char *msg)
{
    struct creds_loader *ld = arg;
    creds_fail(ld, line, NULL, NULL, "%s", msg);
}

struct sigv4_creds *
sigv4_creds_load(const char *path, char *err, size_t errlen)
{
    struct ini_handler h = {creds_section, creds_entry, creds_error};
    struct creds_loader ld = {.path = path, .err = err, .errlen = errlen};
    char rerr[512];
    struct stat st;

    if (!(ld.c = calloc(1, sizeof(*ld.c))))
        abort();
    if (ini_parse_file(path, &h, &ld, rerr, sizeof(rerr)) < 0 && rerr[0]) {
        seterr(err, errlen, "%s", rerr);
        sigv4_creds_free(ld.c);
        return NULL;
    }
    for (size_t i = 0; !ld.failed && i < ld.c->n; i++) {
        struct sigv4_key *k = &ld.c->keys[i];
        if (!k->id)
            creds_fail(&ld, k->line, k->profile, NULL, "aws_access_key_id: required, "
                       "but not set");
        else if (!k->secret)
            creds_fail(&ld, k->line, k->profile, NULL, "aws_secret_access_key: "
                       "required, but not set");
        for (size_t j = 0; !ld.failed && j < i; j++)
            if (strcmp(ld.c->keys[j].id, k->id) == 0)
                creds_fail(&ld, k->id_line, k->profile, "aws_access_key_id",
                           "the key %s is also in [%s] (line %d)", k->id,
                           ld.c->keys[j].profile, ld.c->keys[j].id_line);
    }
    if (!ld.failed && ld.c->n == 0)
        creds_fail(&ld, 1, NULL, NULL, "no [profile] with aws_access_key_id and "
                   "aws_secret_access_key");
    if (ld.failed) {
        sigv4_creds_free(ld.c);
        return NULL;
    }
    if (stat(path, &st) == 0 && (st.st_mode & 0004))
        log_warn("api.credentials.readable", "path=%s reason=\"readable by every user\"",
                 path);
    return ld.c;
}

void
sigv4_creds_free(struct sigv4_creds *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->keys[i].secret) {
            OPENSSL_cleanse(c->keys[i].secret, strlen(c->keys[i].secret));
            free(c->keys[i].secret);
        }
        free(c->keys[i].id);
        free(c->keys[i].profile);
    }
    free(c->keys);
    free(c);
}

size_t
sigv4_creds_count(const struct sigv4_creds *c)
{
    return c ? c->n : 0;
}

static const char *
creds_secret(const struct sigv4_creds *c, const char *id)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (strcmp(c->keys[i].id, id) == 0)
            return c->keys[i].secret;
    return NULL;
}

/* ---- the Authorization header ---- */

struct auth {
    char key_id[129], date[9], region[65], service[65], term[33];
    char signed_headers[1024];
    char signature[65];
};

/* Copies "Name=value" of the comma-separated list into out. */
static int
auth_param(const char *params, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    const char *p = params;

    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && p[len - 1] == ' ')
            len--;
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= size)
                return -1;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return 0;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return -1;
}

static enum sigv4_rc
parse_auth(const char *h, struct auth *a, char *msg, size_t msglen)
{
    char cred[512];
    char *parts[5], *save = NULL, *tok;
    int n = 0;

    memset(a, 0, sizeof(*a));
    if (strncmp(h, ALGORITHM " ", sizeof(ALGORITHM)) != 0) {
        seterr(msg, msglen, "Authorization header: expected the algorithm "
               ALGORITHM ", got \"%.40s\"", h);
        return SIGV4_MALFORMED;
    }
    h += sizeof(ALGORITHM);
    static const char *const need[] = {"Credential", "SignedHeaders", "Signature"};
    char *outs[] = {cred, a->signed_headers, a->signature};
    size_t sizes[] = {sizeof(cred), sizeof(a->signed_headers), sizeof(a->signature)};
    for (int i = 0; i < 3; i++)
        if (auth_param(h, need[i], outs[i], sizes[i]) < 0) {
            seterr(msg, msglen, "Authorization header requires '%s' parameter.",
                   need[i]);
            return SIGV4_MALFORMED;
        }
    for (tok = strtok_r(cred, "/", &save); tok && n < 5; tok = strtok_r(NULL, "/", &save))
        parts[n++] = tok;
    if (n != 5 || strtok_r(NULL, "/", &save) || strlen(parts[0]) >= sizeof(a->key_id) ||
        strlen(parts[1]) != 8 || strlen(parts[2]) >= sizeof(a->region) ||
        strlen(parts[3]) >= sizeof(a->service) || strlen(parts[4]) >= sizeof(a->term)) {
        seterr(msg, msglen, "Authorization header: Credential must be "
               "KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
        return SIGV4_MALFORMED;
    }
    strcpy(a->key_id, parts[0]);
    strcpy(a->date, parts[1]);
    strcpy(a->region, parts[2]);
    strcpy(a->service, parts[3]);
    strcpy(a->term, parts[4]);
    return SIGV4_OK;
}

static int
signed_has(const char *list, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (len == nl && strncmp(p, name, nl) == 0)
            return 1;
        p = semi ? semi + 1 : NULL;
    }
    return 0;
}

static int
parse_amz_date(const char *s, time_t *out)
{
    struct tm tm = {0};
    char *end;

    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
    if (!end || *end)
        return -1;
    *out = timegm(&tm);
    return 0;
}

const char *
sigv4_error_type(enum sigv4_rc rc)
{
    switch (rc) {
    case SIGV4_OK: return "";
    case SIGV4_MISSING: return "MissingAuthenticationTokenException";
    case SIGV4_UNKNOWN_KEY: return "UnrecognizedClientException";
    case SIGV4_MALFORMED: return "IncompleteSignatureException";
    case SIGV4_BAD_SIGNATURE:
    case SIGV4_EXPIRED: return "InvalidSignatureException";
    }
    return "InvalidSignatureException";
}

enum sigv4_rc
sigv4_verify(const struct sigv4_creds *c, const struct http_request *req,
             const char *region, const char *service, time_t now, char *msg,
             size_t msglen, char *key_id, size_t key_id_len)
{
    const char *authz = http_header_get(req, "Authorization");
    const char *amz_date = http_header_get(req, "X-Amz-Date");
    const char *content_sha = http_header_get(req, "X-Amz-Content-Sha256");
    const char *secret, *q;
    struct auth a;
    struct sigv4_header *hv;
    char body_hash[65], cr_hash[65], want[65], *cr, *sts;
    unsigned char key[32];
    time_t t;
    enum sigv4_rc rc;

    if (key_id && key_id_len)
        key_id[0] = '\0';
    if (msg && msglen)
        msg[0] = '\0';
    if (!authz) {
        seterr(msg, msglen, "Missing Authentication Token");
        return SIGV4_MISSING;
    }
    if ((rc = parse_auth(authz, &a, msg, msglen)) != SIGV4_OK)
        return rc;
    if (key_id && key_id_len)
        snprintf(key_id, key_id_len, "%s", a.key_id);
    if (!amz_date) {
        seterr(msg, msglen, "Authorization header requires existence of a "
               "'X-Amz-Date' header.");
        return SIGV4_MALFORMED;
    }
    if (parse_amz_date(amz_date, &t) < 0) {
        seterr(msg, msglen, "X-Amz-Date: expected YYYYMMDDTHHMMSSZ, got \"%.40s\"",
               amz_date);
        return SIGV4_MALFORMED;
    }
    if (strncmp(a.date, amz_date, 8) != 0) {
        seterr(msg, msglen, "Date in Credential scope does not match YYYYMMDD from "
               "ISO-8601 version of date from HTTP: '%s' != '%.8s', from '%s'.",
               a.date, amz_date, amz_date);
        return SIGV4_BAD_SIGNATURE;
    }
    if (strcmp(a.term, "aws4_request") != 0) {
        seterr(msg, msglen, "Credential should be scoped with a valid terminator: "
               "'aws4_request', not '%s'.", a.term);
        return SIGV4_BAD_SIGNATURE;
    }
    if (strcmp(a.service, service) != 0) {
        seterr(msg, msglen, "Credential should be scoped to correct service: '%s'.",
               service);
        return SIGV4_BAD_SIGNATURE;
    }
    if (strcmp(a.region, region) != 0) {
        seterr(msg, msglen, "Credential should be scoped to a valid region, not '%s'. "
               "This agent's region is '%s'.", a.region, region);
        return SIGV4_BAD_SIGNATURE;
    }
    if (!signed_has(a.signed_headers, "host")) {
        seterr(msg, msglen, "'Host' or ':authority' must be a 'SignedHeader' in the "
               "AWS Authorization.");
        return SIGV4_BAD_SIGNATURE;
    }
    if (!(secret = creds_secret(c, a.key_id))) {
        seterr(msg, msglen, "The security token included in the request is invalid.");
        return SIGV4_UNKNOWN_KEY;
    }
    if (t < now - SIGV4_MAX_SKEW) {
        char lo[17], nw[17];
        sigv4_amz_date(now - SIGV4_MAX_SKEW, lo);
        sigv4_amz_date(now, nw);
        seterr(msg, msglen, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
               amz_date, lo, nw);
        return SIGV4_EXPIRED;
    }
    if (t > now + SIGV4_MAX_SKEW) {
        char hi[17], nw[17];
        sigv4_amz_date(now + SIGV4_MAX_SKEW, hi);
        sigv4_amz_date(now, nw);
        seterr(msg, msglen, "Signature not yet current: %s is still later than %s "
               "(%s + 15 min.)", amz_date, hi, nw);
        return SIGV4_EXPIRED;
    }
    sigv4_sha256_hex(req->body ? req->body : "", req->body_len, body_hash);
    if (content_sha && strcmp(content_sha, body_hash) != 0) {
        seterr(msg, msglen, "The provided 'x-amz-content-sha256' header does not match "
               "what was computed.");
        return SIGV4_BAD_SIGNATURE;
    }

    /* The canonical request, the string to sign, the key for the scope. */
    if (!(hv = calloc(req->n_headers ? req->n_headers : 1, sizeof(*hv))))
        abort();
    for (size_t i = 0; i < req->n_headers; i++) {
        hv[i].name = req->headers[i].name;
        hv[i].value = req->headers[i].value;
    }
    q = strchr(req->target, '?');
    cr = sigv4_canonical_request(req->method, req->target,
                                 q ? (size_t)(q - req->target) : strlen(req->target),
                                 q ? q + 1 : NULL, hv, req->n_headers, a.signed_headers,
                                 content_sha ? content_sha : body_hash);
    free(hv);
    sigv4_sha256_hex(cr, strlen(cr), cr_hash);
    sts = sigv4_string_to_sign(amz_date, a.date, a.region, a.service, cr);
    sigv4_signing_key(secret, a.date, a.region, a.service, key);
    sigv4_signature(key, sts, want);
    OPENSSL_cleanse(key, sizeof(key));
    log_debug("api.sigv4.canonical", "key=%s hash=%s", a.key_id, cr_hash);
    free(cr);
    free(sts);

    if (strlen(a.signature) != 64 || CRYPTO_memcmp(a.signature, want, 64) != 0) {
        seterr(msg, msglen, "The request signature we calculated does not match the "
               "signature you provided. Check your AWS Secret Access Key and signing "
               "method. Consult the service documentation for details.");
        return SIGV4_BAD_SIGNATURE;
    }
    return SIGV4_OK;
}
