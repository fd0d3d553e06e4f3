/*
 * Supervision (监管) of approval cases, from what the ledger holds: the violations the
 * province must see (spgw violations) and the approval times it publishes (spgw stats).
 * Computations only: they take an open ledger, the schema, the working-day calendar and the
 * catalog, and return results; cmd_supervise.c prints them.
 *
 * What counts (README.md "Supervision" says the same for people):
 *
 *   - the newest valid version of every case (SPGL_XMSPSXBLXXB) and handling step
 *     (SPGL_XMSPSXBLXXXXB), plus the steps that wait in quarantine for an earlier one;
 *   - a case's date is the date of its acceptance (BLZT 3 已受理); a case never accepted
 *     (returned, withdrawn) is dated by its first step (usually 1 已接件). A case counts in
 *     --from..--to (Beijing dates, both included) when its date lies in it;
 *   - working days by calendar.h: the acceptance day does not count, the completion day does;
 *   - elapsed = working days from the 3 to the 11/12/13, minus each 6→7 (补正) and 9→10
 *     (特别程序) span counted the same way (shared/spgl/codes.md "Time accounting");
 *   - the limit is the case's own 事项办理时限 SXBLSX, or when absent the catalog item's
 *     promised_days (承诺时限); overrun when elapsed > limit.
 */
#ifndef SPGW_SUPERVISE_H
#define SPGW_SUPERVISE_H

#include <stddef.h>

#include "calendar.h"
#include "catalog.h"
#include "error.h"
#include "ledger.h"
#include "schema.h"

struct spgw_supervise_query {
	const char *from, *to; /* "YYYY-MM-DD", both included; from <= to */
	const char *region;    /* six digits, or NULL for every region */
};

/* ---- violations ---- */

enum spgw_violation_kind {
	/* (a) 二次退件: a second returned case (ending 4 不受理 or 5 不予受理) of one project
	 * (GCDM) and item (SPSXBM); the row names this case and the return before it */
	SPGW_VIOL_SECOND_RETURN = 0,
	/* (b) 超期办结: ended (11/12/13) with elapsed > limit */
	SPGW_VIOL_OVERRUN = 1,
	/* (b) 逾期未办结: not ended, elapsed at the end of --to already > limit */
	SPGW_VIOL_OPEN_OVERDUE = 2,
	/* (c) 办理环节缺失或顺序错误: the step log (with the steps waiting in quarantine) breaks
	 * the BLZT order (sequence.h), or steps of it wait in quarantine */
	SPGW_VIOL_SEQUENCE = 3,
};
#define SPGW_VIOL_KINDS 4

/* "second_return", "overrun", "open_overdue", "sequence" */
const char *spgw_violation_kind_name(enum spgw_violation_kind k);
/* "二次退件", "超期办结", "逾期未办结", "办理环节异常" */
const char *spgw_violation_kind_zh(enum spgw_violation_kind k);

/* One violation. Strings owned by the result; NULL where they do not apply. */
struct spgw_violation {
	enum spgw_violation_kind kind;
	char *region;
	char *gcdm;        /* 工程代码 */
	char *item;        /* 审批事项编码 SPSXBM (NULL: the case record is missing) */
	char *item_name;   /* 事项名称 from the catalog, NULL when the catalog lacks it */
	char *case_no;     /* 审批事项实例编码 SPSXSLBM */
	char *received;    /* first step's time (收件) */
	char *accepted;    /* 受理时间 (BLZT 3) */
	char *ended;       /* 办结时间 (11/12/13) or, for a return, the 4/5 */
	int end_code;      /* BLZT of `ended`, 0 none */
	char *prev_case;   /* second return: the earlier returned case */
	char *prev_ended;  /* its 4/5 time */
	int returns;       /* second return: how many returned cases the item has so far */
	long elapsed;      /* working days (overrun, open_overdue); -1 otherwise */
	long limit;        /* working days; -1 otherwise */
	const char *limit_from; /* "SXBLSX" or "catalog" */
	long paused;       /* working days of 补正 and 特别程序 taken off */
	char *note_en, *note_zh; /* why, one line each */
};

