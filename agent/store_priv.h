/* store_priv.h: what store.c shares with the other store_*.c files (the
 * clusters' part, store_clusters.c), and nothing else may include.
 *
 * Contract: the same as store.h's; the helpers are store.c's own (one
 * transaction per write, errors written to err naming the database). */
#ifndef BERTH_STORE_PRIV_H
#define BERTH_STORE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "agent/store.h"

sqlite3 *store_priv_db(struct store *st);
const char *store_priv_region(const struct store *st);
const char *store_priv_account(const struct store *st);
enum store_rc store_priv_db_error(struct store *st, const char *what, char *err,
                                  size_t errlen);
enum store_rc store_priv_tx_begin(struct store *st, char *err, size_t errlen);
/* Commits when r is STORE_OK, else rolls back; returns the outcome. */
enum store_rc store_priv_tx_end(struct store *st, enum store_rc r, char *err,
                                size_t errlen);

#endif
