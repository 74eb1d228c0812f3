/* cli.h: what the berth command's parts share: the global options, the
 * API call that prints its own errors, formatting helpers and the commands.
 *
 * Exit codes (every command): EXIT_OK 0; EXIT_FAIL 1 (the API refused, a
 * task stopped with an error under --wait, a deployment failed or timed
 * out, berthd unreachable); EXIT_USAGE 2 (bad command line or input file).
 *
 * Options: each command parses its own with cli_getopt(), which also
 * accepts the global options anywhere on the line and answers --help. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <getopt.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "cli/client.h"
#include "cli/table.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
    struct client cl;
    int json;               /* --json: the API's JSON, pretty */
    struct table_opts tty;  /* width, utf8, colour of stdout */
};

struct command {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
    const char *summary; /* one line for `berth help` */
    const char *help;    /* the full text of `berth CMD --help` */
};
extern const struct command commands[];
const struct command *command_find(const char *name);

/* ---- option parsing ---- */
enum {
    OPT_HELP = 'h',
    OPT_SOCKET = 1000,
    OPT_CLUSTER,
    OPT_JSON,
    OPT_NO_COLOR,
    OPT_VERSION,
};
/* Like getopt_long on the command's options plus the global ones (which
 * it applies to c).  Returns the command's option, -1 at the end (optind:
 * first operand), or -2 after printing a usage error or the help (then
 * *exit_code is 2 or 0). */
int cli_getopt(struct cli *c, const struct command *cmd, int argc, char **argv,
               const char *shortopts, const struct option *longopts, int *exit_code);
int cli_usage(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_print_help(const struct command *cmd);

/* ---- the API ---- */
/* 0 with *out, or EXIT_FAIL after printing the error (input taken). */
int cli_call(struct cli *c, const char *action, cJSON *input, cJSON **out);
/* Every page of a List action (input copied for each, nextToken added),
 * merged into one object {key: [...]} in *merged; EXIT_FAIL as cli_call. */
int cli_list_all(struct cli *c, const char *action, const cJSON *input, const char *key,
                 cJSON **merged);
/* Pretty JSON on stdout. */
void cli_print_json(const cJSON *j);
/* Registers the task definition in FILE; its ARN in *arn (malloc'd).
 * EXIT_USAGE when the file cannot be read or is not a JSON object. */
int cli_register_file(struct cli *c, const char *file, char **arn);
/* A FILE operand rather than FAMILY[:REV]: it names an existing file, or
 * holds a '/' or ends with ".json". */
int cli_is_file(const char *arg);

/* ---- formatting ---- */
const char *jstr(const cJSON *o, const char *key); /* NULL when absent */
long jlong(const cJSON *o, const char *key, long dflt);
/* The part of an ARN after its last '/': a task's id, "family:rev". */
const char *short_arn(const char *arn);
/* "42s", "5m", "3h", "2d" since an epoch time; "-" when t <= 0. */
void fmt_age(double t, char *buf, size_t n);
/* "2026-11-23 13:02:11" in local time. */
void fmt_time(double t, char *buf, size_t n);
/* The SGR colour of a status word, or NULL. */
const char *status_color(const char *status);
/* D: "90", "90s", "5m", "1h", "1h30m"; -1 when not a duration. */
long parse_duration(const char *s);
/* A whole number in [min, max]; -1 otherwise. */
long parse_count(const char *s, long min, long max);
/* Monotonic seconds. */
double now_mono(void);
void sleep_s(double s);

/* ---- commands ---- */
int cmd_services(struct cli *c, int argc, char **argv);
int cmd_scale(struct cli *c, int argc, char **argv);
int cmd_deploy(struct cli *c, int argc, char **argv);
int cmd_events(struct cli *c, int argc, char **argv);
int cmd_tasks(struct cli *c, int argc, char **argv);
int cmd_run(struct cli *c, int argc, char **argv);
int cmd_stop(struct cli *c, int argc, char **argv);
int cmd_taskdefs(struct cli *c, int argc, char **argv);
int cmd_describe(struct cli *c, int argc, char **argv);
int cmd_help(struct cli *c, int argc, char **argv);

#endif
