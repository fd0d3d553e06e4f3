/*
 * Private to supervise.c (the walk over cases, violations) and approval_stats.c (approval
 * times): one case as both reports judge it, the walk that hands them a project's cases
 * together, and the notes they return.
 */
#ifndef SPGW_SUPERVISE_INT_H
#define SPGW_SUPERVISE_INT_H

#include <stdint.h>

#include "ledger_cases.h"
#include "supervise.h"

/* Why an accepted case's time was not judged (counted, then said in the notes). */
enum sv_skip {
	SV_SKIP_NONE = 0,
	SV_SKIP_LOG,      /* its delivered log breaks the BLZT order: listed under (c) */
	SV_SKIP_LIMIT,    /* no SXBLSX and no catalog item with promised days */
	SV_SKIP_CALENDAR, /* a date the calendar does not cover */
	SV_SKIP_RECORD,   /* steps without their case record (refused): item and limit unknown */
	SV_SKIP_COUNT
};

/* One case, analysed once for both reports. Strings owned by the walk's group. */
struct sv_case {
	char *slbm, *item, *item_version;
	int has_record;
	const char *item_name; /* borrowed from the catalog; NULL when it lacks the item */
	int stage;             /* catalog stage 1-4, 0 unknown */
	int main_item;         /* catalog kind main (主线事项) */
	long limit;            /* SXBLSX or the catalog's promised days; -1 unknown */
	const char *limit_from; /* "SXBLSX" or "catalog" */
	int32_t date;          /* the case's day: of the 3, else of its first step */
	int dated;             /* it has a step at all */
	int in_range;
	/* from the delivered log, in time order ("" when absent) */
	char t_first[20], t3[20], t_end[20], t_ret[20];
	int end_code;          /* 11, 12, 13, or 0 */
	int ret_code;          /* 4 or 5 when returned, else 0 */
	int closed;            /* ended by 2, 14 or 15: neither open nor judged */
	/* (c): the whole log with the waiting steps */
	int nwaiting;
	int seq_bad;           /* the log with its waiting steps breaks the order */
	char seq_en[256], seq_zh[256];
	/* (b), for accepted cases in the range */
	enum sv_skip skip;
	long elapsed, paused;  /* ended: to the end; open: to the end of --to */
	int overdue;           /* elapsed > limit */
};

/* A walk's shared state: the query as day numbers, the calendar, the notes. */
struct sv_walk {
	const struct spgw_calendar *cal;
	const struct spgw_catalog *cat;
	int32_t from, to;          /* day numbers */
	int32_t to_ord;            /* working-day ordinal of --to */
	long skipped[SV_SKIP_COUNT];
	char calendar_error[512];  /* the first date the calendar did not cover */
	int32_t min_day, max_day;  /* days counted, for the unverified-years note */
	long unknown_items;        /* cases whose item the catalog lacks */
	struct spgw_error *err;
};

/* A project's cases (one GCDM of one region), handed to `flush`. */
struct sv_group {
	const char *region, *gcdm;
	struct sv_case *c;
	size_t n;
};
typedef enum spgw_rc (*sv_flush_fn)(void *ud, struct sv_walk *w, const struct sv_group *g);

/*
 * Check the query (dates, covered by the calendar), find the case and step tables in the
 * schema, walk every case of the query's region(s), analyse each, and call `flush` once per
 * project with its cases. SPGW_E_USAGE for a bad query.
 */
enum spgw_rc sv_walk_run(struct spgw_ledger *l, const struct spgw_schema *s,
			 const struct spgw_calendar *cal, const struct spgw_catalog *cat,
			 const struct spgw_supervise_query *q, sv_flush_fn flush, void *ud,
			 struct sv_walk *w, struct spgw_error *err);

/* Working days from datetime a to datetime b; -1 when the calendar does not cover them
 * (w->calendar_error keeps the first message). */
int sv_workdays(struct sv_walk *w, const char *a, const char *b, long *days);

/* Notes: a growing list of lines. Returns nonzero when memory ran out. */
int sv_note(char ***notes, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The notes every report shares: unverified calendar years, dates the calendar lacks, items
 * the catalog lacks, and with `time` the accepted cases whose time was not judged, and why. */
int sv_common_notes(const struct sv_walk *w, int time, char ***notes, size_t *n);
void sv_notes_free(char **notes, size_t n);

#endif
