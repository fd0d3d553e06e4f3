#!/bin/sh
# End to end against a real PostgreSQL server: the provincial platform's database
# (contrib/provincial-db) on a free loopback port, loaded with tests/cases/provincial, read by
# the provincial plugin through the real `spgw ingest` for two cities. Checks that each city
# reads only its rows, GBK text arrives decoded and bytes that are not GBK are quarantined,
# void rows are delivered as invalid, a second pull is incremental, thousands of rows sharing
# one upd_time cross page boundaries without loss, a connection killed mid-read is a RETRY
# after which nothing is lost or doubled, and a revoked right, a renamed table, a source file
# with the wrong region, a refused password and a leaky password file are clear ERRORs.
# Skips (77) only when the PostgreSQL server binaries are not installed.
. "$(dirname "$0")/lib.sh"

bin=${SPGW_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bin/postgres" ] || [ ! -x "$bin/initdb" ] || ! command -v psql >/dev/null 2>&1; then
	echo "skip: no PostgreSQL server in $bin (set SPGW_PG_BIN; Debian: apt-get install postgresql)"
	exit 77
fi
export SPGW_PG_BIN="$bin"
pgsh=$SPGW_SRC/contrib/provincial-db/pg.sh
pgdir=$T/pg
# the server runs as an unprivileged user when we are root: it must reach $T/pg
chmod 711 "$T"
trap '"$pgsh" -d "$pgdir" stop >/dev/null 2>&1; rm -rf "$T"' EXIT
pg() { "$pgsh" -d "$pgdir" psql -tA -c "$1"; }
# every output is also kept in all.out, which must never show the password
ingest() {
	"$SPGW" -c "$T/spgw.json" ingest "$@" > "$T/out" 2>&1
	set -- $?
	cat "$T/out" >> "$T/all.out"
	return "$1"
}
has() { grep -qF -- "$1" "$T/out" && echo yes || echo no; }
outbox() { sql "SELECT count(*) FROM outbox WHERE region='$1' AND spgl_table='$2'"; }

# A free port: the start fails on a taken one, so try a few.
port=$((20000 + $$ % 20000))
i=0
until "$pgsh" -d "$pgdir" -p "$port" start > "$T/pg.out" 2>&1; do
	i=$((i + 1))
	if [ $i -ge 8 ]; then
		not_ok "the PostgreSQL server did not start"
		cat "$T/pg.out" "$pgdir/postgres.log" 2>/dev/null | tail -20
		finish
		exit 1
	fi
	port=$((port + 997))
done
ok "PostgreSQL started on 127.0.0.1:$port"
check "the database is SQL_ASCII" SQL_ASCII \
	"$(pg "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'jlsp'")"
check "the server listens on loopback only" 127.0.0.1 "$(pg 'SHOW listen_addresses')"
"$SPGW_SRC/contrib/provincial-db/load.sh" -d "$pgdir" "$SPGW_SRC/tests/cases/provincial" \
	> "$T/load.out" 2>&1 && ok "fixtures loaded" || { not_ok "load.sh failed"; cat "$T/load.out"; }
pwfile=$pgdir/reader.password
password=$(cat "$pwfile")

make_config
# add_pv NAME REGION [EXTRA SETTINGS]: a provincial source reading this server, with the
# password in $PWFILE (default: the reader's)
add_pv() {
	cat > "$T/sources/$1.json" <<JSON
{ "plugin": "provincial", "region": "$2", "mapping": "provincial.json",
  "settings": { "conninfo": "host=127.0.0.1 port=$port dbname=jlsp user=spgw_reader",
    "password_file": "${PWFILE:-$pwfile}"${3:+, $3} } }
JSON
}
# pages of two rows: every table of the fixtures spans several pages
add_pv 220200-provincial 220200 '"page_size": 2'
add_pv 220300-provincial 220300 '"page_size": 2, "area_code": "220300"'
"$SPGW" -c "$T/spgw.json" check-config > "$T/out" 2>&1 && ok "check-config passes" ||
	{ not_ok "check-config failed"; cat "$T/out"; }

# 1. the first pull of both cities
ingest; rc=$?
check "ingest of two cities exits 0" 0 "$rc"
[ "$rc" = 0 ] || cat "$T/out"
for spec in 220200:SPGL_XMJBXXB:3 220200:SPGL_XMDWXXB:2 220200:SPGL_XMSPSXBLXXB:2 \
	220200:SPGL_XMSPSXBLXXXXB:8 220200:SPGL_XMSPSXPFWJXXB:1 220200:SPGL_XMSPSXBLTBCXXXB:1 \
	220200:SPGL_XMSQCLJQTFJXXB:2 220200:SPGL_XMSPSXZQYJXXB:1 \
	220300:SPGL_XMJBXXB:1 220300:SPGL_XMDWXXB:1 220300:SPGL_XMSPSXBLXXB:1 \
	220300:SPGL_XMSPSXBLXXXXB:2 220300:SPGL_XMSQCLJQTFJXXB:1 220300:SPGL_XMSPSXPFWJXXB:0; do
	r=${spec%%:*}; rest=${spec#*:}; t=${rest%%:*}; n=${rest#*:}
	check "$r $t in the outbox" "$n" "$(outbox "$r" "$t")"
done
# fixture row ids: 1xxx are 吉林市's, 2xxx 四平市's
check "吉林市 holds none of 四平市's rows" 0 \
	"$(sql "SELECT count(*) FROM outbox WHERE region='220200' AND substr(record_key, 4, 1) <> '1'")"
check "四平市 holds none of 吉林市's rows" 0 \
	"$(sql "SELECT count(*) FROM outbox WHERE region='220300' AND substr(record_key, 4, 1) <> '2'")"
for r in 220200 220300; do
	check "$r: every row of the city reached the outbox or quarantine" \
		"$(pg "SELECT sum(n) FROM (SELECT count(*) n FROM jlsp.t_project WHERE area_code='$r'
			UNION ALL SELECT count(*) FROM jlsp.t_unit WHERE area_code='$r'
			UNION ALL SELECT count(*) FROM jlsp.t_case WHERE area_code='$r'
			UNION ALL SELECT count(*) FROM jlsp.t_step WHERE area_code='$r'
			UNION ALL SELECT count(*) FROM jlsp.t_doc WHERE area_code='$r'
			UNION ALL SELECT count(*) FROM jlsp.t_tbcx WHERE area_code='$r'
			UNION ALL SELECT count(*) FROM jlsp.t_material WHERE area_code='$r'
			UNION ALL SELECT count(*) FROM jlsp.t_opinion WHERE area_code='$r') x")" \
		"$(sql "SELECT (SELECT count(*) FROM outbox WHERE region='$r') +
			(SELECT count(*) FROM quarantine WHERE region='$r')")"
done
check "GBK text in the SQL_ASCII database arrives as UTF-8 (项目名称)" 1 \
	"$(sql "SELECT count(*) FROM outbox_records WHERE record_key='XM-1002' AND data LIKE '%\"XMMC\":\"吉林市松花江大桥维修工程\"%'")"
check "GBK text arrives as UTF-8 (单位名称, 办理人)" 2 \
	"$(sql "SELECT count(*) FROM outbox_records WHERE (record_key='DW-1102' AND data LIKE '%吉林省建筑设计院%') OR (record_key='BL-1307' AND data LIKE '%\"BLR\":\"赵六\"%')")"
check "bytes that are not GBK are quarantined with the reason on XMMC" 1 \
	"$(sql "SELECT count(*) FROM quarantine WHERE record_key='XM-2002' AND reasons LIKE '%\"field\":\"XMMC\",\"code\":\"mapping\"%GBK%'")"
check "nothing else is quarantined" 1 "$(sql 'SELECT count(*) FROM quarantine')"
check "a void row is delivered as invalid, with its reason" 1 \
	"$(sql "SELECT count(*) FROM outbox_records WHERE record_key='XM-1003' AND valid=0 AND data LIKE '%\"SJWXYY\":\"重复申报，已作废\"%'")"
check "numeric 总投资额 keeps its decimal value" 1 \
	"$(sql "SELECT count(*) FROM outbox_records WHERE record_key='XM-1001' AND (data LIKE '%\"ZTZE\":12345.679,%' OR data LIKE '%\"ZTZE\":12345.679}%')")"
check "provincial 办理状态 codes become national BLZT (90 -> 11)" 1 \
	"$(sql "SELECT count(*) FROM outbox_records WHERE record_key='BL-1306' AND data LIKE '%\"BLZT\":11,%'")"
check "the cursor keeps (upd_time, row_id) per table" yes \
	"$(sql "SELECT cursor FROM cursors WHERE source='220200-provincial'" |
		grep -qF '"t_step":["2026-03-02 09:00:00",1308]' && echo yes || echo no)"

# 2. a second pull reads nothing; then a change and a new row are all it reads
before=$(sql 'SELECT count(*) FROM outbox')
ingest
check "a second pull adds nothing" "$before" "$(sql 'SELECT count(*) FROM outbox')"
pg "UPDATE jlsp.t_project SET xmmc = '吉林市第一中学综合楼（一期）', upd_time = '2026-03-03 10:00:00.250' WHERE row_id = 1001" >/dev/null
pg "INSERT INTO jlsp.t_step SELECT 1309, area_code, gcdm, slbh, blcs, blr, '40', NULL,
	'2026-03-06 10:00:00', dwmc, dwdm, '2026-03-03 10:00:00.250', 1, NULL
	FROM jlsp.t_step WHERE row_id = 1308" >/dev/null
ingest; rc=$?
check "the incremental pull exits 0" 0 "$rc"
# a change is two versions: the old one marked invalid (the gateway's correction row), the new
check "the incremental pull adds exactly the change and the new row" $((before + 3)) \
	"$(sql 'SELECT count(*) FROM outbox')"
check "the changed project's newest version holds the change" 1 \
	"$(sql "SELECT count(*) FROM outbox_records WHERE record_key='XM-1001' AND version=3 AND valid=1 AND data LIKE '%（一期）%'")"
check "the new step is there" 1 "$(sql "SELECT count(*) FROM outbox WHERE record_key='BL-1309'")"

# 3. 2500 cases and 2500 steps sharing one upd_time, read in pages of 1000 (pages end inside
# the run), with the connection killed mid-read: 四平市's pull is held at t_doc (after its
# cases and steps) by a lock in a second session, and its backend terminated there.
add_pv 220300-provincial 220300 '"page_size": 1000'
pg "INSERT INTO jlsp.t_case SELECT 300000 + g, '220300', '2026-220302-47-01-000001', 'JL-SX-002',
	1.0, 'JL-LC-01', 1.0, 'SPBULK' || lpad(g::text, 6, '0'), '220300-FGW',
	'四平市发展和改革委员会', 1, 1, NULL, 10, NULL, NULL, '2026-03-04 08:00:00', 1, NULL
	FROM generate_series(1, 2500) g" >/dev/null
pg "INSERT INTO jlsp.t_step SELECT 400000 + g, '220300', '2026-220302-47-01-000001',
	'SPBULK' || lpad(g::text, 6, '0'), '审批科', '王五', '10', NULL, '2026-03-07 09:00:00',
	'四平市发展和改革委员会', dwdm, '2026-03-04 08:00:00', 1, NULL
	FROM jlsp.t_step, generate_series(1, 2500) g WHERE row_id = 2301" >/dev/null
pg "INSERT INTO jlsp.t_doc VALUES (2401, '220300', '2026-220302-47-01-000001', 'SPSL2026000001',
	'四发改审批〔2026〕7号', '关于四平市人民医院门诊楼项目的批复', '2026-03-08', '9999-01-01',
	NULL, NULL, NULL, '10', NULL, '2026-03-04 08:00:00', 1, NULL)" >/dev/null
