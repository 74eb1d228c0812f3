/* sigv4.h: AWS Signature Version 4 verification of API requests, and the
 * credentials they are checked against.
 *
 * Contract
 *   - Credentials come from a file in the AWS CLI's credentials format:
 *     "[profile]" sections, each with aws_access_key_id and
 *     aws_secret_access_key (other keys, such as aws_session_token or
 *     region, are allowed and ignored).  Every profile is accepted: the
 *     profile names only organise the file.  sigv4_creds_load() reads it
 *     all or refuses it with "FILE:LINE: [profile] key: what is wrong".
 *     Secrets never appear in messages or logs, and are wiped when freed.
 *   - sigv4_verify() checks the Authorization header of a request the way
 *     AWS does for the JSON services (SigV4 "AWS4-HMAC-SHA256" only; no
 *     presigned query strings): canonical request (normalised and
 *     URI-encoded path, sorted re-encoded query, the signed headers
 *     lower-cased with values trimmed, the SHA-256 of the body; an
 *     x-amz-content-sha256 header, when sent, must be that hash), string
 *     to sign with X-Amz-Date and the scope DATE/REGION/SERVICE/aws4_request,
 *     constant-time comparison of the signatures.  X-Amz-Date must be
 *     within 15 minutes of now; host and x-amz-date must be signed.
 *   - The result is an AWS error type and message as ECS returns them;
 *     key_id receives the access key of a well-formed credential (for the
 *     access log), never the secret.
 *
 * Pure functions apart from sigv4_creds_load (reads a file): no loop, no
 * globals. */
#ifndef BERTH_SIGV4_H
#define BERTH_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "agent/api/http_server.h"
#include "common/sigv4_sign.h"

#define SIGV4_MAX_SKEW 900 /* seconds */

enum sigv4_rc {
    SIGV4_OK = 0,
    SIGV4_MISSING,       /* MissingAuthenticationTokenException */
    SIGV4_UNKNOWN_KEY,   /* UnrecognizedClientException */
    SIGV4_BAD_SIGNATURE, /* InvalidSignatureException */
    SIGV4_EXPIRED,       /* InvalidSignatureException (time skew) */
    SIGV4_MALFORMED,     /* IncompleteSignatureException */
};

struct sigv4_creds;

/* NULL with err on any error. */
struct sigv4_creds *sigv4_creds_load(const char *path, char *err, size_t errlen);
void sigv4_creds_free(struct sigv4_creds *c);
size_t sigv4_creds_count(const struct sigv4_creds *c);

/* region and service: what the credential scope must name (ECS: "ecs").
 * msg receives the message of the AWS error (msglen bytes), key_id the
 * access key the request names (may be NULL). */
enum sigv4_rc sigv4_verify(const struct sigv4_creds *c, const struct http_request *req,
                           const char *region, const char *service, time_t now,
                           char *msg, size_t msglen, char *key_id, size_t key_id_len);

/* The AWS error type of a result ("InvalidSignatureException"...). */
const char *sigv4_error_type(enum sigv4_rc rc);

#endif
