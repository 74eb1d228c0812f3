/* tap.h: a minimal TAP producer for the unit tests (automake's tap-driver).
 * ok() records one test point; diag() writes a comment; done_testing()
 * prints the plan and returns the exit status. */
#ifndef BERTH_TAP_H
#define BERTH_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static int
ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_n++;
    if (!cond)
        tap_failed++;
    printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

__attribute__((format(printf, 1, 2), unused)) static void
diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* ok() that also shows both strings when they differ. */
#define is_str(got, want, ...)                                               \
    do {                                                                     \
        const char *g_ = (got), *w_ = (want);                                \
        if (!ok(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_, __VA_ARGS__))     \
            diag("  got: %s\n#  want: %s", g_ ? g_ : "(null)",               \
                 w_ ? w_ : "(null)");                                        \
    } while (0)

/* ok() that checks that haystack contains needle. */
#define like(hay, needle, ...)                                               \
    do {                                                                     \
        const char *h_ = (hay), *n_ = (needle);                              \
        if (!ok(h_ && strstr(h_, n_) != NULL, __VA_ARGS__))                  \
            diag("  got: %s\n#  expected to contain: %s",                    \
                 h_ ? h_ : "(null)", n_);                                    \
    } while (0)

__attribute__((unused)) static int
done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
