#!/bin/sh
# Reconciliation end to end: Changchun's cases from its simulated API (the plugin counts them
# with the city's own /stats/daily), delivered to the national simulator; then the three
# counts must agree day by day. The national store is then rebuilt from the ledger with
# known differences (contrib/national-sim `seed --drop --alter --extra --manifest`): the
# record-level comparison must name exactly those, a repair must queue exactly what the
# national side lacks or holds in an old version, a second repair nothing, and after an
# upload everything agrees again but the extras. Then the ways a national side or a plugin
# can mislead: counts for other days, a total that is not the sum, counts that disagree with
# the keys, keys whose paging loops or repeats, answers too slow, a plugin whose count hangs:
# each reported as such, never taken as agreement.
. "$(dirname "$0")/lib.sh"
: "${SPGW_JILIN_GEN:?}" "${SPGW_CHANGCHUN_SIM:?}" "${SPGW_SIM:?}" "${SPGW_TEST_PLUGINS:?}"
: "${SPGW_SIM_CLIENT:?}"
cc_pid=
sim_pid=
trap 'kill $cc_pid $sim_pid 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
SCHEMA=$SPGW_SRC/config/schema/spgl-v3.json

"$SPGW_JILIN_GEN" --catalog "$SPGW_SRC/config/catalog/jilin.json" --seed 5 --projects 40 \
	--regions 220100 --dirty 0 --from 2026-09-01 --to 2026-10-31 --changchun "$T/cc" \
	--expected "$T/exp.json" > "$T/gen.out" 2>&1 || { cat "$T/gen.out"; exit 1; }
umask 077
echo "recon-e2e-$$-secret" > "$T/app_secret"
umask 022
"$SPGW_CHANGCHUN_SIM" --data "$T/cc" --app-id spgw-220000 --app-secret-file "$T/app_secret" \
	--port-file "$T/cc.port" --quiet > "$T/cc.log" 2>&1 &
cc_pid=$!
"$SPGW_SIM" init --dir "$T/nat" > /dev/null
wait_file "$T/cc.port"

# start_sim STORE [FAULTS...]: the national simulator on a store, its port in $nport
start_sim() {
	store=$1
	shift
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -f "$T/nat.port"
	"$SPGW_SIM" serve --dir "$T/$store" --listen "127.0.0.1:${nport:-0}" \
		--port-file "$T/nat.port" --quiet --schema "$SCHEMA" "$@" >> "$T/nat.log" 2>&1 &
	sim_pid=$!
	wait_file "$T/nat.port"
	nport=$(cat "$T/nat.port")
}
start_sim nat
mkdir -p "$T/sources" "$T/state"
gateway() {
	cat > "$T/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SCHEMA",
  "log": { "level": "warning" },
  "national": { "url": "https://127.0.0.1:$nport/spgl/v3",
    "gateway_id": "220000-01", "national_public_key": "nat/national.pub",
    "ca_file": "nat/ca.pem", "timeout": ${NTIMEOUT:-10}, "retry_base_ms": 50,
    "retry_max_ms": 200 } }
JSON
}
gateway
cat > "$T/sources/220100-changchun.json" <<JSON
{ "plugin": "changchun", "region": "220100", "mapping": "changchun.json",
  "settings": { "base_url": "http://127.0.0.1:$(cat "$T/cc.port")", "app_id": "spgw-220000",
    "app_secret_file": "$T/app_secret", "page_size": 500 } }
JSON
spgw() { "$SPGW" -c "$T/spgw.json" "$@"; }
spgw keygen > /dev/null 2>&1
"$SPGW_SIM" register --dir "$T/nat" --gateway 220000-01 --key "$T/state/keys/gateway.pub" \
	--regions '22*' > /dev/null
start_sim nat
FROM=2026-01-01
TO=2026-12-31

