/* test_cloudwatch_sign: the shared SigV4 signing core (common/sigv4_sign)
 * against the worked examples of AWS's SigV4 documentation: the key
 * derivation example, the IAM ListUsers request, the "get-vanilla" case;
 * then sigv4_authorization() round-trips through the same primitives. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/sigv4_sign.h"
#include "tests/lib/tap.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static void
hexkey(const unsigned char k[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", k[i]);
}

static void
test_key_derivation(void)
{
    unsigned char k[32];
    char h[65];

    /* "Deriving the signing key": 20120215, us-east-1, iam. */
    sigv4_signing_key(SECRET, "20120215", "us-east-1", "iam", k);
    hexkey(k, h);
    is_str(h, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d",
           "signing key of the documentation's derivation example");
    sigv4_signing_key(SECRET, "20150830", "us-east-1", "iam", k);
    hexkey(k, h);
    is_str(h, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
           "signing key of the ListUsers example");
}

static void
test_list_users(void)
{
    const struct sigv4_header hv[] = {
        {"Host", "iam.amazonaws.com"},
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"X-Amz-Date", "20150830T123600Z"},
    };
    char hash[65], sig[65];
    unsigned char k[32];
    char *cr, *sts;

    sigv4_sha256_hex("", 0, hash);
    cr = sigv4_canonical_request("GET", "/", 1, "Version=2010-05-08&Action=ListUsers",
                                 hv, 3, "content-type;host;x-amz-date", hash);
    is_str(cr, "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
               "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
               "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
               "content-type;host;x-amz-date\n"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "ListUsers: canonical request (query sorted)");
    sigv4_sha256_hex(cr, strlen(cr), hash);
    is_str(hash, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
           "ListUsers: hash of the canonical request");
    sts = sigv4_string_to_sign("20150830T123600Z", "20150830", "us-east-1", "iam", cr);
    is_str(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/"
                "aws4_request\n"
                "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
           "ListUsers: string to sign");
    sigv4_signing_key(SECRET, "20150830", "us-east-1", "iam", k);
    sigv4_signature(k, sts, sig);
    is_str(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
           "ListUsers: signature");
    free(cr);
    free(sts);
}

static void
test_authorization(void)
{
    const struct sigv4_header vanilla[] = {
        {"Host", "example.amazonaws.com"},
        {"X-Amz-Date", "20150830T123600Z"},
    };
    const struct sigv4_header list[] = {
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"X-Amz-Date", "20150830T123600Z"},
        {"host", "iam.amazonaws.com"},
    };
    char *a;

    a = sigv4_authorization("GET", "/", NULL, vanilla, 2, NULL, 0, "AKIDEXAMPLE", SECRET,
                            "us-east-1", "service", "20150830T123600Z");
    is_str(a, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
              "aws4_request, SignedHeaders=host;x-amz-date, Signature="
              "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
           "get-vanilla: Authorization header");
    free(a);
    a = sigv4_authorization("GET", "/", "Action=ListUsers&Version=2010-05-08", list, 3,
                            "", 0, "AKIDEXAMPLE", SECRET, "us-east-1", "iam",
                            "20150830T123600Z");
    like(a, "SignedHeaders=content-type;host;x-amz-date, ",
         "signed headers lower-cased and sorted whatever the order given");
    like(a, "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
         "ListUsers through sigv4_authorization: the documented signature");
    free(a);
    /* A different body changes the signature: the payload is signed. */
    a = sigv4_authorization("GET", "/", "Action=ListUsers&Version=2010-05-08", list, 3,
                            "x", 1, "AKIDEXAMPLE", SECRET, "us-east-1", "iam",
                            "20150830T123600Z");
    ok(a && !strstr(a, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
       "a body changes the signature");
    free(a);
}

static void
test_canonical_forms(void)
{
    const struct sigv4_header hv[] = {
        {"host", "h"}, {"X-Foo", "  a   b  "}, {"x-foo", "c"},
    };
    char *cr = sigv4_canonical_request("POST", "/a/./b/../c//d", 14, "b=2&a=%7e+x&a=1",
                                       hv, 3, "host;x-foo", "HASH");

    is_str(cr, "POST\n/a/c/d\na=1&a=~%20x&b=2\nhost:h\nx-foo:a b,c\n\nhost;x-foo\nHASH",
           "path normalised, query decoded, re-encoded and sorted, values trimmed "
           "and repeated headers joined");
    free(cr);
}

int
main(void)
{
    test_key_derivation();
    test_list_users();
    test_authorization();
    test_canonical_forms();
    return done_testing();
}
