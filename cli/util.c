/* util.c: option parsing shared by the commands, the API call that prints
 * its errors, and small formatting helpers. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"

static const struct option global_opts[] = {
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"cluster", required_argument, NULL, OPT_CLUSTER},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int cli_usage(const struct command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "berth%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'berth %s%s--help'.\n", cmd ? cmd->name : "", cmd ? " " : "");
    return EXIT_USAGE;
}

int cli_getopt(struct cli *c, const struct command *cmd, int argc, char **argv,
               const char *shortopts, const struct option *longopts, int *exit_code)
{
    struct option all[40];
    char so[64];
    size_t n = 0;

    for (const struct option *o = longopts; o && o->name && n < 32; o++)
        all[n++] = *o;
    for (const struct option *o = global_opts; o->name; o++)
        all[n++] = *o;
    all[n] = (struct option){NULL, 0, NULL, 0};
    /* '+' (stop at the first operand) must come first, then ':' (tell a
     * missing value from an unknown option). */
    if (!shortopts)
        shortopts = "";
    snprintf(so, sizeof(so), "%s:%sh", *shortopts == '+' ? "+" : "",
             shortopts + (*shortopts == '+'));
    opterr = 0;
    for (;;) {
        int k = getopt_long(argc, argv, so, all, NULL);
        switch (k) {
        case -1:
            return -1;
        case OPT_HELP:
            cli_print_help(cmd);
            *exit_code = EXIT_OK;
            return -2;
        case OPT_VERSION:
            printf("berth %s\n", PACKAGE_VERSION);
            *exit_code = EXIT_OK;
            return -2;
        case OPT_SOCKET:
            c->cl.socket = optarg;
            break;
        case OPT_CLUSTER:
            c->cl.cluster = optarg;
            break;
        case OPT_JSON:
            c->json = 1;
            break;
        case OPT_NO_COLOR:
            c->tty.color = 0;
            break;
        case ':':
            if (optopt && optopt < 256)
                *exit_code = cli_usage(cmd, "option '-%c' needs a value", optopt);
            else
                *exit_code = cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
            return -2;
        case '?':
            if (optopt && optopt < 256)
                *exit_code = cli_usage(cmd, "unknown option '-%c'", optopt);
            else
                *exit_code = cli_usage(cmd, "unknown option '%s'", argv[optind - 1]);
            return -2;
        default:
            return k;
        }
    }
}

int cli_call(struct cli *c, const char *action, cJSON *input, cJSON **out)
{
    struct client_err err = {0};
    if (client_call(&c->cl, action, input, out, &err) == CLIENT_OK)
        return 0;
    client_err_print(&err);
    client_err_clear(&err);
    return EXIT_FAIL;
}

int cli_list_all(struct cli *c, const char *action, const cJSON *input, const char *key,
                 cJSON **merged)
{
    cJSON *all = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(all, key), *out;
    char *token = NULL;
    do {
        cJSON *in = cJSON_Duplicate(input, 1);
        if (token)
            cJSON_AddStringToObject(in, "nextToken", token);
        free(token);
        token = NULL;
        if (cli_call(c, action, in, &out) != 0) {
            cJSON_Delete(all);
            return EXIT_FAIL;
        }
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(out, key))
            cJSON_AddItemToArray(arr, cJSON_Duplicate(a, 0));
        if (jstr(out, "nextToken"))
            token = strdup(jstr(out, "nextToken"));
        cJSON_Delete(out);
    } while (token);
    *merged = all;
    return 0;
}

void cli_print_json(const cJSON *j)
{
    char *s = cJSON_Print(j);
    if (s)
        printf("%s\n", s);
    cJSON_free(s);
}

int cli_is_file(const char *arg)
{
    struct stat st;
    size_t n = strlen(arg);
    return strchr(arg, '/') || (n > 5 && strcmp(arg + n - 5, ".json") == 0) ||
           (stat(arg, &st) == 0 && S_ISREG(st.st_mode));
}