# 1. delivered: the three counts agree, day by day
spgw run --once > "$T/run.out" 2>&1
check "run --once delivers everything" 0 $?
spgw reconcile --from $FROM --to $TO --report "$T/r1.json" > "$T/r1.txt" 2>&1
rc=$?
check "everything delivered: reconcile exit 0" 0 $rc
[ $rc = 0 ] || head -30 "$T/r1.txt"
grep -q "0 differ, 0 incomplete" "$T/r1.txt" && ok "no table differs" ||
	not_ok "summary: $(tail -3 "$T/r1.txt")"
grep -q "not counted" "$T/r1.txt" && not_ok "a table was not counted: $(grep -m1 'not counted' "$T/r1.txt")" ||
	ok "every table counted by the city system"
# the report's city totals are the generator's numbers
# (the generator's records, less the one it withdrew: a city counts what is in force)
check "city total = the generator's records in force" \
	"$(jq '.regions["220100"] | ([.records[]] | add) - .withdrawn' "$T/exp.json")" \
	"$(jq '[.summary.rows[].city] | add' "$T/r1.json")"
check "report: national = ledger" "$(jq '[.summary.rows[].ledger] | add' "$T/r1.json")" \
	"$(jq '[.summary.rows[].national] | add' "$T/r1.json")"

# 2. known differences: a national store rebuilt from the ledger, a few records dropped,
# a few held in an older version, a few it should not have
kill "$sim_pid"
wait "$sim_pid" 2>/dev/null
sim_pid=
sqlite3 "$T/state/spgw.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
"$SPGW_SIM" init --dir "$T/nat2" > /dev/null
cp "$T/nat/gateways.json" "$T/nat2/"
rm -f "$T/nat2/national.db"
"$SPGW_SIM" seed --dir "$T/nat2" --from-ledger "$T/state/spgw.db" --drop 0.01 --alter 0.01 \
	--extra 3 --seed 7 --manifest "$T/manifest" > "$T/seed.out" 2>&1 ||
	{ not_ok "seed failed: $(cat "$T/seed.out")"; finish; exit 1; }
sed -i "s|nat/national.pub|nat2/national.pub|; s|nat/ca.pem|nat2/ca.pem|" "$T/spgw.json"
start_sim nat2
gateway
sed -i "s|nat/national.pub|nat2/national.pub|; s|nat/ca.pem|nat2/ca.pem|" "$T/spgw.json"
spgw reconcile --from $FROM --to $TO --detail --all-keys --no-city > "$T/r2.txt" 2>&1
check "known differences: exit 1" 1 $?
# the manifest: kind region table day key; spgw's list: the same in its words
awk -F'\t' '{ print $1, $2, $3, $4, $5 }' "$T/manifest" | sed 's/^dropped /missing_national /;
	s/^altered /digest /; s/^extra /missing_ledger /' | sort > "$T/want"
sqlite3 "$T/state/spgw.db" "SELECT kind, region, spgl_table, day, record_key FROM recon_keys
	WHERE run = (SELECT max(id) FROM recon_runs) ORDER BY 1, 2, 3, 4, 5" |
	tr '|' ' ' | sort > "$T/got"
check "the differences found are exactly the planted ones ($(wc -l < "$T/want"))" \
	"$(cat "$T/want" | md5sum)" "$(cat "$T/got" | md5sum)"
[ "$(cat "$T/want" | md5sum)" = "$(cat "$T/got" | md5sum)" ] || diff "$T/want" "$T/got" | head
grep -q "国家平台缺少" "$T/r2.txt" && ok "missing ones named in Chinese too" || not_ok "no Chinese kind"

# 3. repair: exactly the dropped and altered ones queued; twice: nothing more
spgw reconcile --from $FROM --to $TO --repair --all-keys --no-city > "$T/r3.txt" 2>&1
want_q=$(grep -c '^\(dropped\|altered\)	' "$T/manifest")
check "repair queues what the national side lacks or holds old" "$want_q" \
	"$(sqlite3 "$T/state/spgw.db" "SELECT count(*) FROM recon_keys WHERE action = 'requeued'
	AND run = (SELECT max(id) FROM recon_runs)")"
