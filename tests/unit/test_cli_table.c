/* test_cli_table.c: the berth command's tables: alignment, UTF-8 widths,
 * narrowing to a width with clean cuts, colours that do not count. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"
#include "tests/lib/tap.h"

static const char *const head[] = {"ID", "TASK-DEFINITION", "LAST", "PORTS"};

static char *render(const struct table *t, size_t width, int utf8, int color)
{
    struct table_opts o = {width, utf8, color};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    table_print(t, &o, f);
    fclose(f);
    return buf;
}

static struct table *sample(void)
{
    struct table *t = table_new(4, head);
    const char *r1[] = {"0123456789abcdef0123456789abcdef", "web:12", "RUNNING",
                        "46000\xe2\x86\x92" "8080"};
    const char *r2[] = {"fedcba9876543210fedcba9876543210", "batch:3", "STOPPED", NULL};
    table_add(t, r1);
    table_color(t, 2, "32");
    table_add(t, r2);
    table_color(t, 2, "31");
    return t;
}

int main(void)
{
    struct table *t = sample();
    char *s;

    ok(table_rows(t) == 2, "two rows (the header not counted)");
    ok(utf8_width("46000\xe2\x86\x92" "8080") == 10, "→ counts as one column");
    ok(utf8_width("") == 0, "the empty string is 0 wide");

    s = render(t, 0, 1, 0);
    is_str(s,
           "ID                                TASK-DEFINITION  LAST     PORTS\n"
           "0123456789abcdef0123456789abcdef  web:12           RUNNING  46000\xe2\x86\x92" "8080\n"
           "fedcba9876543210fedcba9876543210  batch:3          STOPPED\n",
           "no width limit: columns padded to the widest cell, two spaces apart");
    free(s);

    s = render(t, 200, 1, 0);
    like(s, "0123456789abcdef0123456789abcdef  web:12", "a wide terminal cuts nothing");
    free(s);

    /* 32+15+7+10 + 6 = 70: at 60, the id column loses 10 first. */
    s = render(t, 60, 1, 0);
    is_str(s,
           "ID                      TASK-DEFINITION  LAST     PORTS\n"
           "0123456789abcdef01234\xe2\x80\xa6  web:12           RUNNING  46000\xe2\x86\x92" "8080\n"
           "fedcba9876543210fedcb\xe2\x80\xa6  batch:3          STOPPED\n",
           "at 60 columns the widest column is narrowed and cut with an ellipsis");
    free(s);

    /* 12 each for the wide ones (12+12+7+10+6 = 47), then down towards 4. */
    s = render(t, 47, 0, 0);
    is_str(s,
           "ID            TASK-DEFINI~  LAST     PORTS\n"
           "0123456789a~  web:12        RUNNING  46000\xe2\x86\x92" "8080\n"
           "fedcba98765~  batch:3       STOPPED\n",
           "without UTF-8 the cut is marked with ~ and headers are cut too");
    free(s);

    s = render(t, 20, 1, 0);
    char *line = s, *nl;
    int all_fit = 1;
    while ((nl = strchr(line, '\n'))) {
        *nl = '\0';
        if (utf8_width(line) > 4 * 4 + 6)
            all_fit = 0;
        line = nl + 1;
    }
    ok(all_fit, "too narrow a width: every column stops at 4 characters");
    free(s);

    s = render(t, 0, 1, 1);
    like(s, "\033[32mRUNNING\033[0m  46000", "colour wraps the cell, padding outside");
    like(s, "\033[31mSTOPPED\033[0m\n", "each cell its own colour; no blanks end a line");
    ok(strstr(s, "\033[32mLAST") == NULL, "the header has no colour");
    free(s);
    s = render(t, 0, 1, 0);
    ok(strchr(s, '\033') == NULL, "no escape without colour");
    free(s);
    table_free(t);

    const char *h1[] = {"A"};
    t = table_new(1, h1);
    s = render(t, 10, 1, 0);
    is_str(s, "A\n", "an empty table prints its header");
    free(s);
    table_free(t);
    table_free(NULL);
    return done_testing();
}
