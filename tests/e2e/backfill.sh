#!/bin/sh
# End to end for `spgw backfill`: the real spgw-changchun-sim on a free loopback port, the real
# changchun plugin, the real `spgw`, the ledger read back with sqlite3.
#
# Changchun's history runs from January to March 2026, with a batch written across the
# midnight that ends February. The source was pulled only from a later cursor (March on, as a
# fresh state directory whose cursor was set to "now"): the backfill of February brings
# exactly the records changed in February (counted from the dataset itself), the source's
# regular cursor does not move, and the ledger ends as a reference that pulled February and
# March in one regular pull. A rerun says it is done; --restart stores nothing new. A
# backfill interrupted by SIGINT after its first commits, and one stopped by the simulator's
# fault, resume and end with the same ledger. A source whose lock another process holds is
# refused, by the backfill and by `spgw ingest`, with the message. A plugin without
# pull_range() is said to be one. Then the provincial plugin against a real PostgreSQL, when
# its server binaries are installed (SPGW_PG_BIN).
. "$(dirname "$0")/lib.sh"
: "${SPGW_CHANGCHUN_SIM:?}" "${SPGW_TEST_PLUGINS:?}"
SIM=$SPGW_CHANGCHUN_SIM
SYNTH=$SPGW_SRC/contrib/changchun-sim/synth.sh
SRC=220100-changchun
SECRET="bf-e2e-secret-$$-Q4"
FROM=2026-02-01
TO=2026-02-28
sim_pid=
holder_pid=
stop_sim() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	sim_pid=
}
stop_holder() {
	if [ -n "$holder_pid" ]; then
		touch "$T/release"
		wait "$holder_pid" 2>/dev/null || true
	fi
	holder_pid=
}
cleanup() {
	stop_sim
	stop_holder
	[ -n "${pgdir:-}" ] && "$SPGW_SRC/contrib/provincial-db/pg.sh" -d "$pgdir" stop \
		>/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
printf '%s\n' "$SECRET" > "$T/app_secret"
chmod 600 "$T/app_secret"

# start_sim [SIM OPTIONS...]: serve $T/all on a free port; the port file appears once it
# listens.
start_sim() {
	stop_sim
	rm -f "$T/port"
	"$SIM" --data "$T/all" --app-id spgw-220000 --app-secret-file "$T/app_secret" \
		--port-file "$T/port" --seed 3 --quiet "$@" >> "$T/sim.log" 2>&1 &
	sim_pid=$!
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 300 ] && kill -0 "$sim_pid" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	port=$(cat "$T/port" 2>/dev/null || echo 0)
}

