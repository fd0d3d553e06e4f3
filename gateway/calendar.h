/*
 * The working-day calendar (工作日历): which days are working days, from a file the gateway
 * file names ("calendar", format: config/calendar/README.md): per year the public holidays
 * (法定节假日, with the days around them the State Council's notice gives off) and the weekend
 * days worked in exchange (调休上班). Time limits of approval cases are working days; the
 * supervision reports (supervise.h) count them here.
 *
 * Counting rule (the one every report states):
 *   - only the calendar date counts; a datetime "YYYY-MM-DD HH:MM:SS" is Beijing time, as
 *     every SPGL time is, and its time of day is ignored;
 *   - working days from A to B = the working days in (date A, date B]: the day of A does not
 *     count, the day of B counts when it is a working day. Same day: 0. A case accepted on
 *     a Friday and approved the next Monday took 1 working day; one accepted before a
 *     holiday week and approved the first day after it, 1 as well;
 *   - B before A gives a negative count (the same rule backwards), never an error;
 *   - a date in a year the calendar does not cover is an error naming that year: the count
 *     is never guessed from weekdays.
 */
#ifndef SPGW_CALENDAR_H
#define SPGW_CALENDAR_H

#include <stdint.h>

#include "diag.h"
#include "error.h"

struct spgw_calendar;

/*
 * Read and check a calendar file. Every problem goes to `diag` as FILE:LINE:COLUMN with the
 * year and entry ("years.2024.holidays[1] 春节: ..."): unknown or missing keys, dates that do
 * not exist or lie outside their year, a holiday ending before it starts or longer than a
 * holiday can be, a day both off and worked, a 调休 working day that is not a weekend day,
 * years that are not consecutive. Returns SPGW_OK or the first problem's code; *out is set
 * only on success, new, released with spgw_calendar_free().
 */
enum spgw_rc spgw_calendar_load(const char *path, struct spgw_calendar **out,
				struct spgw_diag *diag);
void spgw_calendar_free(struct spgw_calendar *cal);

/* The file it was read from (borrowed). */
const char *spgw_calendar_path(const struct spgw_calendar *cal);
/* The first and last year covered (consecutive). */
void spgw_calendar_years(const struct spgw_calendar *cal, int *first, int *last);
/* 1 when `year`'s days are marked verified, 0 when not, -1 when it is not covered. */
int spgw_calendar_year_verified(const struct spgw_calendar *cal, int year);

/*
 * 1 when `date` ("YYYY-MM-DD", or a datetime whose date is taken) is a working day, 0 when
 * it is not; -1 with `err` set (SPGW_E_INVALID: not a date; SPGW_E_NOTFOUND: a year the
 * calendar does not cover, named in the message).
 */
int spgw_calendar_is_workday(const struct spgw_calendar *cal, const char *date,
			     struct spgw_error *err);

/* Working days from `from` to `to` (dates or datetimes) by the rule above, into *days. */
enum spgw_rc spgw_calendar_workdays(const struct spgw_calendar *cal, const char *from,
				    const char *to, long *days, struct spgw_error *err);

/*
 * The same with day numbers, for code that counts millions of steps: spgw_calendar_day()
 * turns "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" into its day number (days since 1970-01-01)
 * and returns 0, or -1 when it is neither form or names a day that does not exist.
 * spgw_calendar_ordinal() gives the working days from the calendar's first day through
 * `day`, so that from A to B is ordinal(B) - ordinal(A); SPGW_E_NOTFOUND naming the year
 * when `day` is not covered.
 */
int spgw_calendar_day(const char *s, int32_t *day);
enum spgw_rc spgw_calendar_ordinal(const struct spgw_calendar *cal, int32_t day, int32_t *ord,
				   struct spgw_error *err);
/* "YYYY-MM-DD" of a day number, into out (11 bytes). */
void spgw_calendar_format(int32_t day, char out[11]);
/* The year of a day number. */
int spgw_calendar_year_of(int32_t day);

#endif
