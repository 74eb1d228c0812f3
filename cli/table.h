/* table.h: aligned text tables for people.
 *
 * Contract: a table has a header row and rows of the same number of cells
 * (copied).  table_print() pads every column to its widest cell, two spaces
 * apart, and when the whole is wider than opts->width it narrows the widest
 * columns first, none below 12 characters while others are wider, then
 * none below 4; cells (headers included) that no longer fit are cut, the
 * cut marked with an ellipsis ("…", or "~" when not utf8).  Widths count UTF-8 characters, not bytes, so "→" is one
 * column.  Lines end with no blanks.  Cells may carry a colour (an SGR
 * number such as "32"), used only when opts->color is set; colour never
 * counts towards widths. */
#ifndef BERTH_CLI_TABLE_H
#define BERTH_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table;

struct table_opts {
    size_t width; /* the terminal's columns; 0: no limit */
    int utf8;     /* the ellipsis may be "…" */
    int color;    /* emit the cells' colours */
};

struct table *table_new(size_t ncols, const char *const *headers);
/* Appends a row of ncols cells (NULL prints as empty). */
void table_add(struct table *t, const char *const *cells);
/* Colour of a cell of the last row added (NULL: none). */
void table_color(struct table *t, size_t col, const char *sgr);
size_t table_rows(const struct table *t);
void table_print(const struct table *t, const struct table_opts *o, FILE *f);
void table_free(struct table *t);

/* Characters (not bytes) of a UTF-8 string. */
size_t utf8_width(const char *s);

#endif