spgw reconcile --from $FROM --to $TO --repair --all-keys --no-city > "$T/r4.txt" 2>&1
check "a second repair queues nothing" 0 \
	"$(sqlite3 "$T/state/spgw.db" "SELECT count(*) FROM recon_keys WHERE action = 'requeued'
	AND run = (SELECT max(id) FROM recon_runs)")"
spgw upload > "$T/up.out" 2>&1
check "the queued ones are delivered" 0 $?
spgw reconcile --from $FROM --to $TO --detail --all-keys --no-city > "$T/r5.txt" 2>&1
check "after the repair only the extras differ" \
	"$(grep -c '^extra	' "$T/manifest")" \
	"$(sqlite3 "$T/state/spgw.db" "SELECT count(*) FROM recon_keys WHERE
	run = (SELECT max(id) FROM recon_runs)")"
check "and they are the extras" "$(grep -c '^extra	' "$T/manifest")" \
	"$(sqlite3 "$T/state/spgw.db" "SELECT count(*) FROM recon_keys WHERE kind = 'missing_ledger'
	AND run = (SELECT max(id) FROM recon_runs)")"

# 4. the report of a run, again, without asking anyone: the same numbers
run=$(spgw reconcile --history --limit 1 | awk 'NR == 2 { print $1 }')
kill "$sim_pid"
wait "$sim_pid" 2>/dev/null
sim_pid=
spgw reconcile --run "$run" --report "$T/again.csv" > "$T/again.txt" 2>&1
check "a kept run renders with the platform down (exit 1: it differs)" 1 $?
head -c 3 "$T/again.csv" | od -An -tx1 | grep -q "ef bb bf" && ok "CSV starts with a BOM" ||
	not_ok "no BOM"
grep -q "业务日期" "$T/again.csv" && ok "CSV has the Chinese headers" || not_ok "CSV headers"
spgw reconcile --run "$run" --report "$T/again.html" > /dev/null 2>&1
grep -q "<svg" "$T/again.html" && ok "HTML has its chart" || not_ok "no chart in the HTML"
grep -Eq 'https?://|src="//' "$T/again.html" && not_ok "the HTML names a network resource" ||
	ok "the HTML needs no network"

