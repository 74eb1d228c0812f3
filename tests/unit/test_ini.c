/* test_ini.c: the INI lexer (agent/ini.c): syntax, quoting, errors, files. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/ini.h"
#include "tests/lib/tap.h"

/* Every callback appends a line to a transcript:
 *   S 3 [plugin x]     section header on line 3
 *   E 4 [agent] k=<v>  entry (value between < >)
 *   X 5 message        syntax error */
static char log_buf[256 * 1024];

static void append(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void append(const char *fmt, ...)
{
    size_t n = strlen(log_buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(log_buf + n, sizeof log_buf - n, fmt, ap);
    va_end(ap);
}

static void on_section(void *arg, const char *name, int line)
{
    (void)arg;
    append("S %d [%s]\n", line, name);
}

static void on_entry(void *arg, const char *section, const char *key,
                     const char *value, int line)
{
    (void)arg;
    append("E %d [%s] %s=<%s>\n", line, section, key, value);
}

static void on_error(void *arg, int line, const char *msg)
{
    (void)arg;
    append("X %d %s\n", line, msg);
}

static const struct ini_handler handler = {on_section, on_entry, on_error};

static int parse(const char *text)
{
    log_buf[0] = '\0';
    return ini_parse_string(text, &handler, NULL);
}

static void parses(const char *name, const char *text, const char *want)
{
    int r = parse(text);
    ok(r == 0, "%s: no syntax error", name);
    is_str(log_buf, want, "%s: events", name);
}

static void fails(const char *name, const char *text, const char *want)
{
    int r = parse(text);
    ok(r == -1, "%s: syntax error reported", name);
    is_str(log_buf, want, "%s: events", name);
}

static void test_basics(void)
{
    parses("empty text", "", "");
    parses("blank lines and comments",
           "\n   \n\t\n# a comment\n  ; another\n#[agent]\n", "");
    parses("one section, two keys",
           "[agent]\ncluster = prod\nregion=eu-west-1\n",
           "S 1 [agent]\n"
           "E 2 [agent] cluster=<prod>\n"
           "E 3 [agent] region=<eu-west-1>\n");
    parses("entry before any section has section \"\"",
           "a = 1\n[s]\nb = 2\n",
           "E 1 [] a=<1>\nS 2 [s]\nE 3 [s] b=<2>\n");
    parses("indented lines",
           "  [agent]  \n\tkey\t=\tvalue\t\n",
           "S 1 [agent]\nE 2 [agent] key=<value>\n");
    parses("section names are normalised",
           "[ plugin   example ]\n[plugin\tx]\n",
           "S 1 [plugin example]\nS 2 [plugin x]\n");
    parses("header followed by a comment",
           "[agent] # the agent\n[b] ; b\n",
           "S 1 [agent]\nS 2 [b]\n");
    parses("key characters", "[s]\na.b_c-D9 = x\n",
           "S 1 [s]\nE 2 [s] a.b_c-D9=<x>\n");
    parses("empty value", "[s]\nk =\nl = \t\n",
           "S 1 [s]\nE 2 [s] k=<>\nE 3 [s] l=<>\n");
    parses("value keeps inner spaces and '='",
           "[s]\nk = a b  c=d\n",
           "S 1 [s]\nE 2 [s] k=<a b  c=d>\n");
    parses("line numbers count blank and comment lines",
           "\n# c\n\n[s]\n\n\nk = v\n",
           "S 4 [s]\nE 7 [s] k=<v>\n");
    parses("the same key twice is passed on (the caller decides)",
           "[s]\nk = 1\nk = 2\n",
           "S 1 [s]\nE 2 [s] k=<1>\nE 3 [s] k=<2>\n");
}

static void test_comments(void)
{
    parses("trailing comments after a blank",
           "[s]\na = 1 # one\nb = 2 ; two\nc = 3\t# three\n",
           "S 1 [s]\nE 2 [s] a=<1>\nE 3 [s] b=<2>\nE 4 [s] c=<3>\n");
    parses("'#' and ';' without a blank before them are kept",
           "[s]\nurl = http://h/p#frag\nx = a;b\n",
           "S 1 [s]\nE 2 [s] url=<http://h/p#frag>\nE 3 [s] x=<a;b>\n");
    parses("a value that is only a comment is empty",
           "[s]\nk = # nothing\n",
           "S 1 [s]\nE 2 [s] k=<>\n");
    parses("'#' right after '=' is part of the value",
           "[s]\nk =#x\n",
           "S 1 [s]\nE 2 [s] k=<#x>\n");
}

static void test_quotes(void)
{
    parses("quoted value keeps spaces and '#'",
           "[s]\nk = \"  a # b ; c  \"\n",
           "S 1 [s]\nE 2 [s] k=<  a # b ; c  >\n");
    parses("escapes in quotes",
           "[s]\nk = \"q\\\"b\\\\s\\tt\\nn\"\n",
           "S 1 [s]\nE 2 [s] k=<q\"b\\s\tt\nn>\n");
    parses("empty quoted value", "[s]\nk = \"\"\n", "S 1 [s]\nE 2 [s] k=<>\n");
    parses("comment after a closing quote",
           "[s]\nk = \"v\" # c\nl = \"w\"   \n",
           "S 1 [s]\nE 2 [s] k=<v>\nE 3 [s] l=<w>\n");
    parses("quotes inside an unquoted value are literal",
           "[s]\nk = say \"hi\"\n",
           "S 1 [s]\nE 2 [s] k=<say \"hi\">\n");
    fails("unterminated quote",
          "[s]\nk = \"abc\nl = 2\n",
          "S 1 [s]\nX 2 unterminated quote: expected a closing '\"'\n"
          "E 3 [s] l=<2>\n");
    fails("backslash at the end of a quoted value",
          "[s]\nk = \"abc\\\n",
          "S 1 [s]\nX 2 unterminated quote: expected a closing '\"'\n");
    fails("text after the closing quote",
          "[s]\nk = \"a\" b\n",
          "S 1 [s]\nX 2 unexpected text after the closing quote: \"b\"\n");
    fails("unknown escape",
          "[s]\nk = \"a\\qb\"\n",
          "S 1 [s]\nX 2 unknown escape '\\q' in quotes: expected \\\\, \\\", "
          "\\n or \\t\n");
}

static void test_errors(void)
{
    fails("missing ']'", "[agent\nk = v\n",
          "X 1 missing ']'\n");
    fails("no '='", "[s]\njust words\n",
          "S 1 [s]\nX 2 expected 'key = value', '[section]' or a comment, "
          "got \"just words\"\n");
    fails("empty key", "[s]\n= v\n  = w\n",
          "S 1 [s]\nX 2 expected a key before '='\nX 3 expected a key before '='\n");
    fails("invalid key characters", "[s]\nmy key = v\nk$ = 1\nkéy = 2\n",
          "S 1 [s]\n"
          "X 2 invalid key \"my key\": expected letters, digits, '_', '.' or '-'\n"
          "X 3 invalid key \"k$\": expected letters, digits, '_', '.' or '-'\n"
          "X 4 invalid key \"k\xc3\xa9y\": expected letters, digits, '_', '.' or '-'\n");
    fails("empty section name", "[]\n[  ]\n",
          "X 1 empty section name\nX 2 empty section name\n");
    fails("bad section name", "[plugin x/y]\n[a=b]\n",
          "X 1 invalid section name [plugin x/y]: expected words of letters, "
          "digits, '_', '.' or '-'\n"
          "X 2 invalid section name [a=b]: expected words of letters, "
          "digits, '_', '.' or '-'\n");
    fails("text after ']'", "[agent] x\n",
          "X 1 unexpected text after ']'\n");
    fails("nested brackets", "[[agent]]\n",
          "X 1 unexpected text after ']'\n");

    /* Entries after a broken header are checked but not delivered. */
    fails("entries after a broken header go nowhere",
          "[good]\na = 1\n[bad\nb = 2\nbroken line\n[good2]\nc = 3\n",
          "S 1 [good]\nE 2 [good] a=<1>\nX 3 missing ']'\n"
          "X 5 expected 'key = value', '[section]' or a comment, "
          "got \"broken line\"\n"
          "S 6 [good2]\nE 7 [good2] c=<3>\n");

    fails("every error is reported and parsing goes on",
          "[agent\n[s]\nnope\n= 1\nk = \"open\nok = yes\n[x]]\n",
          "X 1 missing ']'\nS 2 [s]\n"
          "X 3 expected 'key = value', '[section]' or a comment, got \"nope\"\n"
          "X 4 expected a key before '='\n"
          "X 5 unterminated quote: expected a closing '\"'\n"
          "E 6 [s] ok=<yes>\n"
          "X 7 unexpected text after ']'\n");
}

static void test_line_ends(void)
{
    parses("CRLF line ends",
           "[agent]\r\ncluster = prod\r\n\r\n# c\r\nk = \"q\"\r\n",
           "S 1 [agent]\nE 2 [agent] cluster=<prod>\nE 5 [agent] k=<q>\n");
    parses("a last line without a newline",
           "[s]\nk = v",
           "S 1 [s]\nE 2 [s] k=<v>\n");
    parses("a last header without a newline", "[s]", "S 1 [s]\n");
    parses("a last CRLF line without a newline... but with CR",
           "[s]\r\nk = v\r",
           "S 1 [s]\nE 2 [s] k=<v>\n");
    parses("a UTF-8 BOM at the start",
           "\xef\xbb\xbf[agent]\nk = v\n",
           "S 1 [agent]\nE 2 [agent] k=<v>\n");
    parses("BOM and CRLF together",
           "\xef\xbb\xbf[agent]\r\nk = v\r\n",
           "S 1 [agent]\nE 2 [agent] k=<v>\n");
    fails("a BOM elsewhere is not skipped",
          "[s]\n\xef\xbb\xbfk = v\n",
          "S 1 [s]\nX 2 invalid key \"\xef\xbb\xbfk\": expected letters, "
          "digits, '_', '.' or '-'\n");
    parses("UTF-8 in values is kept", "[s]\nk = caf\xc3\xa9\n",
           "S 1 [s]\nE 2 [s] k=<caf\xc3\xa9>\n");
}

static void test_null_handlers(void)
{
    struct ini_handler none = {NULL, NULL, NULL};
    ok(ini_parse_string("[s]\nk = v\n", &none, NULL) == 0,
       "NULL callbacks are allowed (good text)");
    ok(ini_parse_string("[s\n", &none, NULL) == -1,
       "NULL callbacks are allowed (bad text still returns -1)");
}

static char *write_temp(const char *content, size_t len)
{
    char *path = strdup("/tmp/test_ini.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, content, len) != (ssize_t)len) {
        diag("cannot write a temp file");
        return path;
    }
    close(fd);
    return path;
}

static void test_files(void)
{
    char err[512];
    int r;

    strcpy(err, "junk");
    log_buf[0] = '\0';
    r = ini_parse_file("/nonexistent/dir/berth.conf", &handler, NULL, err,
                       sizeof err);
    ok(r == -1, "a missing file fails");
    is_str(err, "cannot open /nonexistent/dir/berth.conf: No such file or "
                "directory", "missing file message");
    is_str(log_buf, "", "no error callback for an unreadable file");

    r = ini_parse_file("/tmp", &handler, NULL, err, sizeof err);
    ok(r == -1, "a directory is refused");
    is_str(err, "cannot read /tmp: Is a directory", "directory message");

    static const char text[] = "\xef\xbb\xbf[a]\r\nk = v\r\nl = \"w\"";
    char *path = write_temp(text, sizeof text - 1);
    strcpy(err, "junk");
    log_buf[0] = '\0';
    r = ini_parse_file(path, &handler, NULL, err, sizeof err);
    ok(r == 0, "a file with BOM, CRLF and no final newline parses");
    is_str(log_buf, "S 1 [a]\nE 2 [a] k=<v>\nE 3 [a] l=<w>\n", "file events");
    is_str(err, "", "err is empty on success");
    unlink(path);
    free(path);

    static const char bad[] = "[a]\nx\n";
    path = write_temp(bad, sizeof bad - 1);
    strcpy(err, "junk");
    log_buf[0] = '\0';
    r = ini_parse_file(path, &handler, NULL, err, sizeof err);
    ok(r == -1, "a file with a syntax error fails");
    is_str(err, "", "err is empty for a syntax error (the handler got it)");
    like(log_buf, "X 2 expected 'key = value'", "syntax error passed to the handler");
    unlink(path);
    free(path);

    /* A NUL byte cannot hide the rest of a line. */
    static const char nul[] = "[a]\nk = v\0w\nl = 1\n";
    path = write_temp(nul, sizeof nul - 1);
    log_buf[0] = '\0';
    r = ini_parse_file(path, &handler, NULL, err, sizeof err);
    ok(r == -1, "a NUL byte is an error");
    is_str(log_buf, "S 1 [a]\nX 2 unexpected NUL byte\nE 3 [a] l=<1>\n",
           "NUL byte reported on its line, parsing goes on");
    unlink(path);
    free(path);

    path = write_temp("", 0);
    log_buf[0] = '\0';
    ok(ini_parse_file(path, &handler, NULL, err, sizeof err) == 0 &&
           log_buf[0] == '\0', "an empty file parses to nothing");
    unlink(path);
    free(path);

    /* Long lines are fine. */
    size_t big = 100000;
    char *long_text = malloc(big + 32);
    strcpy(long_text, "[a]\nk = ");
    memset(long_text + 8, 'x', big);
    strcpy(long_text + 8 + big, "\nl = 2\n");
    path = write_temp(long_text, strlen(long_text));
    log_buf[0] = '\0';
    r = ini_parse_file(path, &handler, NULL, err, sizeof err);
    ok(r == 0, "a 100000-byte value parses");
    like(log_buf, "E 3 [a] l=<2>", "the line after a long one is read");
    unlink(path);
    free(path);
    free(long_text);
}

int main(void)
{
    test_basics();
    test_comments();
    test_quotes();
    test_errors();
    test_line_ends();
    test_null_handlers();
    test_files();
    return done_testing();
}
