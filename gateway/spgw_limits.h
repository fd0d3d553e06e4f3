/*
 * Every ceiling on input the gateway accepts, in one place, each with its reason. A buffer that
 * outside input can grow takes its limit from here at birth (spgw_buf_init).
 */
#ifndef SPGW_LIMITS_H
#define SPGW_LIMITS_H

/* One source record as a plugin emits it. 16 MiB: a real case record is a few KB; the
 * largest legitimate field seen (JSGMJNR, BLYJ text) is far below; a 10 MB field must still
 * reach quarantine intact rather than kill the source. */
#define SPGW_MAX_RECORD (16u * 1024 * 1024)

/* One frame on a plugin child's socket: a record plus its table name and header. */
#define SPGW_MAX_FRAME (SPGW_MAX_RECORD + 4096u)

/* A source table name as a plugin gives it (plugin.h promises 64 bytes). */
#define SPGW_MAX_TABLE_NAME 64

/* A cursor (plugin.h promises 4096 bytes): a file name and offset, or time and id. */
#define SPGW_MAX_CURSOR 4096

/* Records a plugin may emit without a commit (plugin.h promises 5000): bounds the one open
 * ledger transaction and what a crash can make us re-read. */
#define SPGW_MAX_UNCOMMITTED 5000

/* Nesting depth of JSON accepted from plugins and config: deep nesting is an attack on the
 * parser's stack, never real data. */
#define SPGW_MAX_JSON_DEPTH 64

/* A configuration, mapping or schema file: these are written by people. */
#define SPGW_MAX_CONFIG_FILE (8u * 1024 * 1024)

/* A plugin's log line; longer lines are cut with a marker. */
#define SPGW_MAX_LOG_LINE 2048

/* Validation reasons kept per record: a record with more problems than this is hopeless, and
 * the first 64 tell the city what to fix. */
#define SPGW_MAX_REASONS 64

/* Sources per gateway: nine prefectures today, room for counties and other provinces. */
#define SPGW_MAX_SOURCES 256

/* Log lines per second a plugin child may send (stdout, stderr and log() together), also the
 * burst: a plugin printing in a loop must not bury the operators' log; the rest are counted
 * and reported as dropped. */
#define SPGW_MAX_LOG_RATE 100

#endif
