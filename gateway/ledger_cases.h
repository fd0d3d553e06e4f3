/*
 * Approval cases as the ledger holds them, for the supervision reports (supervise.h): each
 * case (办件, one SPGL_XMSPSXBLXXB record) with its handling steps (SPGL_XMSPSXBLXXXXB, the
 * BLZT event log) and the steps of it that still wait in quarantine for an earlier one.
 * Only the newest version of each record counts, and only when it is valid (数据有效标识 1): a
 * withdrawn case is gone with all its steps, a withdrawn step is gone, a corrected record
 * counts as corrected.
 *
 * Cases come in the order of their key (工程代码 GCDM, then 审批事项实例编码 SPSXSLBM), one
 * region after another, so that all cases of one engineering come together: a report can
 * judge a project's cases (a second return, a stage's span) and forget them, and memory
 * stays flat however large the ledger is.
 */
#ifndef SPGW_LEDGER_CASES_H
#define SPGW_LEDGER_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ledger.h"

/* Which tables and fields hold cases and steps: from the schema, never spelled here. */
struct spgw_cases_spec {
	const char *case_table;   /* "SPGL_XMSPSXBLXXB" */
	const char *step_table;   /* "SPGL_XMSPSXBLXXXXB", whose first parent is the case */
	const char *code_field;   /* "BLZT": the step's code, key part code_pos */
	const char *time_field;   /* "BLSJ": the step's time, key part time_pos */
	size_t code_pos, time_pos;
	/* fields read from a case's record (JSON member names) */
	const char *item_field;    /* "SPSXBM" 审批事项编码 */
	const char *version_field; /* "SPSXBBH" 审批事项版本号 */
	const char *limit_field;   /* "SXBLSX" 事项办理时限 */
};

/* One handling step. */
struct spgw_case_step {
	int code;       /* BLZT */
	char time[20];  /* "YYYY-MM-DD HH:MM:SS" as recorded */
	int waiting;    /* 0: in the outbox; 1: in quarantine, waiting for an earlier step */
	int64_t id;     /* outbox id, or quarantine id when waiting */
};

/* One case; every pointer is borrowed for the callback's duration. */
struct spgw_ledger_case {
	const char *region;
	const char *key;     /* the case's key: GCDM U+001F SPSXSLBM */
	const char *gcdm;    /* 工程代码 */
	const char *slbm;    /* 审批事项实例编码, the case number */
	int has_record;      /* 0: steps whose case record is not in the outbox (refused) */
	const char *record_key; /* 地方数据主键 of the case record; NULL without one */
	const char *item;    /* SPSXBM, NULL when absent */
	const char *item_version; /* SPSXBBH as text ("1", "1.5"), NULL when absent */
	long limit;          /* SXBLSX, -1 when absent or not a number */
	const struct spgw_case_step *steps; /* in time order; at one time, outbox steps first */
	size_t nsteps;
};

typedef enum spgw_rc (*spgw_ledger_case_fn)(void *ud, const struct spgw_ledger_case *c);

/*
 * Call `fn` for every case of `region` (NULL: of every region, in code order) as described
 * above, including cases known only from their steps (has_record 0). Stops at the first
 * error, the callback's included, and returns it.
 */
enum spgw_rc spgw_ledger_cases_each(struct spgw_ledger *l, const struct spgw_cases_spec *spec,
				    const char *region, spgw_ledger_case_fn fn, void *ud,
				    struct spgw_error *err);

#endif
