/* sigv4_sign.h: the primitives of AWS Signature Version 4, shared by the
 * agent (which verifies requests to its API, agent/api/sigv4.c) and the
 * CloudWatch plugin (which signs its own requests).  One implementation.
 *
 * Contract
 *   - Canonical request: METHOD \n canonical URI (path normalised: "." ".."
 *     and empty segments removed, each segment URI-encoded) \n canonical
 *     query (pairs decoded, re-encoded the AWS way, sorted by key then
 *     value) \n one "name:value" line per signed header (names lower-case,
 *     values trimmed, repeated headers joined by ",") \n \n signed header
 *     list \n payload hash.
 *   - String to sign: "AWS4-HMAC-SHA256" \n AMZDATE \n DATE/REGION/SERVICE/
 *     aws4_request \n hex SHA-256 of the canonical request.
 *   - Signing key: HMAC chain "AWS4"+secret, date, region, service,
 *     "aws4_request"; the signature is hex HMAC(key, string to sign).
 *   - Returned strings are malloc'ed (caller frees); out of memory aborts.
 *     Intermediate keys are wiped.  No globals, no I/O.
 * Built with -fvisibility=hidden so that a plugin linking it exports
 * nothing more. */
#ifndef BERTH_SIGV4_SIGN_H
#define BERTH_SIGV4_SIGN_H

#include <stddef.h>
#include <time.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

struct sigv4_header {
    const char *name; /* any case; compared case-insensitively */
    const char *value;
};

/* Lower-case hex SHA-256 of data (out: 65 bytes, NUL-terminated). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

void sigv4_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                       unsigned char out[32]);

/* The key for DATE (YYYYMMDD)/REGION/SERVICE. */
void sigv4_signing_key(const char *secret, const char *date, const char *region,
                       const char *service, unsigned char out[32]);

/* path: the request target's path part (n bytes, no '?'); query: the text
 * after '?', or NULL.  signed_headers: "a;b;c" (lower-case, sorted); each
 * is looked up in headers[0..n). */
char *sigv4_canonical_request(const char *method, const char *path, size_t path_len,
                              const char *query, const struct sigv4_header *headers,
                              size_t n, const char *signed_headers,
                              const char *payload_hash);

char *sigv4_string_to_sign(const char *amz_date, const char *date, const char *region,
                           const char *service, const char *canonical_request);

/* Hex HMAC(key, string_to_sign) into out (65 bytes). */
void sigv4_signature(const unsigned char key[32], const char *string_to_sign,
                     char out[65]);

/* "YYYYMMDDTHHMMSSZ" of t (out: 17 bytes). */
void sigv4_amz_date(time_t t, char out[17]);

/* Client side, all in one: signs a request whose headers are already
 * chosen (they must include host and x-amz-date = amz_date of now) and
 * returns the value of its Authorization header.  Every header given is
 * signed. */
char *sigv4_authorization(const char *method, const char *path, const char *query,
                          const struct sigv4_header *headers, size_t n,
                          const void *body, size_t body_len, const char *key_id,
                          const char *secret, const char *region, const char *service,
                          const char *amz_date);

#endif
