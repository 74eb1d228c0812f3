/* test_sigv4.c: SigV4 verification against requests signed by botocore
 * (tests/unit/data/sigv4/cases.txt, made by gen.py there), and the
 * credentials file. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/api/sigv4.h"
#include "agent/log.h"
#include "tests/lib/tap.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static char *
src_path(const char *rel)
{
    const char *top = getenv("top_srcdir");
    char *p;
    if (asprintf(&p, "%s/%s", top ? top : ".", rel) < 0)
        abort();
    return p;
}

static const char *
rc_name(enum sigv4_rc rc)
{
    static const char *const n[] = {"OK", "MISSING", "UNKNOWN_KEY", "BAD_SIGNATURE",
                                    "EXPIRED", "MALFORMED"};
    return n[rc];
}

struct tcase {
    char name[128];
    struct http_request req;
    long now;
    char expect[32];
};

static void
tcase_reset(struct tcase *t)
{
    for (size_t i = 0; i < t->req.n_headers; i++) {
        free(t->req.headers[i].name);
        free(t->req.headers[i].value);
    }
    free(t->req.headers);
    free(t->req.target);
    free(t->req.body);
    memset(t, 0, sizeof(*t));
    t->req.method = "POST";
}

static void
run_case(const struct sigv4_creds *cr, struct tcase *t)
{
    char msg[512], key[64];
    enum sigv4_rc rc = sigv4_verify(cr, &t->req, "eu-west-3", "ecs", (time_t)t->now, msg,
                                    sizeof(msg), key, sizeof(key));
    if (!ok(strcmp(rc_name(rc), t->expect) == 0, "%s: %s", t->name, t->expect))
        diag("  got %s: %s", rc_name(rc), msg);
    ok(!strstr(msg, SECRET) && !strstr(msg, "c2VjcmV0"), "%s: no secret in the message",
       t->name);
    if (strcmp(t->name, "skewed: signed 16 minutes ago") == 0)
        is_str(msg, "Signature expired: 20261123T100000Z is now earlier than "
                    "20261123T100100Z (20261123T101600Z - 15 min.)",
               "the expiry message is AWS's");
    if (strcmp(t->name, "skewed: signed 16 minutes ahead") == 0)
        like(msg, "Signature not yet current: 20261123T100000Z is still later than",
             "a signature from the future is named so");
    if (strcmp(t->name, "wrong secret") == 0) {
        like(msg, "The request signature we calculated does not match the signature "
                  "you provided.", "a wrong secret gets AWS's message");
        is_str(sigv4_error_type(rc), "InvalidSignatureException", "as InvalidSignatureException");
        is_str(key, "AKIDEXAMPLE", "the key id is reported for the log");
    }
    if (strcmp(t->name, "unknown key") == 0) {
        is_str(msg, "The security token included in the request is invalid.",
               "an unknown key gets AWS's message");
        is_str(sigv4_error_type(rc), "UnrecognizedClientException",
               "as UnrecognizedClientException");
    }
    if (strcmp(t->name, "no Authorization") == 0) {
        is_str(msg, "Missing Authentication Token", "no signature: AWS's message");
        is_str(sigv4_error_type(rc), "MissingAuthenticationTokenException",
               "as MissingAuthenticationTokenException");
    }
    if (strcmp(t->name, "another region") == 0)
        like(msg, "not 'us-east-1'", "another region is named");
}

static int
hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void
test_cases(const struct sigv4_creds *cr)
{
    char *path = src_path("tests/unit/data/sigv4/cases.txt");
    FILE *f = fopen(path, "r");
    char line[4096];
    struct tcase t = {0};
    int n = 0;

    if (!ok(f != NULL, "read %s", path)) {
        free(path);
        return;
    }
    tcase_reset(&t);
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "case ", 5) == 0) {
            snprintf(t.name, sizeof(t.name), "%.120s", line + 5);
        } else if (strncmp(line, "target ", 7) == 0) {
            t.req.target = strdup(line + 7);
        } else if (strncmp(line, "header ", 7) == 0) {
            char *colon = strchr(line + 7, ':');
            *colon = '\0';
            t.req.headers = realloc(t.req.headers, (t.req.n_headers + 1) *
                                                       sizeof(*t.req.headers));
            t.req.headers[t.req.n_headers].name = strdup(line + 7);
            t.req.headers[t.req.n_headers].value = strdup(colon + 2);
            t.req.n_headers++;
        } else if (strncmp(line, "body ", 5) == 0) {
            size_t len = strlen(line + 5) / 2;
            t.req.body = calloc(1, len + 1);
            for (size_t i = 0; i < len; i++)
                t.req.body[i] = (char)(hexval(line[5 + 2 * i]) * 16 + hexval(line[6 + 2 * i]));
            t.req.body_len = len;
        } else if (strncmp(line, "now ", 4) == 0) {
            t.now = atol(line + 4);
        } else if (strncmp(line, "expect ", 7) == 0) {
            snprintf(t.expect, sizeof(t.expect), "%.30s", line + 7);
        } else if (strcmp(line, "end") == 0) {
            run_case(cr, &t);
            tcase_reset(&t);
            n++;
        }
    }
    tcase_reset(&t);
    free(t.req.target);
    fclose(f);
    ok(n >= 19, "ran the %d botocore cases", n);
    free(path);
}

/* The same header, corrupted here and there: every one is refused. */
static void
test_malformed(const struct sigv4_creds *cr)
{
    struct http_header h[3] = {
        {(char *)"Host", (char *)"x"},
        {(char *)"X-Amz-Date", (char *)"20261123T100000Z"},
        {(char *)"Authorization", NULL},
    };
    struct http_request r = {.method = "POST", .target = (char *)"/", .headers = h,
                             .n_headers = 3, .body = (char *)"", .body_len = 0};
    static const struct {
        const char *authz, *want;
    } bad[] = {
        {"AWS4-HMAC-SHA1 Credential=a", "expected the algorithm AWS4-HMAC-SHA256"},
        {"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
         "requires 'Credential' parameter"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-3/ecs/aws4_request, "
         "Signature=00", "requires 'SignedHeaders' parameter"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2026/eu-west-3/ecs/aws4_request, "
         "SignedHeaders=host, Signature=00", "Credential must be"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/eu-west-3/ecs/aws4_request, "
         "SignedHeaders=host, Signature=00", "Date in Credential scope does not match"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-3/s3/aws4_request, "
         "SignedHeaders=host, Signature=00", "scoped to correct service: 'ecs'"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-3/ecs/aws5_request, "
         "SignedHeaders=host, Signature=00", "valid terminator"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-3/ecs/aws4_request, "
         "SignedHeaders=x-amz-date, Signature=00", "'Host' or ':authority' must be"},
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-3/ecs/aws4_request, "
         "SignedHeaders=host, Signature=00", "does not match the signature you provided"},
    };
    char msg[512];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        h[2].value = (char *)bad[i].authz;
        enum sigv4_rc rc = sigv4_verify(cr, &r, "eu-west-3", "ecs", 1795428000, msg,
                                        sizeof(msg), NULL, 0);
        ok(rc != SIGV4_OK, "malformed %zu refused (%s)", i, rc_name(rc));
        like(msg, bad[i].want, "malformed %zu says why", i);
    }
    h[1].value = (char *)"yesterday";
    h[2].value = (char *)bad[8].authz;
    sigv4_verify(cr, &r, "eu-west-3", "ecs", 1795428000, msg, sizeof(msg), NULL, 0);
    like(msg, "X-Amz-Date: expected YYYYMMDDTHHMMSSZ", "a bad X-Amz-Date is named");
    r.n_headers = 1;
    h[0] = h[2];
    enum sigv4_rc rc = sigv4_verify(cr, &r, "eu-west-3", "ecs", 1795428000, msg,
                                    sizeof(msg), NULL, 0);
    ok(rc == SIGV4_MALFORMED, "no X-Amz-Date: IncompleteSignatureException");
    like(msg, "'X-Amz-Date'", "saying so");
}

