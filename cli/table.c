/* table.c: column widths, narrowing to the terminal, clean cuts. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli/table.h"

#define MIN_COL 4
#define COMFORT_COL 12
#define GAP 2

struct cell {
    char *text;
    const char *sgr;
};

struct table {
    size_t ncols, nrows, cap;
    struct cell *cells; /* (nrows + 1) * ncols: row 0 is the header */
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

size_t utf8_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* Bytes of the first `chars` characters of s. */
static size_t utf8_prefix(const char *s, size_t chars)
{
    size_t i = 0;
    while (s[i] && chars > 0) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        chars--;
    }
    return i;
}

struct table *table_new(size_t ncols, const char *const *headers)
{
    struct table *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    t->ncols = ncols;
    table_add(t, headers);
    t->nrows = 0; /* the header is row 0, not counted */
    return t;
}

void table_add(struct table *t, const char *const *cells)
{
    size_t row = t->cells ? t->nrows + 1 : 0;
    if (row + 1 > t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(*t->cells));
    }
    for (size_t c = 0; c < t->ncols; c++) {
        t->cells[row * t->ncols + c].text = xstrdup(cells[c]);
        t->cells[row * t->ncols + c].sgr = NULL;
    }
    if (row > 0)
        t->nrows++;
}

void table_color(struct table *t, size_t col, const char *sgr)
{
    if (t->nrows > 0 && col < t->ncols)
        t->cells[t->nrows * t->ncols + col].sgr = sgr;
}

size_t table_rows(const struct table *t)
{
    return t->nrows;
}

/* Narrows the widest columns, one character at a time, until the row fits:
 * first none below COMFORT_COL (ids and names stay readable, short
 * columns such as statuses keep whole), then none below MIN_COL (headers
 * are cut too). */
static void fit(const struct table *t, size_t *w, size_t width)
{
    static const size_t floors[] = {COMFORT_COL, MIN_COL};
    size_t total = 0;
    for (size_t c = 0; c < t->ncols; c++)
        total += w[c] + (c ? GAP : 0);
    for (size_t pass = 0; pass < 2; pass++)
        while (total > width) {
            size_t best = t->ncols;
            for (size_t c = 0; c < t->ncols; c++)
                if (w[c] > floors[pass] && (best == t->ncols || w[c] > w[best]))
                    best = c;
            if (best == t->ncols)
                break;
            w[best]--;
            total--;
        }
}

static void put_cell(const struct cell *cl, size_t w, int last, const struct table_opts *o,
                     FILE *f)
{
    size_t len = utf8_width(cl->text);
    int color = o->color && cl->sgr;

    if (color)
        fprintf(f, "\033[%sm", cl->sgr);
    if (len <= w) {
        fputs(cl->text, f);
    } else {
        fwrite(cl->text, 1, utf8_prefix(cl->text, w - 1), f);
        fputs(o->utf8 ? "\xe2\x80\xa6" : "~", f);
        len = w;
    }
    if (color)
        fputs("\033[0m", f);
    if (!last)
        fprintf(f, "%*s", (int)(w - len + GAP), "");
}

void table_print(const struct table *t, const struct table_opts *o, FILE *f)
{
    size_t *w = calloc(t->ncols, sizeof(*w));
    if (!w)
        abort();
    for (size_t r = 0; r <= t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t l = utf8_width(t->cells[r * t->ncols + c].text);
            if (l > w[c])
                w[c] = l;
        }
    if (o->width)
        fit(t, w, o->width);
    for (size_t r = 0; r <= t->nrows; r++) {
        const struct cell *row = &t->cells[r * t->ncols];
        size_t end = t->ncols; /* empty cells at the end: no trailing blanks */
        while (end > 1 && !row[end - 1].text[0])
            end--;
        for (size_t c = 0; c < end; c++)
            put_cell(&row[c], w[c], c + 1 == end, o, f);
        fputc('\n', f);
    }
    free(w);
}

void table_free(struct table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
        free(t->cells[i].text);
    free(t->cells);
    free(t);
}
