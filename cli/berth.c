/* berth.c: the berth command: global options, then the command. */
#include "config.h"

#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"

#define DEFAULT_SOCKET RUNSTATEDIR "/berth/api.sock"

/* Width, charset and colour of stdout: a terminal gets its width and
 * colours; a pipe gets whole lines ($COLUMNS if set) and no colour. */
static void tty_setup(struct table_opts *o)
{
    struct winsize ws;
    const char *cols = getenv("COLUMNS");
    int tty = isatty(STDOUT_FILENO);

    o->width = 0;
    if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        o->width = ws.ws_col;
    else if (cols && atoi(cols) > 0)
        o->width = (size_t)atoi(cols);
    const char *cs = nl_langinfo(CODESET);
    o->utf8 = cs && strcmp(cs, "UTF-8") == 0;
    o->color = tty && !getenv("NO_COLOR");
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    int rc = EXIT_OK, k;

    setlocale(LC_ALL, "");
    tty_setup(&c.tty);
    c.cl.socket = getenv("BERTH_SOCKET");
    if (!c.cl.socket || !*c.cl.socket)
        c.cl.socket = DEFAULT_SOCKET;

    /* "+": global options end at the command, which parses the rest. */
    while ((k = cli_getopt(&c, NULL, argc, argv, "+", NULL, &rc)) != -1)
        if (k == -2)
            return rc;
    if (optind == argc) {
        cli_print_help(NULL);
        return EXIT_USAGE;
    }
    const struct command *cmd = command_find(argv[optind]);
    if (!cmd)
        return cli_usage(NULL, "no command '%s'", argv[optind]);
    argc -= optind;
    argv += optind;
    optind = 0; /* GNU getopt: start again on the command's arguments */
    return cmd->run(&c, argc, argv);
}
