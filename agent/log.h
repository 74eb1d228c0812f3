/* log.h: the agent's log, one event per line in logfmt.
 *
 *   ts=2026-11-23T10:00:00.123Z level=info event=plugin.started plugin=example
 *
 * An event is a dotted identifier; the fields after it are key=value pairs
 * written by the caller (quote values that may hold spaces: error="%s").
 * Newlines and control characters in the formatted text are escaped, so one
 * call is always one line.  To syslog the ts= field is left out.
 * Not thread-safe beyond what one write(2) per line gives. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <stdarg.h>

#include "berth/plugin.h"

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

void log_setup(enum log_target target, int level);
int log_get_level(void);
/* "error", "warn", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);
const char *log_level_name(int level);

void log_event(int level, const char *event, const char *fmt, ...)
    BERTH_PRINTF(3, 4);
void log_vevent(int level, const char *event, const char *fmt, va_list ap)
    BERTH_PRINTF(3, 0);

#define log_error(ev, ...) log_event(BERTH_LOG_ERROR, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(BERTH_LOG_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...) log_event(BERTH_LOG_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...) log_event(BERTH_LOG_DEBUG, ev, __VA_ARGS__)

/* Writes s into buf as a logfmt value: quoted and escaped when it holds
 * spaces, quotes, '=' or control characters; returns buf. */
const char *log_quote(char *buf, size_t size, const char *s);

#endif
