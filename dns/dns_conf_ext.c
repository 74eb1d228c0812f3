/* dns_conf_ext.c: [dns] through agent/conf.c's conf_ext hook (kept apart
 * from dns_conf.c so that the fuzz target and the bench need no conf.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/options.h"
#include "dns/dns_conf.h"

static int ext_owns(const char *s)
{
    return strcmp(s, "dns") == 0 || strncmp(s, "dns ", 4) == 0;
}

static void *ext_create(void)
{
    struct conf_dns *d = calloc(1, sizeof *d);
    char err[256];

    if (d && dns_conf_defaults(d, err, sizeof err) < 0) {
        dns_conf_free(d);
        free(d);
        return NULL;
    }
    return d;
}

static void ext_destroy(void *p)
{
    dns_conf_free(p);
    free(p);
}

static int ext_section(void *p, const char *sect, int line, const char *path,
                       struct conf_errors *errs)
{
    struct conf_dns *d = p;

    if (sect[3]) {
        conf_error_at(errs, path, line, NULL, NULL, "section [%s]: [dns] takes no name", sect);
        return 1;
    }
    if (d->line) {
        conf_error_at(errs, path, line, NULL, NULL, "duplicate section [dns] (first on line %d)",
                      d->line);
        return 1;
    }
    d->line = line;
    return 0;
}

static int ext_entry(void *p, const char *sect, const char *key, const char *value, int line,
                     const char *path, struct conf_errors *errs)
{
    struct conf_dns *d = p;
    const struct berth_option *o = options_find(conf_dns_options, key);
    char err[512];

    if (!o) {
        size_t n = 0;
        err[0] = '\0';
        for (o = conf_dns_options; o->name && n < sizeof err; o++)
            n += (size_t)snprintf(err + n, sizeof err - n, "%s%s", n ? ", " : "", o->name);
        conf_error_at(errs, path, line, sect, key, "unknown key; valid keys: %s", err);
        return 1;
    }
    size_t i = (size_t)(o - conf_dns_options);
    if (d->key_line[i]) {
        conf_error_at(errs, path, line, sect, key, "duplicate key (first on line %d)",
                      d->key_line[i]);
        return 1;
    }
    d->key_line[i] = line;
    if (dns_conf_set(d, key, value, err, sizeof err) < 0) {
        conf_error_at(errs, path, line, sect, key, "%s", err);
        return 1;
    }
    return 0;
}

static int ext_finish(void *p, const char *path, struct conf_errors *errs)
{
    struct conf_dns *d = p;
    char err[512];

    if (dns_conf_finish(d, err, sizeof err) == 0)
        return 0;
    int line = d->task_resolver && !d->enabled ? d->key_line[12]
               : d->key_line[0]                ? d->key_line[0]
                                               : d->line;
    conf_error_at(errs, path, line, "dns", NULL, "%s", err);
    return 1;
}

static const struct conf_ext dns_ext = {
    .hint = "[dns]",
    .owns = ext_owns,
    .create = ext_create,
    .section = ext_section,
    .entry = ext_entry,
    .finish = ext_finish,
    .destroy = ext_destroy,
};

void dns_conf_register(void)
{
    conf_register_ext(&dns_ext);
}

const struct conf_dns *dns_conf_of(const struct conf *c)
{
    return conf_ext_state(c, &dns_ext);
}