static void
creds_refused(const char *text, const char *want, const char *what)
{
    char path[] = "/tmp/test_sigv4.XXXXXX", err[512];
    int fd = mkstemp(path);

    if (write(fd, text, strlen(text)) < 0)
        abort();
    close(fd);
    struct sigv4_creds *c = sigv4_creds_load(path, err, sizeof(err));
    ok(c == NULL, "credentials refused: %s", what);
    like(err, want, "%s: says why", what);
    ok(strstr(err, path) != NULL, "%s: names the file", what);
    ok(!strstr(err, "s3cr3t"), "%s: never shows a secret", what);
    sigv4_creds_free(c);
    unlink(path);
}

static void
test_creds_file(void)
{
    char err[512];

    ok(sigv4_creds_load("/nonexistent/creds", err, sizeof(err)) == NULL,
       "a missing file is refused");
    like(err, "cannot open /nonexistent/creds", "naming it");
    creds_refused("", "no [profile] with", "an empty file");
    creds_refused("[a]\naws_access_key_id = AK1\n", ":1: [a] aws_secret_access_key: "
                  "required", "a profile without its secret");
    creds_refused("[a]\naws_secret_access_key = s3cr3t\n",
                  "[a] aws_access_key_id: required", "a profile without its key id");
    creds_refused("[a]\naws_access_key_id = AK1\naws_secret_access_key = s3cr3t\n"
                  "[b]\naws_access_key_id = AK1\naws_secret_access_key = s3cr3t2\n",
                  ":5: [b] aws_access_key_id: the key AK1 is also in [a] (line 2)",
                  "one key in two profiles");
    creds_refused("[a]\naws_access_key_id = AK1\naws_access_key_id = AK2\n"
                  "aws_secret_access_key = s3cr3t\n",
                  ":3: [a] aws_access_key_id: duplicate key (first on line 2)",
                  "a duplicate key");
    creds_refused("aws_access_key_id = AK1\n", ":1: aws_access_key_id: key outside any",
                  "a key before any profile");
    creds_refused("[a]\naws_access_key_id = AK-1\naws_secret_access_key = s3cr3t\n",
                  "expected letters and digits", "a key id with a dash");
    creds_refused("[a]\naws_access_key_id = AK1\naws_secret_access_key = s3cr3t\n[a]\n",
                  "duplicate profile [a]", "a duplicate profile");
}

int
main(void)
{
    char err[512], *path = src_path("tests/unit/data/sigv4/credentials");
    struct sigv4_creds *cr;

    log_setup(LOG_TARGET_STDERR, BERTH_LOG_ERROR);
    cr = sigv4_creds_load(path, err, sizeof(err));
    if (!ok(cr != NULL, "the test credentials load"))
        diag("%s", err);
    ok(sigv4_creds_count(cr) == 2, "two profiles");
    if (cr) {
        test_cases(cr);
        test_malformed(cr);
    }
    test_creds_file();

    char hex[65];
    sigv4_sha256_hex("", 0, hex);
    is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "SHA-256 of nothing");
    sigv4_creds_free(cr);
    free(path);
    return done_testing();
}
