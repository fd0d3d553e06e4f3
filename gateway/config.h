/*
 * Configuration: one gateway file (state directory, sources directory, mappings directory,
 * schema, plugin directory, logging) and one file per source (its plugin, region, mapping and
 * the plugin's own settings). JSON, read with positions: a syntax error, unknown key, wrong
 * type or missing required key names file:line:column and what is expected. Relative paths
 * are taken from the directory of the file that names them. Format: config/README.md.
 *
 * The structs are plain read-only data: commands read their members directly; only this
 * module fills them.
 */
#ifndef SPGW_CONFIG_H
#define SPGW_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "diag.h"
#include "log.h"

struct spgw_source {
	char *name;        /* "220100-changchun": "name" or the file name without .json */
	char *file;        /* the source file's path */
	char *plugin;      /* as written: a plugin name ("files") or a path to a .so */
	char *plugin_path; /* resolved .so path: name -> <plugin_dir>/spgw-<name>.so */
	char *region;      /* six digits */
	char *mapping;     /* resolved mapping file path */
	char *settings;    /* the "settings" object as compact JSON text, "{}" when absent */
	json_t *settings_json; /* the same, parsed (owned) */
	int timeout_ms;    /* "timeout" seconds in the file; default 60 s */
	size_t memory_limit; /* "memory_limit_mb" in the file; default 1024 MiB */
	int enabled;       /* "enabled", default true */
	/* "schedule" (config_daemon.c): when the daemon pulls it */
	char *pull_cron;   /* "pull": a cron expression in Beijing time; default every 5 minutes */
	int jitter_s;      /* "jitter": seconds added at random to each start; default 30 */
	char *endpoint;    /* "endpoint": what the source's pulls share a concurrency limit with;
			    * default the plugin's name */
};

/*
 * The national platform and how to reach it (the gateway file's "national" object). Absent:
 * `url` is NULL and nothing is uploaded. Paths are resolved; key files default to the state
 * directory's keys/ folder, generated there on first run.
 */
struct spgw_national {
	char *url;          /* BASE, "https://127.0.0.1:8443/spgl/v3" */
	char *gateway_id;   /* X-SPGW-Gateway, [A-Za-z0-9._-]{1,64} */
	char *alg;          /* "sm2-sm3" (default), "ecdsa-p256-sha256", "ed25519" */
	char *key;          /* the gateway's private key PEM; default <state_dir>/keys/gateway.key */
	char *public_key;   /* its public half; default <state_dir>/keys/gateway.pub */
	char *national_public_key; /* verifies receipts; required when url is set */
	char *ca_file;      /* PEM bundle of trusted CAs; NULL: the system's */
	char *client_cert, *client_key; /* optional mutual TLS */
	int insecure;       /* "insecure_skip_verify": off; warns in every log line when on */
	int gzip;           /* Content-Encoding: gzip, default false */
	int max_in_flight;  /* concurrent transfers, default 4 */
	int batch_records;  /* at most 1000 (PROTOCOL.md §2) */
	size_t batch_bytes; /* at most 8 MiB */
	long long max_upload_rate; /* bytes/s over all transfers; 0 = no cap */
	int timeout_ms;     /* per request, default 30 s */
	int connect_timeout_ms; /* default 10 s */
	int retry_base_ms;  /* first backoff, default 500 ms */
	int retry_max_ms;   /* backoff ceiling, default 60 s */
};

/* An endpoint's concurrency limit (the gateway file's daemon.endpoints). */
struct spgw_endpoint_limit {
	char *name;
	int max;
};

/* How the daemon runs (the gateway file's "daemon" object; config_daemon.c). */
struct spgw_daemon_conf {
	char *listen;           /* "HOST:PORT" of /metrics /healthz /status; NULL: "off" */
	int max_pulls;          /* pulls at once over all sources, default 4 */
	struct spgw_endpoint_limit *endpoints; /* per-endpoint limits */
	size_t nendpoints;
	int drain_seconds;      /* SIGTERM: how long transfers and pulls may finish, default 30 */
	int upload_idle_s;      /* how often the uploader looks when nothing new came, default 10 */
	int halt_retry_s;       /* after the platform refused our identity: retry every, 300 */
	int pull_at_start;      /* pull each source at once when started or added, default true */
	/* "reconcile": the daemon's own reconciliation (reconcile.h) */
	int recon_enabled;      /* default true */
	char *recon_cron;       /* "schedule", default "30 2 * * *" (02:30 Beijing time) */
	int recon_days;         /* the business days up to today it covers, default 31 */
	int recon_detail;       /* compare the keys of differing days, default true */
	int recon_repair;       /* and queue again what the national side lacks, default false */
	/* alarms */
	int alarm_pending_minutes;  /* oldest waiting record older than this, default 60 */
	long long alarm_disk_free_mb; /* state directory's free space below, default 512 */
	int alarm_failed_runs;      /* a source failing this many runs in a row, default 3 */
	int alarm_plugin_restarts;  /* a plugin crashing this many runs in a row, default 3 */
	int alarm_expiry_days;      /* certificates or keys expiring within, default 30 */
	int alarm_clock_skew_s;     /* local clock vs the platform's Date, default 60 */
};

struct spgw_config {
	char *path;          /* the gateway file */
	char *state_dir;
	char *sources_dir;
	char *mappings_dir;
	char *schema_path;
	char *plugin_dir;
	char *catalog_path;  /* "catalog": the approval catalog file; NULL when not configured */
	char *calendar_path; /* "calendar": the working-day calendar file; NULL when not configured */
	enum spgw_log_level log_level;
	enum spgw_log_format log_format;
	struct spgw_national national;
	struct spgw_daemon_conf daemon;
	struct spgw_source *sources; /* sorted by name */
	size_t nsources;
};

/*
 * Read the gateway file and every *.json in its sources directory. Every problem is added to
 * `diag` (all of them, not the first only); a source with problems is left out of
 * `sources`. Returns SPGW_OK when there were none, else the first problem's code; *out is
 * set whenever the gateway file itself could be read (so a caller can still report), and is
 * released with spgw_config_free().
 * Checks here are those of the files alone: keys, types, region code shape, that named files
 * exist, unique source names. Plugin settings are checked by spgw_config_check_settings().
 */
enum spgw_rc spgw_config_load(const char *path, struct spgw_config **out, struct spgw_diag *diag);
void spgw_config_free(struct spgw_config *c);

/* NULL when no source has that name. */
const struct spgw_source *spgw_config_source(const struct spgw_config *c, const char *name);

/*
 * Check a source's "settings" against what its plugin declares (`info` from
 * spgw_host_describe): unknown settings (with a "did you mean" suggestion), wrong types and
 * missing required ones, each at file:line:column. Adds every problem to `diag`; returns the
 * first problem's code or SPGW_OK.
 */
enum spgw_rc spgw_config_check_settings(const struct spgw_source *src, const json_t *info,
					struct spgw_diag *diag);

/*
 * Read a single source file outside the configured directory (`spgw ingest --source FILE`),
 * resolving relative paths from its own directory and plugin names against c->plugin_dir.
 */
enum spgw_rc spgw_config_load_source(const struct spgw_config *c, const char *file,
				     struct spgw_source *out, struct spgw_diag *diag);
void spgw_config_source_clear(struct spgw_source *s);

#endif