/* Line and column of a byte in text, for JSON errors. */
static void where(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int cli_register_file(struct cli *c, const char *file, char **arn)
{
    FILE *f = fopen(file, "r");
    char *text = NULL;
    size_t len = 0;
    cJSON *in, *out;

    *arn = NULL;
    if (!f) {
        fprintf(stderr, "berth: %s: cannot read the task definition: %s\n", file,
                strerror(errno));
        return EXIT_USAGE;
    }
    FILE *m = open_memstream(&text, &len);
    char buf[8192];
    size_t got;
    while (m && (got = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, got, m);
    int rerr = ferror(f);
    fclose(f);
    if (!m || fclose(m) != 0 || rerr) {
        fprintf(stderr, "berth: %s: cannot read the task definition\n", file);
        free(text);
        return EXIT_USAGE;
    }
    in = cJSON_ParseWithLength(text, len);
    if (!in || !cJSON_IsObject(in)) {
        int line = 0, col = 0;
        if (!in) {
            where(text, cJSON_GetErrorPtr(), &line, &col);
            fprintf(stderr, "berth: %s:%d:%d: not valid JSON\n", file, line, col);
        } else {
            fprintf(stderr, "berth: %s: a task definition must be a JSON object "
                            "(the input of RegisterTaskDefinition)\n", file);
        }
        cJSON_Delete(in);
        free(text);
        return EXIT_USAGE;
    }
    free(text);
    if (cli_call(c, "RegisterTaskDefinition", in, &out) != 0)
        return EXIT_FAIL;
    const char *a = jstr(cJSON_GetObjectItemCaseSensitive(out, "taskDefinition"),
                         "taskDefinitionArn");
    if (a)
        *arn = strdup(a);
    cJSON_Delete(out);
    if (!*arn) {
        fprintf(stderr, "berth: RegisterTaskDefinition answered no taskDefinitionArn\n");
        return EXIT_FAIL;
    }
    if (!c->json)
        fprintf(stderr, "registered %s\n", short_arn(*arn));
    return 0;
}

const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

long jlong(const cJSON *o, const char *key, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : dflt;
}

const char *short_arn(const char *arn)
{
    if (!arn)
        return "-";
    const char *s = strrchr(arn, '/');
    return s ? s + 1 : arn;
}

void fmt_age(double t, char *buf, size_t n)
{
    if (t <= 0) {
        snprintf(buf, n, "-");
        return;
    }
    double d = difftime(time(NULL), (time_t)t);
    long s = d < 0 ? 0 : (long)d;
    if (s < 120)
        snprintf(buf, n, "%lds", s);
    else if (s < 120 * 60)
        snprintf(buf, n, "%ldm", s / 60);
    else if (s < 48 * 3600)
        snprintf(buf, n, "%ldh", s / 3600);
    else
        snprintf(buf, n, "%ldd", s / 86400);
}

void fmt_time(double t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t <= 0 || !localtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, n, "-");
}

const char *status_color(const char *s)
{
    static const struct {
        const char *word, *sgr;
    } map[] = {
        {"RUNNING", "32"}, {"ACTIVE", "32"},     {"COMPLETED", "32"},
        {"HEALTHY", "32"}, {"PRIMARY", "32"},    {"STOPPED", "31"},
        {"FAILED", "31"},  {"UNHEALTHY", "31"},  {"INACTIVE", "2"},
        {"DRAINING", "33"}, {"IN_PROGRESS", "33"}, {"PENDING", "33"},
        {"PROVISIONING", "33"}, {"ACTIVATING", "33"}, {"DEACTIVATING", "33"},
        {"STOPPING", "33"}, {"DEPROVISIONING", "33"},
    };
    for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i].word) == 0)
            return map[i].sgr;
    return NULL;
}

long parse_duration(const char *s)
{
    long total = 0;
    int any = 0;
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 0 || v > 1000000)
            return -1;
        long unit = 1;
        switch (*end) {
        case 'h': unit = 3600; end++; break;
        case 'm': unit = 60; end++; break;
        case 's': end++; break;
        case '\0': break;
        default: return -1;
        }
        total += v * unit;
        any = 1;
        s = end;
    }
    return any ? total : -1;
}

long parse_count(const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return -1;
    return v;
}

double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}