/* Figures of one region (or of one item within a region). */
struct spgw_violation_tally {
	char *region;
	char *item, *item_name; /* NULL for a region's total */
	long cases;      /* cases dated in the range */
	long accepted;   /* of those, accepted (3) */
	long ended;      /* accepted and ended 11/12/13 */
	long returned;   /* ended 4/5 */
	long kinds[SPGW_VIOL_KINDS];
	long not_judged; /* accepted cases whose time could not be judged (see notes) */
};

struct spgw_violations {
	struct spgw_violation *v;  /* by region, kind, GCDM, case */
	size_t n;
	struct spgw_violation_tally *regions; /* by region */
	size_t nregions;
	struct spgw_violation_tally *items;   /* by region, then item; items with a violation */
	size_t nitems;
	char **notes; /* lines for people: what was not judged and why, unverified calendar years */
	size_t nnotes;
};

/*
 * Judge every case dated in the query's range. `cat` may be NULL (no item names; a case
 * without SXBLSX is then not judged for time). SPGW_E_USAGE when a date of the query is
 * not a date or the calendar does not cover it (the message names the year); ledger errors
 * as they come. *out new, released with spgw_violations_free().
 */
enum spgw_rc spgw_supervise_violations(struct spgw_ledger *l, const struct spgw_schema *s,
				       const struct spgw_calendar *cal,
				       const struct spgw_catalog *cat,
				       const struct spgw_supervise_query *q,
				       struct spgw_violations **out, struct spgw_error *err);
void spgw_violations_free(struct spgw_violations *v);

/* ---- approval times ---- */

/*
 * Which projects count (the same text is in `spgw stats --help`):
 *   - a project is an engineering, 工程代码 GCDM (SPGL_XMJBXXB has one row per GCDM);
 *   - its cases are put in stages 1-4 by the catalog's item (SPSXBM, SPSXBBH); cases of items
 *     the catalog lacks are left out;
 *   - a stage of a project is complete when every item of it that was accepted ended
 *     approved (11 办结 or 12 容缺办结) in its latest accepted case, and none is still open or
 *     was refused (13); items withdrawn (14, 15) do not count. Its time is the working days
 *     from the first acceptance (3) of the stage's items to the last approval (11/12);
 *   - a stage counts when it completed (last approval) within --from..--to;
 *   - a project is complete when all four stages are; its total time runs from the first
 *     acceptance of stage 1 to the last approval of stage 4 (time between stages included:
 *     the figure the province publishes); it counts when stage 4 completed in the range. A
 *     project whose stage 4 completed in the range but an earlier stage has no complete
 *     record in the ledger is counted apart (incomplete history), not in the total;
 *   - "sum of stages" is the four stage times added (time between stages left out);
 *   - in progress: a project with an acceptance on or before --to whose stage 4 is not
 *     complete by --to.
 * Median: the middle value, or the mean of the two middle ones; 90th percentile: the
 * smallest value with at least 90 % of the projects at or below it (nearest rank).
 */
#define SPGW_STATS_FIGURES 6 /* stage 1..4, total, sum of stages */
enum { SPGW_STATS_TOTAL = 4, SPGW_STATS_SUM = 5 };

struct spgw_stats_figure {
	long n;         /* projects counted */
	double median;  /* working days; meaningless when n is 0 */
	long p90, min, max;
	char *fastest, *slowest; /* GCDM of min and max (the first in code order on a tie) */
};

struct spgw_stats_region {
	char *region;   /* NULL for the whole province (all regions together) */
	long complete;  /* projects complete within the range */
	long in_progress;
	long incomplete_history;
	struct spgw_stats_figure fig[SPGW_STATS_FIGURES];
};

struct spgw_stats {
	struct spgw_stats_region *regions; /* by region, then the whole (region NULL) last */
	size_t nregions;
	char **notes;
	size_t nnotes;
};

/* As spgw_supervise_violations(); the catalog is required (SPGW_E_CONFIG without one). */
enum spgw_rc spgw_supervise_stats(struct spgw_ledger *l, const struct spgw_schema *s,
				  const struct spgw_calendar *cal, const struct spgw_catalog *cat,
				  const struct spgw_supervise_query *q, struct spgw_stats **out,
				  struct spgw_error *err);
void spgw_stats_free(struct spgw_stats *st);

#endif
