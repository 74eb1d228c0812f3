/* cw_creds.c: one profile of an AWS CLI credentials file; see cw.h.
 * The agent's own reader (agent/api/sigv4.c) loads every profile for
 * verification and links the agent's INI parser, which a plugin cannot:
 * this one reads the few lines of one profile. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"

static char *
trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static void
wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

void
cw_creds_free(struct cw_creds *c)
{
    wipe_free(c->secret);
    wipe_free(c->token);
    free(c->key_id);
    memset(c, 0, sizeof(*c));
}

int
cw_creds_load(const char *path, const char *profile, struct cw_creds *c, char *err,
              size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0, in = 0, found = 0;

    memset(c, 0, sizeof(*c));
    if (!f) {
        snprintf(err, errlen, "credentials-file %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *s = trim(line), *eq, **field;
        lineno++;
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (!end) {
                snprintf(err, errlen, "%s:%d: section header without ']'", path, lineno);
                goto fail;
            }
            *end = '\0';
            in = strcmp(trim(s + 1), profile) == 0;
            found |= in;
            continue;
        }
        if (!in)
            continue;
        if (!(eq = strchr(s, '='))) {
            snprintf(err, errlen, "%s:%d: [%s]: expected key = value", path, lineno,
                     profile);
            goto fail;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (strcmp(key, "aws_access_key_id") == 0)
            field = &c->key_id;
        else if (strcmp(key, "aws_secret_access_key") == 0)
            field = &c->secret;
        else if (strcmp(key, "aws_session_token") == 0)
            field = &c->token;
        else
            continue; /* region, output...: not ours */
        if (!*val) {
            snprintf(err, errlen, "%s:%d: [%s] %s: empty value", path, lineno, profile,
                     key);
            goto fail;
        }
        free(*field);
        if (!(*field = strdup(val)))
            abort();
    }
    fclose(f);
    f = NULL;
    if (!found) {
        snprintf(err, errlen, "credentials-file %s: no profile [%s]", path, profile);
        goto fail;
    }
    if (!c->key_id || !c->secret) {
        snprintf(err, errlen, "credentials-file %s: [%s] needs aws_access_key_id and "
                 "aws_secret_access_key", path, profile);
        goto fail;
    }
    return 0;
fail:
    if (f)
        fclose(f);
    cw_creds_free(c);
    return -1;
}