# 5. a lying or slow national side: each said, never agreement
national_says() {
	start_sim nat2 "$@"
	gateway
	sed -i "s|nat/national.pub|nat2/national.pub|; s|nat/ca.pem|nat2/ca.pem|" "$T/spgw.json"
	spgw reconcile --from $FROM --to $TO --no-city ${DETAIL:-} > "$T/lie.txt" 2>&1
	lie_rc=$?
}
# one day that holds records, asked alone: a count for any other day was not asked
DAY=$(sqlite3 "$T/state/spgw.db" "SELECT day FROM keyday WHERE n > 0 AND day <> ''
	GROUP BY day ORDER BY sum(n) DESC LIMIT 1")
FROM=$DAY
TO=$DAY
national_says --lie-counts shift
check "counts for other days: exit 1" 1 $lie_rc
grep -q "a day not asked" "$T/lie.txt" && ok "counts for other days: said" ||
	not_ok "counts shifted: $(grep -m2 -i 'national' "$T/lie.txt")"
grep -q "INCOMPLETE" "$T/lie.txt" && ok "counts for other days: incomplete, not agreement" ||
	not_ok "shifted counts not marked incomplete"
national_says --lie-counts outside
grep -q "a day not asked" "$T/lie.txt" && ok "counts outside the range: said" ||
	not_ok "counts outside: $(grep -m2 -i 'national' "$T/lie.txt")"
FROM=2026-01-01
TO=2026-12-31
national_says --lie-counts total
grep -q "add up to" "$T/lie.txt" && ok "a total that is not the sum: said" ||
	not_ok "bad total: $(grep -m2 -i 'national' "$T/lie.txt")"
DETAIL=--all-keys
national_says --lie-counts plus-one
grep -q "keys listing gives" "$T/lie.txt" && ok "counts that disagree with the keys: said" ||
	not_ok "plus-one: $(grep -m3 -i 'national\|keys' "$T/lie.txt")"
national_says --lie-keys loop
check "paging that loops: exit 1" 1 $lie_rc
grep -q "listing is not taken" "$T/lie.txt" && ok "paging that loops: said" ||
	not_ok "loop: $(grep -m3 -i 'listing\|keys' "$T/lie.txt")"
# repeats across pages need a day of more than one page (5000 keys): a ledger made for it
mkdir -p "$T/big"
"$SPGW_SIM_CLIENT" make-ledger --ledger "$T/big" --template \
	"$SPGW_SRC/tests/cases/validate/project-valid/record.json" --regions 220100 \
	--tables SPGL_XMJBXXB --records 6000 --from 2026-06-01 --days 1 --seed 3 \
	> "$T/big.out" 2>&1 || not_ok "make-ledger: $(tail -2 "$T/big.out")"
"$SPGW_SIM" init --dir "$T/nat3" > /dev/null
cp "$T/nat/gateways.json" "$T/nat3/"
"$SPGW_SIM" seed --dir "$T/nat3" --from-ledger "$T/big/spgw.db" > "$T/seed3.out" 2>&1 ||
	not_ok "seed: $(tail -2 "$T/seed3.out")"
start_sim nat3 --lie-keys repeat
gateway
sed -i "s|\"state_dir\": \"state\"|\"state_dir\": \"big\"|; s|nat/national.pub|nat3/national.pub|;
	s|nat/ca.pem|nat3/ca.pem|" "$T/spgw.json"
mkdir -p "$T/big/keys"
cp "$T/state/keys/"* "$T/big/keys/"
spgw reconcile --from 2026-06-01 --to 2026-06-01 --all-keys --no-city > "$T/lie.txt" 2>&1
check "keys repeated across pages: exit 1" 1 $?
grep -q "repeats" "$T/lie.txt" && ok "keys repeated across pages: said" ||
	not_ok "repeat: $(grep -m3 -i 'listing\|keys' "$T/lie.txt")"
start_sim nat3
spgw reconcile --from 2026-06-01 --to 2026-06-01 --all-keys --no-city > "$T/big.txt" 2>&1
check "the same 6000-key day, told the truth: agrees" 0 $?
DETAIL=
NTIMEOUT=1
national_says --slow-query-ms 3000
NTIMEOUT=
check "a national side too slow: exit 1" 1 $lie_rc
grep -qi "timed out\|timeout" "$T/lie.txt" && ok "too slow: said" ||
	not_ok "slow: $(grep -m2 -i 'national' "$T/lie.txt")"
grep -q "INCOMPLETE" "$T/lie.txt" && ok "too slow: incomplete, not agreement" ||
	not_ok "slow not marked incomplete"

# 6. a plugin whose count hangs: that city "not counted", the rest goes on
start_sim nat2
gateway
sed -i "s|nat/national.pub|nat2/national.pub|; s|nat/ca.pem|nat2/ca.pem|" "$T/spgw.json"
cat > "$T/sources/220200-hang.json" <<JSON
{ "plugin": "$SPGW_TEST_PLUGINS/hang.so", "region": "220200", "mapping": "changchun.json",
  "timeout": 2 }
JSON
spgw reconcile --from $FROM --to $TO > "$T/hang.txt" 2>&1
grep -q "220200.*not counted" "$T/hang.txt" || grep -A1 "^220200" "$T/hang.txt" |
	grep -q "not counted" && ok "a count that hangs: not counted" ||
	not_ok "hang: $(grep -m3 '220200' "$T/hang.txt")"
grep -q "sent nothing for 2000 ms" "$T/hang.txt" && ok "and why" ||
	not_ok "no reason: $(grep -m2 'city:' "$T/hang.txt")"
grep "^220100" "$T/hang.txt" | grep -q "city [0-9]" && ok "the other city is still counted" ||
	not_ok "220100 not counted: $(grep -m1 '^220100' "$T/hang.txt")"
finish
