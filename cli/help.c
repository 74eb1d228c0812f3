/* help.c: the command table and every help text (`berth help [CMD]`,
 * `berth CMD --help`).  man/berth.1 says the same at more length; the
 * integration test cli.sh checks that each option it documents for a
 * command appears in that command's help. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define GLOBALS                                                                   \
    "\nGlobal options: --socket PATH, --cluster NAME, --json, --no-color, --help\n" \
    "(see 'berth help').  Exit status: 0 ok, 1 failure, 2 usage error.\n"

const struct command commands[] = {
    {"services", cmd_services, "list services with their counts and rollout state",
     "Usage: berth services [--json]\n"
     "\n"
     "Lists the cluster's services as a table: NAME STATUS DESIRED RUNNING PENDING\n"
     "TASK-DEFINITION ROLLOUT (the rollout state of the PRIMARY deployment).\n"
     "With --json, prints DescribeServices' output for all of them.\n"
     "\n"
     "Example:\n"
     "  berth services\n" GLOBALS},
    {"tasks", cmd_tasks, "list tasks (running, or --stopped)",
     "Usage: berth tasks [--service SERVICE] [--family FAMILY] [--stopped] [--json]\n"
     "\n"
     "Lists tasks as a table: ID TASK-DEFINITION LAST DESIRED HEALTH STARTED PORTS.\n"
     "STARTED is the age of the task; PORTS shows hostPort→containerPort.\n"
     "\n"
     "  --service SERVICE  only the tasks of this service\n"
     "  --family FAMILY    only the tasks of this task definition family\n"
     "  --stopped          the stopped tasks instead of the running ones\n"
     "  --json             DescribeTasks' output for the tasks listed\n"
     "\n"
     "Examples:\n"
     "  berth tasks\n"
     "  berth tasks --service web\n"
     "  berth tasks --stopped --family batch\n" GLOBALS},
    {"taskdefs", cmd_taskdefs, "list task definition families, or a family's revisions",
     "Usage: berth taskdefs [FAMILY] [--json]\n"
     "\n"
     "Without FAMILY, lists the active families with their latest revision.\n"
     "With FAMILY, lists its revisions (family:revision) with their status,\n"
     "ACTIVE or INACTIVE.  With --json: ListTaskDefinitionFamilies' output, or\n"
     "{\"ACTIVE\": ListTaskDefinitions output, \"INACTIVE\": ...} for a family.\n"
     "\n"
     "Examples:\n"
     "  berth taskdefs\n"
     "  berth taskdefs web\n" GLOBALS},
    {"run", cmd_run, "run tasks from a task definition file or FAMILY[:REV]",
     "Usage: berth run FILE|FAMILY[:REV] [--count N] [--wait] [--json]\n"
     "\n"
     "Runs N tasks (1 to 10) of a task definition.  FILE holds a task definition\n"
     "as register-task-definition JSON: it is registered first, then run.\n"
     "\n"
     "  --count N   how many tasks to run (default 1)\n"
     "  --wait      follow the tasks until each is RUNNING or STOPPED; exit 1 if\n"
     "              one stopped with an error (failed to start, or a container\n"
     "              exited non-zero)\n"
     "  --json      RunTask's output (with --wait, DescribeTasks' at the end)\n"
     "\n"
     "Examples:\n"
     "  berth run web.json --wait\n"
     "  berth run web:3 --count 2\n" GLOBALS},
    {"stop", cmd_stop, "stop a task",
     "Usage: berth stop TASK [--reason TEXT] [--json]\n"
     "\n"
     "Stops a task, given by its id or ARN.\n"
     "\n"
     "  --reason TEXT  why, shown later as the task's stoppedReason\n"
     "  --json         StopTask's output\n"
     "\n"
     "Example:\n"
     "  berth stop 0123456789abcdef0123456789abcdef --reason 'stuck'\n" GLOBALS},
    {"scale", cmd_scale, "set a service's desired count",
     "Usage: berth scale SERVICE N [--json]\n"
     "\n"
     "Sets the desired count of SERVICE to N (UpdateService desiredCount).\n"
     "With --json, prints UpdateService's output.\n"
     "\n"
     "Example:\n"
     "  berth scale web 3\n" GLOBALS},
    {"deploy", cmd_deploy, "deploy a new revision and follow it to the end",
     "Usage: berth deploy SERVICE [FILE|FAMILY[:REV]] [--force] [--no-follow]\n"
     "                    [--timeout D] [--json]\n"
     "\n"
     "Starts a deployment of SERVICE (UpdateService): with FILE, the task\n"
     "definition in it is registered first; with FAMILY[:REV], that one;\n"
     "with neither, the latest active revision of the family the service\n"
     "runs; with --force alone, the same definition again.  When nothing\n"
     "changes (no new deployment), it says so and exits 0.  Else it follows the\n"
     "deployment, printing a line when its counts change and each new service\n"
     "event, until it is COMPLETED (exit 0), FAILED (prints the reason, exit 1)\n"
     "or the timeout passes (exit 1).\n"
     "\n"
     "  --force      force a new deployment (forceNewDeployment)\n"
     "  --no-follow  return once the deployment has started\n"
     "  --timeout D  give up following after D (90s, 10m, 1h; default 30m;\n"
     "               0: no limit)\n"
     "  --json       progress goes to stderr; DescribeServices' last output\n"
     "               (UpdateService's with --no-follow) to stdout\n"
     "\n"
     "Examples:\n"
     "  berth deploy web web.json\n"
     "  berth deploy web web:4 --timeout 5m\n"
     "  berth deploy web                 # the family's latest revision\n"
     "  berth deploy web --force --no-follow\n" GLOBALS},
    {"events", cmd_events, "show a service's events",
     "Usage: berth events SERVICE [-n N] [--follow] [--json]\n"
     "\n"
     "Prints the service's latest events, oldest first, with their time.\n"
     "\n"
     "  -n N, --lines N  how many (default 20; the API keeps the last 100)\n"
     "  --follow         keep printing new events until interrupted\n"
     "  --json           {\"events\": [...]} as DescribeServices gives them;\n"
     "                   with --follow, one event object per line\n"
     "\n"
     "Examples:\n"
     "  berth events web -n 5\n"
     "  berth events web --follow\n" GLOBALS},
    {"describe", cmd_describe, "show one task, service or task definition",
     "Usage: berth describe task|service|taskdef REF [--json]\n"
     "\n"
     "Shows everything the API says about one object as indented key: value\n"
     "lines (times as dates).  REF is a task id or ARN, a service name or ARN,\n"
     "or a task definition FAMILY[:REV] or ARN.  With --json, the output of\n"
     "DescribeTasks, DescribeServices or DescribeTaskDefinition.\n"
     "\n"
     "Examples:\n"
     "  berth describe task 0123456789abcdef0123456789abcdef\n"
     "  berth describe taskdef web:2\n" GLOBALS},
    {"help", cmd_help, "show help on berth or one command",
     "Usage: berth help [COMMAND]\n"
     "\n"
     "Shows the general help, or a command's (the same as berth COMMAND --help).\n"
     "\n"
     "Example:\n"
     "  berth help deploy\n" GLOBALS},
    {NULL, NULL, NULL, NULL},
};

static const char general[] =
    "Usage: berth [GLOBAL OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "The command line of Berth: talks to berthd's ECS API on its unix socket.\n"
    "\n"
    "Commands:\n";

static const char general_end[] =
    "\n"
    "Global options (before or after the command):\n"
    "  --socket PATH  berthd's API socket (default: $BERTH_SOCKET, else\n"
    "                 " RUNSTATEDIR "/berth/api.sock)\n"
    "  --cluster NAME the cluster to address (default: the agent's own)\n"
    "  --json         print the API's JSON, pretty, for scripts\n"
    "  --no-color     no colours (they are used only on a terminal, and never\n"
    "                 when NO_COLOR is set)\n"
    "  --version      print berth's version\n"
    "  -h, --help     this help, or a command's with the command\n"
    "\n"
    "Exit status: 0 ok; 1 the API refused, a task or deployment failed, or\n"
    "berthd could not be reached; 2 usage error.\n"
    "\n"
    "Examples:\n"
    "  berth tasks\n"
    "  berth run web.json --wait\n"
    "  berth deploy web web.json\n"
    "  BERTH_SOCKET=/tmp/api.sock berth services --json\n"
    "\n"
    "'berth help COMMAND' or 'berth COMMAND --help' shows a command's help;\n"
    "man berth has the rest.\n";

const struct command *command_find(const char *name)
{
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

void cli_print_help(const struct command *cmd)
{
    if (cmd) {
        fputs(cmd->help, stdout);
        return;
    }
    fputs(general, stdout);
    for (const struct command *c = commands; c->name; c++)
        printf("  %-9s %s\n", c->name, c->summary);
    fputs(general_end, stdout);
}

int cmd_help(struct cli *c, int argc, char **argv)
{
    int rc = EXIT_OK, k;
    const struct command *self = command_find("help");
    while ((k = cli_getopt(c, self, argc, argv, "", NULL, &rc)) != -1)
        if (k == -2)
            return rc;
    if (optind < argc - 1)
        return cli_usage(self, "one command at most");
    if (optind == argc) {
        cli_print_help(NULL);
        return EXIT_OK;
    }
    const struct command *cmd = command_find(argv[optind]);
    if (!cmd)
        return cli_usage(self, "no command '%s'", argv[optind]);
    cli_print_help(cmd);
    return EXIT_OK;
}
