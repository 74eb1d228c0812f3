/* ini.h: an INI lexer that reports every error with its line.
 *
 * Syntax: "[section]" or "[kind name]" headers; "key = value" entries;
 * whole-line comments starting with '#' or ';'; blank lines.  A value may be
 * double-quoted to keep leading/trailing spaces or '#' ("a \"b\"" escapes
 * \\ \" \n \t); unquoted, a " #" or " ;" starts a trailing comment and
 * surrounding space is trimmed.  Keys are [A-Za-z0-9_.-]+; section names
 * are words of [A-Za-z0-9_.-] separated by single spaces.
 *
 * The lexer knows nothing of which sections or keys exist: that is the
 * caller's job in its callbacks.  It goes on after an error so that all of a
 * file's errors are reported in one pass.  Entries that follow a broken
 * section header are checked but not delivered (they belong to no known
 * section) until the next good header.  A UTF-8 BOM, CRLF line ends and a
 * last line without a newline are accepted. */
#ifndef BERTH_INI_H
#define BERTH_INI_H

#include <stddef.h>

struct ini_handler {
    /* A section header; name is normalised ("plugin  x" -> "plugin x"). */
    void (*section)(void *arg, const char *name, int line);
    /* An entry; section is "" before the first header. */
    void (*entry)(void *arg, const char *section, const char *key,
                  const char *value, int line);
    /* A syntax error: msg says what was expected, e.g. "missing ']'". */
    void (*error)(void *arg, int line, const char *msg);
};

/* Returns 0 when the text had no syntax error, -1 otherwise. */
int ini_parse_string(const char *text, const struct ini_handler *h, void *arg);

/* Reads path and parses it.  -1 with err set ("cannot open /x/y.conf: No
 * such file or directory") when the file cannot be read (a directory is
 * refused); handler->error is not called for that.  Otherwise as
 * ini_parse_string, with err set to "". */
int ini_parse_file(const char *path, const struct ini_handler *h, void *arg,
                   char *err, size_t errlen);

#endif
