/*
 * The daemon's Prometheus metrics: a registry that several threads update while the HTTP
 * thread renders it in the text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * Metric and label NAMES come from our code: a name that does not match Prometheus' rules is a
 * bug, so the call is refused and counted in spgw_metrics_invalid_total{reason=...} rather than
 * rendered into a scrape that Prometheus would reject whole. Label VALUES come from data
 * (region codes, table names, source names): they are always escaped, invalid UTF-8 in them
 * becomes U+FFFD, and a value longer than SPGW_METRICS_MAX_LABEL_VALUE is refused (counted as
 * reason="value"), because cutting it could merge two sources into one series.
 *
 * Memory stays bounded whatever the data: a family holds at most SPGW_METRICS_MAX_SERIES
 * series; an update that would create one more is counted in
 * spgw_metrics_dropped_total{family="..."} and not stored.
 *
 * Every function may be called from any thread. The update functions return nothing: a metric
 * must never make the work it measures fail. What they could not store is counted in the
 * registry's own families (above, and spgw_metrics_nomem_total).
 */
#ifndef SPGW_METRICS_H
#define SPGW_METRICS_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Series per family. The largest legitimate family is per source x table (256 sources x a few
 * dozen tables); past this a label is fed something unbounded (a record key), and storing it
 * would grow the daemon without end. */
#define SPGW_METRICS_MAX_SERIES 10000
/* Families per registry: names come from code, so this only stops a bug that builds names. */
#define SPGW_METRICS_MAX_FAMILIES 1000
/* Label pairs per series and buckets per histogram: both fixed by code. */
#define SPGW_METRICS_MAX_LABELS 16
#define SPGW_METRICS_MAX_BUCKETS 64
/* Bytes of one label value: region codes, table and source names are far shorter. */
#define SPGW_METRICS_MAX_LABEL_VALUE 512
/* Scrape hooks per registry (spgw_metrics_on_scrape). */
#define SPGW_METRICS_MAX_HOOKS 8

struct spgw_metrics;

/* A new empty registry (NULL when memory is short); release with spgw_metrics_free(). */
struct spgw_metrics *spgw_metrics_new(void);
/* Release the registry and every series. No other thread may still use it. NULL is a no-op. */
void spgw_metrics_free(struct spgw_metrics *m);

/*
 * The update calls. `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*; `help` (may be NULL) is kept from
 * the first call that creates the family. `labels` is NULL or a NULL-terminated array of name,
 * value pairs: {"region", "220100", "table", "SPGL_XMJBXXB", NULL}; label names match
 * [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__"; their order does not matter (the series
 * is the set of pairs). Nothing is kept of the caller's strings.
 *
 * A name keeps the type it was created with: a counter_add on a gauge is refused
 * (reason="type").
 */

/* Add `v` (finite, >= 0: a counter only goes up) to a counter, creating the series at 0. */
void spgw_metrics_counter_add(struct spgw_metrics *m, const char *name, const char *help,
			      const char *const *labels, double v);
/* Set a gauge series to `v` (any value, NaN and infinities included). */
void spgw_metrics_gauge_set(struct spgw_metrics *m, const char *name, const char *help,
			    const char *const *labels, double v);
/*
 * Count `v` (not NaN) in a histogram. `buckets` are the upper bounds, strictly increasing and
 * not NaN (a final +Inf may be given and is implied otherwise); the first call that creates the
 * family fixes them, later calls' `buckets` are not read. Label "le" is reserved.
 */
void spgw_metrics_histogram_observe(struct spgw_metrics *m, const char *name, const char *help,
				    const char *const *labels, const double *buckets,
				    size_t nbuckets, double v);
/*
 * Drop every series of gauge `name` (the family, its help and type stay). For gauges re-filled
 * from the ledger at each scrape, so that a removed source's series disappears. A name that is
 * not a gauge is left alone.
 */
void spgw_metrics_gauge_clear(struct spgw_metrics *m, const char *name);

/*
 * Call `fn(ud, m)` at each render, before the registry is read and without its lock held, so
 * the daemon can set gauges from the ledger just in time. Hooks run in the order added, on the
 * rendering thread, one render at a time; `fn` may call the update functions but not
 * spgw_metrics_render() (it would wait for itself). At most SPGW_METRICS_MAX_HOOKS; one more is
 * refused and counted (reason="limit").
 */
void spgw_metrics_on_scrape(struct spgw_metrics *m, void (*fn)(void *ud, struct spgw_metrics *m),
			    void *ud);

/*
 * Run the scrape hooks, then append the whole registry to `out` in the text format 0.0.4:
 * families sorted by name, each with its # HELP (when given) and # TYPE lines, then its series
 * sorted by labels, so two renders of the same state are byte-identical. Returns SPGW_OK, or
 * SPGW_E_LIMIT when `out` reaches its ceiling, or SPGW_E_NOMEM; `out` then holds a partial text
 * the caller must not serve.
 */
enum spgw_rc spgw_metrics_render(struct spgw_metrics *m, struct spgw_buf *out,
				 struct spgw_error *err);

#endif
