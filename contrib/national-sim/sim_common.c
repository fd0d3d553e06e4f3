/*
 * Small helpers shared by the server and spgw-sim-client: dates, regions, tokens, UTF-8
 * for messages, timestamps.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "validate.h"
#include "sim.h"

int sim_is_date(const char *s)
{
	return s && spgw_validate_date(s);
}

int sim_is_region(const char *s)
{
	int i;

	for (i = 0; i < 6; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return s[6] == '\0';
}

int sim_is_token(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n >= 1 && n <= max;
}

void sim_utf8_fix(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n, i, k;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		n = *p >= 0xC2 && *p <= 0xDF ? 2 : *p >= 0xE0 && *p <= 0xEF ? 3
		  : *p >= 0xF0 && *p <= 0xF4 ? 4 : 0;
		for (i = 1; i < n && (p[i] & 0xC0) == 0x80; i++)
			;
		/* overlong, surrogate and out-of-range forms, as RFC 3629 forbids them */
		if (n && i == n &&
		    !((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) ||
		      (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F))) {
			p += n;
			continue;
		}
		if (n && i < n && !p[i]) {
			*p = '\0'; /* a character cut by a width limit: drop its start */
			return;
		}
		for (k = 0; k < (i ? i : 1); k++)
			p[k] = '?';
		p += i ? i : 1;
	}
}

void sim_rfc3339(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* H. Hinnant's days_from_civil. */
long sim_days_of(const char *d)
{
	long y = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
	long m = (d[5] - '0') * 10 + (d[6] - '0');
	long day = (d[8] - '0') * 10 + (d[9] - '0');
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* H. Hinnant's civil_from_days. */
void sim_date_of(long z, char out[11])
{
	long era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	/* dates here come from four-digit years plus or minus a day */
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
}
