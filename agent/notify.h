/* notify.h: readiness and status for systemd (Type=notify), spoken over
 * $NOTIFY_SOCKET without linking libsystemd.  A no-op when the variable is
 * unset, so it is always safe to call. */
#ifndef BERTH_NOTIFY_H
#define BERTH_NOTIFY_H

/* state: "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..." (newline-
 * separated assignments are allowed).  Returns 0, or -1 when sending failed. */
int notify_systemd(const char *state);

#endif