"$pgsh" -d "$pgdir" psql -c "BEGIN; LOCK TABLE jlsp.t_doc IN ACCESS EXCLUSIVE MODE;
	SELECT pg_sleep(600)" > /dev/null 2>&1 &
locker=$!
i=0
until [ "$(pg "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	WHERE c.relname = 't_doc' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ] ||
	[ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
ingest --source 220300-provincial &
spgw_pid=$!
i=0
victim=""
while [ -z "$victim" ] && [ $i -lt 600 ]; do
	victim=$(pg "SELECT pid FROM pg_stat_activity WHERE usename = 'spgw_reader'
		AND wait_event_type = 'Lock'")
	[ -n "$victim" ] || { sleep 0.1; i=$((i + 1)); }
done
check "the pull waits on the locked table" yes "$([ -n "$victim" ] && echo yes || echo no)"
check "its backend is terminated" t "$(pg "SELECT pg_terminate_backend(${victim:-0})")"
wait $spgw_pid; rc=$?
check "a connection killed mid-read: ingest exits 1" 1 "$rc"
check "  as a RETRY" yes "$(has 'asked to be retried later')"
check "  naming the city" yes "$(has '四平市 220300')"
check "  the table" yes "$(has 'jlsp.t_doc')"
check "  and the position" yes "$(has 'from its first row')"
check "  saying the connection was lost" yes "$(has 'the connection to the provincial database was lost')"
check "pages before the cut are kept: all 2500 cases" $((1 + 2500)) \
	"$(outbox 220300 SPGL_XMSPSXBLXXB)"
check "pages before the cut are kept: all 2500 steps of one upd_time" $((2 + 2500)) \
	"$(outbox 220300 SPGL_XMSPSXBLXXXXB)"
check "the cursor ends at the last of them" yes \
	"$(sql "SELECT cursor FROM cursors WHERE source='220300-provincial'" |
		grep -qF '"t_step":["2026-03-04 08:00:00",402500]' && echo yes || echo no)"
pg "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%'
	AND pid <> pg_backend_pid()" >/dev/null
wait $locker
ingest --source 220300-provincial; rc=$?
check "the next pull exits 0" 0 "$rc"
check "the next pull brings what was cut" 1 "$(sql "SELECT count(*) FROM outbox WHERE record_key='PF-2401'")"
check "nothing is stored twice" 0 "$(sql "SELECT count(*) FROM outbox WHERE region='220300' AND version <> 1")"
check "every bulk row arrived once" 5000 \
	"$(sql "SELECT count(DISTINCT record_key) FROM outbox WHERE region='220300' AND (record_key LIKE 'SL-3%' OR record_key LIKE 'BL-4%')")"

# 4. the server down: a RETRY that names the city, and the pull after it works
"$pgsh" -d "$pgdir" stop > /dev/null
ingest --source 220200-provincial; rc=$?
check "server down: ingest exits 1" 1 "$rc"
check "  as a RETRY saying it cannot connect" yes \
	"$(grep -q 'asked to be retried later.*吉林市 220200.*cannot connect' "$T/out" && echo yes || echo no)"
"$pgsh" -d "$pgdir" -p "$port" start > /dev/null
ingest --source 220200-provincial; rc=$?
check "server back: the pull exits 0" 0 "$rc"

# 5. faults a person must fix: each an ERROR naming city, table and what to do
pg "REVOKE SELECT ON jlsp.t_case FROM spgw_reader" >/dev/null
pg "UPDATE jlsp.t_case SET lxr = '张三丰', upd_time = '2026-03-05 00:00:00' WHERE row_id = 1201" >/dev/null
ingest --source 220200-provincial; rc=$?
check "a role without SELECT: ingest exits 1" 1 "$rc"
check "  as an ERROR" yes "$(has 'reported an error')"
check "  naming city and table" yes "$(has '吉林市 220200: jlsp.t_case: permission denied')"
check "  and the GRANT to run" yes "$(has 'GRANT SELECT ON jlsp.t_case TO spgw_reader')"
pg "GRANT SELECT ON jlsp.t_case TO spgw_reader" >/dev/null

pg "ALTER TABLE jlsp.t_tbcx RENAME TO t_tbcx_old" >/dev/null
ingest --source 220200-provincial; rc=$?
check "a renamed table: ingest exits 1" 1 "$rc"
check "  as an ERROR naming city and table" yes \
	"$(has '吉林市 220200: table jlsp.t_tbcx does not exist: it was renamed or dropped')"
check "  and what to do" yes "$(has 'take "t_tbcx" out of "tables"')"
check "  rows before it were kept (the changed case)" 1 \
	"$(sql "SELECT count(*) FROM outbox_records WHERE record_key='SL-1201' AND valid=1 AND data LIKE '%张三丰%'")"
pg "ALTER TABLE jlsp.t_tbcx_old RENAME TO t_tbcx" >/dev/null
ingest --source 220200-provincial; rc=$?
check "the table back: the pull exits 0" 0 "$rc"

add_pv wrong-region 220300 '"area_code": "220200"'
ingest --source wrong-region; rc=$?
check "a source file with the wrong region: ingest exits 1" 1 "$rc"
check "  with the message" yes "$(has 'city config points at the wrong region code')"
check "  naming both codes" yes "$(has 'area_code is 220200 but the source'"'"'s region is 220300')"
check "  and reading nothing" 0 "$(sql "SELECT count(*) FROM outbox WHERE source='wrong-region'")"
rm -f "$T/sources/wrong-region.json"

(umask 077 && echo 'not-the-password-9z' > "$T/wrong.pw")
PWFILE=$T/wrong.pw add_pv bad-password 220200
unset PWFILE
ingest --source bad-password; rc=$?
check "a refused password: ingest exits 1" 1 "$rc"
check "  as an ERROR saying so" yes "$(has 'refused the password of user spgw_reader')"
check "  without the password" no "$(has 'not-the-password-9z')"
chmod 644 "$T/wrong.pw"
ingest --source bad-password
check "a password file others can read is refused" yes "$(has 'run chmod 600')"
rm -f "$T/sources/bad-password.json"

cat > "$T/sources/inline.json" <<JSON
{ "plugin": "provincial", "region": "220200", "mapping": "provincial.json",
  "settings": { "conninfo": "host=127.0.0.1 port=$port dbname=jlsp user=spgw_reader password=$password" } }
JSON
ingest --source inline; rc=$?
check "a password inside conninfo is refused" yes "$(has 'conninfo holds a password')"
rm -f "$T/sources/inline.json"

# 6. the generator's world for two more cities (when tests/meson.build gives SPGW_JILIN_GEN):
# what its --expected file says each table gets, dirty records where it says, changes applied
# as the platform applies them (same row_id, newer upd_time) read as new versions.
if [ -n "${SPGW_JILIN_GEN:-}" ] && [ -x "$SPGW_JILIN_GEN" ]; then
	exp=$T/gen/expected.json
	"$SPGW_JILIN_GEN" --catalog "$SPGW_SRC/config/catalog/jilin.json" --seed 5 --projects 60 \
		--regions 220400,220500 --provincial "$T/gen/pv" --expected "$exp" > "$T/gen.out" 2>&1 ||
		{ not_ok "the generator failed"; cat "$T/gen.out"; }
	"$SPGW_SRC/contrib/provincial-db/load.sh" -d "$pgdir" "$T/gen/pv" > "$T/load.out" 2>&1 ||
		{ not_ok "load.sh of the generator's dataset failed"; cat "$T/load.out"; }
	add_pv 220400-provincial 220400 '"page_size": 100'
	add_pv 220500-provincial 220500 '"page_size": 100'
	ingest --source 220400-provincial && ingest --source 220500-provincial
	check "the generator's cities ingest" 0 "$?"
	for r in 220400 220500; do
		for t in SPGL_XMJBXXB SPGL_XMDWXXB SPGL_XMSPSXBLXXB SPGL_XMSPSXPFWJXXB \
			SPGL_XMSPSXBLTBCXXXB SPGL_XMSQCLJQTFJXXB SPGL_XMSPSXZQYJXXB; do
			check "$r $t: delivered and held as expected" \
				"$(jq ".regions[\"$r\"] | .delivered.$t + .held.$t" "$exp")" \
				"$(sql "SELECT count(DISTINCT record_key) FROM outbox WHERE region='$r' AND spgl_table='$t'")"
			check "$r $t: quarantined as expected" \
				"$(jq ".regions[\"$r\"].quarantined.$t" "$exp")" \
				"$(sql "SELECT count(*) FROM quarantine WHERE region='$r' AND spgl_table='$t' AND resolved = 0")"
		done
		# steps: every row arrives, and exactly the planted faults stay refused: a step read
		# before an earlier one of its case (the platform's upd_time order is not event
		# order; a nightly job re-stamps rows) waits in quarantine and is judged again, and
		# let go, when the earlier step arrives
		t=SPGL_XMSPSXBLXXXXB
		check "$r $t: every step reached the outbox or quarantine" \
			"$(jq ".regions[\"$r\"].records.t_step" "$exp")" \
			"$(sql "SELECT (SELECT count(DISTINCT record_key) FROM outbox WHERE region='$r' AND spgl_table='$t')
				+ (SELECT count(*) FROM quarantine WHERE region='$r' AND spgl_table='$t' AND resolved = 0)")"
		check "$r $t: quarantined as expected (steps that waited for an earlier one let go)" \
			"$(jq ".regions[\"$r\"].quarantined.$t" "$exp")" \
			"$(sql "SELECT count(*) FROM quarantine WHERE region='$r' AND spgl_table='$t' AND resolved = 0")"
	done
	jq -r '.dirty[] | select(.region == "220400" or .region == "220500") |
		[.outcome, .key, .field, .code] | @tsv' "$exp" > "$T/dirty.tsv"
	miss=0
	while IFS="$(printf '\t')" read -r outcome key field code; do
		case $outcome in
		quarantine) n=$(sql "SELECT count(*) FROM quarantine WHERE record_key='$key' AND reasons LIKE '%\"field\":\"$field\",\"code\":\"$code\"%'") ;;
		held | delivered) n=$(sql "SELECT count(*) FROM outbox WHERE record_key='$key' AND version = 1") ;;
		*) n=0 ;;
		esac
		[ "$n" = 1 ] || { miss=$((miss + 1)); echo "# $outcome $key $field $code: not so"; }
	done < "$T/dirty.tsv"
	check "every dirty record of the generator where it says ($(wc -l < "$T/dirty.tsv") records)" 0 "$miss"
	if [ -d "$T/gen/pv/changes" ]; then
		"$SPGW_SRC/contrib/provincial-db/load.sh" -d "$pgdir" --upsert "$T/gen/pv/changes" \
			> "$T/load.out" 2>&1 || { not_ok "load.sh --upsert failed"; cat "$T/load.out"; }
		ingest --source 220400-provincial && ingest --source 220500-provincial
		check "the changes ingest" 0 "$?"
		jq -r '.changes[] | select(.region == "220400" or .region == "220500") |
			[.change, .key] | @tsv' "$exp" > "$T/changes.tsv"
		miss=0
		while IFS="$(printf '\t')" read -r change key; do
			valid=$(sql "SELECT valid FROM outbox WHERE record_key='$key' ORDER BY version DESC LIMIT 1")
			case $change in
			withdrawn) [ "$valid" = 0 ] || { miss=$((miss + 1)); echo "# $key: not withdrawn"; } ;;
			*) [ "$valid" = 1 ] && [ "$(sql "SELECT max(version) FROM outbox WHERE record_key='$key'")" -gt 1 ] ||
				{ miss=$((miss + 1)); echo "# $key: no new version"; } ;;
			esac
		done < "$T/changes.tsv"
		check "every change arrives as a new version ($(wc -l < "$T/changes.tsv") changes)" 0 "$miss"
	fi
else
	echo "# SPGW_JILIN_GEN not set: the generator's dataset is not tested here"
fi

# the real password never reached any output or the ledger
check "the password is in no message" no \
	"$(grep -qF "$password" "$T/all.out" && echo yes || echo no)"
check "the password is not in the ledger" 0 \
	"$(sql "SELECT count(*) FROM quarantine WHERE instr(raw, '$password') > 0 OR instr(reasons, '$password') > 0")"

finish