# use STATE: the gateway file and the source for state directory $T/STATE (made if new);
# extra settings as JSON members.
use() {
	state=$1
	shift
	mkdir -p "$T/$state" "$T/sources"
	cat > "$T/spgw.json" <<JSON
{ "state_dir": "$state", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SPGW_SRC/config/schema/spgl-v3.json",
  "log": { "level": "warning" } }
JSON
	cat > "$T/sources/$SRC.json" <<JSON
{ "plugin": "changchun", "region": "220100", "mapping": "changchun.json", "timeout": 60,
  "settings": { "base_url": "http://127.0.0.1:$port", "app_id": "spgw-220000",
    "app_secret_file": "$T/app_secret", "page_size": ${PAGE:-40}, "retry_base_ms": 20
    ${1:+, $1} } }
JSON
}
db() { sqlite3 -batch -noheader "$T/$state/spgw.db" "$1"; }
# run CMD...: spgw with the gateway file, stdout in $T/out, stderr in $T/err
run() {
	"$SPGW" -c "$T/spgw.json" "$@" > "$T/out" 2> "$T/err"
	set -- $?
	cat "$T/out" "$T/err" >> "$T/all.out"
	return "$1"
}
backfill() { run backfill --source "$SRC" --from "$FROM" --to "$TO" "$@"; }
in_out() { grep -qF -- "$1" "$T/out" && echo yes || echo no; }
in_err() { grep -qF -- "$1" "$T/err" && echo yes || echo no; }
# column N (3 records, 4 new, 5 changed, 6 unchanged, 7 quarantined) of the source's row
col() { awk -v s="$SRC" -v n="$1" '$1 == s { print $n }' "$T/out"; }
# the source's regular cursor set as if pulled up to (T, id "0"): every entity starts there
set_cursor() {
	c='{"v":1'
	for e in projects units cases steps documents procedures materials opinions; do
		c="$c,\"$e\":{\"t\":\"$1\",\"id\":\"0\"}"
	done
	db "INSERT INTO cursors (source, cursor, updated_at) VALUES ('$SRC', '$c}',
		'2026-03-01T00:00:00Z')"
}
# what a ledger holds: each key's newest version and its digest, and the open quarantine
ledger() {
	sqlite3 -batch -noheader "$T/$1/spgw.db" "
		SELECT region, spgl_table, record_key, digest FROM outbox o WHERE version =
		  (SELECT max(version) FROM outbox p WHERE p.region = o.region AND
		   p.spgl_table = o.spgl_table AND p.record_key = o.record_key)
		ORDER BY 1, 2, 3;
		SELECT 'quarantine', source_table, count(*) FROM quarantine WHERE resolved = 0
		GROUP BY source_table ORDER BY 2;" | cksum
}
# records of the dataset changed on days $1..$2
changed() {
	cat "$T"/all/*.jsonl | jq -r '.update_time[0:10]' |
		awk -v f="$1" -v t="$2" '$0 >= f && $0 <= t' | wc -l | tr -d ' '
}
# wait_for SQL: until the ledger answers non-empty (at most 30 s)
wait_for() {
	i=0
	while [ -z "$(db "$1" 2>/dev/null)" ] && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# ---- the history: January, February (a batch across its last midnight), March ----
"$SYNTH" "$T/all" -p 8 -c 2 -t '2026-01-20 08:00:00'
"$SYNTH" "$T/d2" -p 8 -c 2 -i 9 -t '2026-02-10 08:00:00'
"$SYNTH" "$T/d3" -p 8 -c 2 -i 17 -t '2026-02-28 23:59:00'
"$SYNTH" "$T/d4" -p 8 -c 2 -i 25 -t '2026-03-05 08:00:00'
for d in d2 d3 d4; do
	for f in "$T/$d"/*.jsonl; do cat "$f" >> "$T/all/$(basename "$f")"; done
done
feb=$(changed "$FROM" "$TO")
march=$(changed 2026-03-01 2026-12-31)
check "the dataset has February records and a batch across its end" yes \
	"$([ "$feb" -gt 100 ] && [ "$(changed 2026-03-01 2026-03-01)" -gt 0 ] && echo yes || echo no)"
start_sim
check "the simulator listens on loopback" yes "$([ "$port" -gt 0 ] && echo yes || echo no)"

# ---- 1. the reference: February and March in one regular pull ----
use ref
run status > /dev/null
set_cursor '2026-02-01 00:00:00'
run ingest
check "reference ingest of February and March" "0 $((feb + march))" "$? $(col 3)"

# ---- 2. pulled only from March on, then February backfilled ----
use a
run status > /dev/null
set_cursor '2026-03-01 00:00:00'
run ingest
check "the regular pull took March only" "0 $march" "$? $(col 3)"
regular=$(db "SELECT cursor FROM cursors WHERE source = '$SRC'")
backfill
check "backfill of February exits 0" 0 "$?"
check "it brought exactly February's records" "$feb" "$(col 3)"
check "all of them new to the ledger" yes "$([ "$(col 4)" -gt 0 ] && [ "$(col 5)" = 0 ] &&
	echo yes || echo no)"
check "nothing quarantined" 0 "$(col 7)"
check "the progress ends with the figures (not a terminal: a plain line)" yes \
	"$(grep -q "^spgw: backfill $SRC $FROM..$TO: [0-9,]* .*records/s" "$T/err" &&
		echo yes || echo no)"
check "the source's regular cursor did not move" "$regular" \
	"$(db "SELECT cursor FROM cursors WHERE source = '$SRC'")"
check "the range has its own cursor" yes \
	"$(db "SELECT cursor FROM cursors WHERE source = 'backfill:$SRC:$FROM:$TO'" |
		jq -r '.range | join("..")' | grep -qx "$FROM..$TO" && echo yes || echo no)"
check "the range is remembered as done" done \
	"$(db "SELECT cursor FROM cursors WHERE source = 'backfill-state:$SRC:$FROM:$TO'" |
		cut -c1-4)"
check "the ledger is the reference's" "$(ledger ref)" "$(ledger a)"
run ingest
check "the next regular pull finds nothing new" "0 0" "$? $(col 3)"

# ---- 3. a rerun is done already; --restart stores nothing new ----
rows=$(db 'SELECT count(*) FROM outbox')
backfill
check "a rerun exits 0" 0 "$?"
check "a rerun says it is done" yes "$(in_out "is already done")"
check "... and how to run it again" yes "$(in_out "; --restart to run again")"
check "a rerun pulls nothing" "$rows" "$(db 'SELECT count(*) FROM outbox')"
backfill --restart
check "--restart exits 0" 0 "$?"
check "--restart reads February again" "$feb" "$(col 3)"
check "--restart: nothing new, nothing changed" "0 0 $feb" "$(col 4) $(col 5) $(col 6)"
check "--restart stores no version" "$rows" "$(db 'SELECT count(*) FROM outbox')"
check "--restart leaves the ledger as it was" "$(ledger ref)" "$(ledger a)"

# ---- 4. interrupted by SIGINT after its first commits, then resumed ----
start_sim --slow-ms 60
PAGE=5 use b '"commit_records": 5'
run status > /dev/null
set_cursor '2026-03-01 00:00:00'
run ingest
"$SPGW" -c "$T/spgw.json" backfill --source "$SRC" --from "$FROM" --to "$TO" \
	> "$T/out" 2> "$T/err" &
bf=$!
wait_for "SELECT 1 FROM cursors WHERE source = 'backfill:$SRC:$FROM:$TO'"
kill -INT "$bf"
wait "$bf"
check "SIGINT: exit 1" 1 "$?"
check "SIGINT: it says how to resume" yes \
	"$(in_err "interrupted; run the same command again to resume")"
check "SIGINT: the table says interrupted" yes "$(in_out "interrupted")"
stored=$(col 3)
check "SIGINT: committed records were kept, not all of February" yes \
	"$([ "$stored" -gt 0 ] && [ "$stored" -lt "$feb" ] && echo yes || echo no)"
check "SIGINT: the range is not done" running \
	"$(db "SELECT cursor FROM cursors WHERE source = 'backfill-state:$SRC:$FROM:$TO'")"
start_sim
use b '"commit_records": 5'
backfill
check "resumed: exit 0" 0 "$?"
check "resumed: the rest of February, nothing twice" "$feb" "$((stored + $(col 3)))"
check "resumed: the ledger is the uninterrupted one's" "$(ledger a)" "$(ledger b)"

# ---- 5. stopped by the simulator's faults, then resumed ----
use c
run status > /dev/null
set_cursor '2026-03-01 00:00:00'
run ingest
start_sim --html-every 7
use c '"commit_records": 5, "max_retries": 0'
backfill
check "a fault: exit 1" 1 "$?"
check "a fault: the page is named" yes "$(in_err "an HTML page instead of JSON")"
check "a fault: what to do" yes "$(in_err "run the same command again to go on from there")"
stored=$(col 3)
check "a fault: the pages before it were kept" yes \
	"$([ "$stored" -gt 0 ] && [ "$stored" -lt "$feb" ] && echo yes || echo no)"
start_sim
use c '"commit_records": 5'
backfill
check "after the fault: resumed to the end" "0 $feb" "$? $((stored + $(col 3)))"
check "after the fault: the ledger is the uninterrupted one's" "$(ledger a)" "$(ledger c)"

# ---- 6. a source another process is pulling ----
start_sim
use a
rm -f "$T/held" "$T/release"
flock -o "$T/a/locks/$SRC.lock" sh -c \
	"touch '$T/held'; while [ ! -e '$T/release' ]; do sleep 0.05; done" &
holder_pid=$!
i=0
while [ ! -e "$T/held" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
backfill --restart
check "busy: the backfill exits 1" 1 "$?"
check "busy: the backfill says who pulls it" yes \
	"$(in_err "a regular pull or another backfill is pulling $SRC")"
run ingest
check "busy: ingest exits 1" 1 "$?"
check "busy: ingest says it" yes \
	"$(in_out "a backfill or another spgw is pulling $SRC")"
check "busy: ... and when it will be pulled" yes "$(in_out "it will be pulled on the next run")"
check "busy: nothing was pulled" 0 "$(col 3)"
stop_holder
run ingest
check "released: ingest pulls again" 0 "$?"

# ---- 7. the command line, and a plugin without pull_range() ----
for bad in "2026-02-30 2026-03-01 not a day of the calendar" \
	"2026-03-01 2026-02-01 is after --to" "2026-2-1 2026-02-03 YYYY-MM-DD" \
	"2026-02-01 2099-01-01 is in the future"; do
	set -- $bad
	f=$1 t=$2
	shift 2
	run backfill --source "$SRC" --from "$f" --to "$t"
	check "--from $f --to $t: exit 2, \"$*\"" "2 yes" "$? $(in_err "$*")"
done
run backfill --source nope --from "$FROM" --to "$TO"
check "an unknown source: exit 2" "2 yes" "$? $(in_err 'no source named "nope"')"
cat > "$T/sources/old.json" <<JSON
{ "plugin": "$SPGW_TEST_PLUGINS/retry.so", "region": "220300", "mapping": "files-demo.json" }
JSON
run backfill --source old --from "$FROM" --to "$TO"
check "a plugin without pull_range(): exit 1" 1 "$?"
check "... and it says so" yes "$(in_err "plugin retry cannot re-pull a date range; its \
regular pull already reads everything from its cursor")"
rm -f "$T/sources/old.json"
stop_sim

# ---- 8. the provincial plugin, when PostgreSQL is installed ----
bin=${SPGW_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bin/postgres" ] || ! command -v psql > /dev/null 2>&1 ||
	[ ! -e "$SPGW_PLUGIN_DIR/spgw-provincial.so" ]; then
	echo "# skip: the provincial part (no PostgreSQL server in $bin, or no provincial plugin)"
	finish
	exit $?
fi
export SPGW_PG_BIN="$bin"
pgsh=$SPGW_SRC/contrib/provincial-db/pg.sh
pgdir=$T/pg
chmod 711 "$T"
pg() { "$pgsh" -d "$pgdir" psql -tA -c "$1"; }
pport=$((20000 + $$ % 20000))
i=0
until "$pgsh" -d "$pgdir" -p "$pport" start > "$T/pg.out" 2>&1; do
	i=$((i + 1))
	[ $i -lt 8 ] || break
	pport=$((pport + 997))
done
"$SPGW_SRC/contrib/provincial-db/load.sh" -d "$pgdir" "$SPGW_SRC/tests/cases/provincial" \
	> "$T/load.out" 2>&1 && ok "PostgreSQL started and loaded" ||
	{ not_ok "PostgreSQL did not start or load"; cat "$T/pg.out" "$T/load.out"; }
# every row changed on March 2; a project moved to March 5
pg "UPDATE jlsp.t_project SET upd_time = '2026-03-05 10:00:00' WHERE row_id = 1003" > /dev/null
SRC=220200-provincial
pv() {
	use "$1"
	rm -f "$T/sources/220100-changchun.json"
	cat > "$T/sources/$SRC.json" <<JSON
{ "plugin": "provincial", "region": "220200", "mapping": "provincial.json",
  "settings": { "conninfo": "host=127.0.0.1 port=$pport dbname=jlsp user=spgw_reader",
    "password_file": "$pgdir/reader.password", "page_size": 2 } }
JSON
}
pv pref
run ingest
check "provincial: the reference pulls 吉林市's 20 rows" "0 20" "$? $(col 3)"
pv pa
run backfill --source "$SRC" --from 2026-03-02 --to 2026-03-02
check "provincial: March 2 holds 19 rows" "0 19" "$? $(col 3)"
check "provincial: no regular cursor was written" "" \
	"$(db "SELECT cursor FROM cursors WHERE source = '$SRC'")"
run backfill --source "$SRC" --from 2026-03-03 --to 2026-03-31
check "provincial: March 3 to 31 holds the moved project" "0 1" "$? $(col 3)"
check "provincial: the two ranges make the reference's ledger" "$(ledger pref)" "$(ledger pa)"
run backfill --source "$SRC" --from 2026-03-02 --to 2026-03-02 --restart
check "provincial: --restart stores nothing new" "0 0 0 19" "$? $(col 4) $(col 5) $(col 6)"
finish
