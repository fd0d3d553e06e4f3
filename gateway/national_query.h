/*
 * Asking the national platform what it holds (PROTOCOL.md §3): GET BASE/counts and
 * GET BASE/keys, signed like every request, over one kept-alive HTTPS connection.
 *
 * An answer is believed only when it answers the question: counts for the region, table and
 * days asked (each day once, in order, within the range, valid <= records, the total the
 * sum), keys for the day asked in strictly increasing order across pages, with a `next`
 * that is the last key given. Anything else is an error that names what was wrong, so a
 * national side that answers for other days, or pages that repeat or loop, is reported as
 * such and never taken as agreement. 429, 5xx and transport failures are tried again a few
 * times with backoff (Retry-After honoured up to a minute); 401/403 are not.
 */
#ifndef SPGW_NATIONAL_QUERY_H
#define SPGW_NATIONAL_QUERY_H

#include <stdint.h>

#include "config.h"
#include "error.h"

/* Days one /counts request may cover (PROTOCOL.md §5). */
#define SPGW_NATIONAL_MAX_DAYS 366
/* Pages of one day's keys before the listing is taken for a loop: 5000 keys a page, so a
 * hundred million keys in a day. */
#define SPGW_NATIONAL_MAX_PAGES 20000

struct spgw_national_client;

/* A client for the gateway file's "national" settings (keys read now). *out is new:
 * spgw_national_close(). */
enum spgw_rc spgw_national_open(const struct spgw_national *n,
				struct spgw_national_client **out, struct spgw_error *err);
void spgw_national_close(struct spgw_national_client *c);

typedef enum spgw_rc (*spgw_national_count_fn)(void *ud, const char *day, int64_t records,
					       int64_t valid);
/* The counts of `region`, `table` for the days `from`..`to` (at most 366); one call of `fn`
 * per day that holds records, in day order. */
enum spgw_rc spgw_national_counts(struct spgw_national_client *c, const char *region,
				  const char *table, const char *from, const char *to,
				  spgw_national_count_fn fn, void *ud, struct spgw_error *err);

typedef enum spgw_rc (*spgw_national_key_fn)(void *ud, const char *key, const char *digest);
/* Every key the national platform holds for `region`, `table` on `day`, in key order, page
 * after page. */
enum spgw_rc spgw_national_keys(struct spgw_national_client *c, const char *region,
				const char *table, const char *day, spgw_national_key_fn fn,
				void *ud, struct spgw_error *err);

/* Requests made and tried again so far (for the report). */
void spgw_national_stats(const struct spgw_national_client *c, int64_t *requests,
			 int64_t *retries);

#endif
