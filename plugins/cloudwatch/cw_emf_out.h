/* cw_emf_out.h: where EMF lines go.
 *
 * Contract
 *   - Targets: file:PATH (appended), unix:PATH (stream socket),
 *     tcp:HOST:PORT, udp:HOST:PORT (HOST an IP literal; IPv6 in []).
 *     cw_emf_out_new parses and checks the target only; start opens it.
 *   - cw_emf_out_write never blocks: udp sends one datagram per line;
 *     stream targets buffer up to 1 MiB and flush when the fd watcher says
 *     the socket is writable, reconnecting at most once a second after a
 *     failure.  Returns 0 when the line was written or buffered, -1 when
 *     it was dropped (counted by the caller; the first drop after a
 *     success is logged). */
#ifndef BERTH_CW_EMF_OUT_H
#define BERTH_CW_EMF_OUT_H

#include <stddef.h>

#include <berth/plugin.h>

struct cw_emf_out;

struct cw_emf_out *cw_emf_out_new(const struct berth_host *host, berth_ctx *ctx,
                                  const char *target, char *err, size_t errlen);
int cw_emf_out_start(struct cw_emf_out *o, char *err, size_t errlen);
int cw_emf_out_write(struct cw_emf_out *o, const char *line, size_t len);
void cw_emf_out_stop(struct cw_emf_out *o);
void cw_emf_out_free(struct cw_emf_out *o);

#endif
