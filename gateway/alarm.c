/* The alarm conditions read from the state at any moment (alarm.h). */
#include "alarm.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "status.h"

static const char *const checked[] = {
	SPGW_ALARM_EXPIRY, SPGW_ALARM_FAILING, SPGW_ALARM_RESTARTS,
	SPGW_ALARM_PENDING, SPGW_ALARM_DISK,
};

int spgw_alarm_is_checked(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(checked) / sizeof(checked[0]); i++)
		if (!strcmp(name, checked[i]))
			return 1;
	return 0;
}

int64_t spgw_alarm_disk_free(const char *dir)
{
	struct statvfs v;

	if (!dir || statvfs(dir, &v) != 0)
		return -1;
	return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}

int spgw_alarm_cert_days(const char *path, int64_t now, double *days)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	X509 *x;
	int found = 0;

	if (!f)
		return -1;
	/* a bundle: the earliest expiry of any certificate in it counts */
	while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
		const ASN1_TIME *na = X509_get0_notAfter(x);
		int d = 0, s = 0;
		ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)now);

		if (t && na && ASN1_TIME_diff(&d, &s, t, na)) {
			double left = d + s / 86400.0;

			if (!found || left < *days)
				*days = left;
			found = 1;
		}
		ASN1_TIME_free(t);
		X509_free(x);
	}
	fclose(f);
	return found ? 0 : -1;
}

struct check {
	const struct spgw_config *c;
	int64_t now;
	spgw_alarm_fn fn;
	void *ud;
};

static enum spgw_rc expiry(struct check *k, const char *what, const char *path)
{
	char msg[600];
	double days;

	if (!path || spgw_alarm_cert_days(path, k->now, &days))
		return SPGW_OK;
	if (days >= k->c->daemon.alarm_expiry_days)
		return SPGW_OK;
	if (days < 0)
		snprintf(msg, sizeof(msg), "%s %s expired %.0f days ago; renew it and reload "
			 "(systemctl reload spgw)", what, path, -days);
	else
		snprintf(msg, sizeof(msg), "%s %s expires in %.0f days (alarm at %d); renew it and "
			 "reload (systemctl reload spgw)", what, path, days,
			 k->c->daemon.alarm_expiry_days);
	return k->fn(k->ud, SPGW_ALARM_EXPIRY, path, msg);
}

static enum spgw_rc last_run(void *ud, const struct spgw_run_row *r, int64_t streak)
{
	struct check *k = ud;
	const struct spgw_daemon_conf *dc = &k->c->daemon;
	char msg[900];
	enum spgw_rc rc = SPGW_OK;

	/* only configured sources: a removed one's old failures are history, not an alarm */
	if (!spgw_config_source(k->c, r->source) || strcmp(r->result, "failed"))
		return SPGW_OK;
	if (streak >= dc->alarm_failed_runs) {
		snprintf(msg, sizeof(msg), "failed %lld pulls in a row, the last at %s: %s",
			 (long long)streak, r->finished_at ? r->finished_at : "?",
			 r->message ? r->message : "(no message)");
		rc = k->fn(k->ud, SPGW_ALARM_FAILING, r->source, msg);
	}
	if (!rc && r->error_code == SPGW_E_PLUGIN && streak >= dc->alarm_plugin_restarts) {
		snprintf(msg, sizeof(msg), "its plugin crashed or was stopped %lld runs in a row "
			 "and is started afresh each time; the last: %s",
			 (long long)streak, r->message ? r->message : "(no message)");
		rc = k->fn(k->ud, SPGW_ALARM_RESTARTS, r->source, msg);
	}
	return rc;
}

static enum spgw_rc table_age(void *ud, const struct spgw_table_status *t)
{
	struct check *k = ud;
	int64_t at = spgw_status_utc_seconds(t->oldest_pending_at), limit;
	char subject[96], msg[600];

	if (at < 0)
		return SPGW_OK;
	limit = (int64_t)k->c->daemon.alarm_pending_minutes * 60;
	if (k->now - at <= limit)
		return SPGW_OK;
	snprintf(subject, sizeof(subject), "%s/%s", t->region, t->table);
	snprintf(msg, sizeof(msg), "the oldest record waiting for upload was stored %lld minutes "
		 "ago (alarm at %d); %lld wait in all: is the national platform reachable "
		 "(spgw status, the log)?",
		 (long long)((k->now - at) / 60), k->c->daemon.alarm_pending_minutes,
		 (long long)t->pending);
	return k->fn(k->ud, SPGW_ALARM_PENDING, subject, msg);
}

enum spgw_rc spgw_alarm_check(struct spgw_ledger *l, const struct spgw_config *c, int64_t now,
			      spgw_alarm_fn fn, void *ud, struct spgw_error *err)
{
	struct check k = { c, now, fn, ud };
	int64_t free_b = spgw_alarm_disk_free(c->state_dir);
	enum spgw_rc rc = SPGW_OK;
	char msg[600], today[16];
	time_t bj = (time_t)now + 8 * 3600;
	struct tm tm;

	if (free_b >= 0 && free_b < c->daemon.alarm_disk_free_mb * 1024 * 1024) {
		snprintf(msg, sizeof(msg), "the state directory has %lld MiB free (alarm below %lld "
			 "MiB): pulls are paused until there is room again; uploads go on; free "
			 "space or move the state directory",
			 (long long)(free_b >> 20), c->daemon.alarm_disk_free_mb);
		rc = fn(ud, SPGW_ALARM_DISK, c->state_dir, msg);
	}
	if (!rc)
		rc = expiry(&k, "TLS client certificate", c->national.client_cert);
	if (!rc)
		rc = expiry(&k, "CA certificate", c->national.ca_file);
	if (!rc)
		rc = expiry(&k, "the national platform's certificate",
			    c->national.national_public_key);
	if (!rc)
		rc = spgw_ledger_last_runs(l, last_run, &k, err);
	gmtime_r(&bj, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	if (!rc)
		rc = spgw_ledger_table_status(l, today, table_age, &k, err);
	return rc;
}
