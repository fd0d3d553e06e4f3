#!/bin/sh
# Delivery end to end: the real spgw against the real national-platform simulator on
# loopback (contrib/national-sim), through every answer PROTOCOL.md's status table names and
# the ways a platform can lie. After each case the simulator's own store is compared with
# the ledger: every delivered version is there exactly once, and nothing is lost.
. "$(dirname "$0")/lib.sh"
: "${SPGW_SIM:?}"
SIM=$SPGW_SIM
SCHEMA=$SPGW_SRC/config/schema/spgl-v3.json
sim_pid=
stop_sim() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	sim_pid=
}
trap 'stop_sim; rm -rf "$T"' EXIT

# national [EXTRA JSON MEMBERS]: the gateway file, pointed at the simulator's current port.
national() {
	cat > "$T/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SCHEMA",
  "log": { "level": "warning" },
  "national": { "url": "https://127.0.0.1:$port/spgl/v3", "gateway_id": "220000-01",
    "national_public_key": "nat/national.pub", "ca_file": "${CA:-nat/ca.pem}",
    "retry_base_ms": 50, "retry_max_ms": 400, "timeout": ${TIMEOUT:-5} ${1:-} } }
JSON
}

# start_sim DIR [FAULTS...]: serve on a free loopback port, wait until it listens.
start_sim() {
	dir=$1
	shift
	stop_sim
	rm -f "$T/port"
	"$SIM" serve --dir "$T/$dir" --listen 127.0.0.1:0 --port-file "$T/port" \
		--schema "$SCHEMA" --quiet "$@" >>"$T/sim.log" 2>&1 &
	sim_pid=$!
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	port=$(cat "$T/port")
	national "${EXTRA:-}"
}

# source REGION PROJECTS SEED: a new city with fresh drops (regions keep cases apart).
source_for() {
	"$SPGW_GEN" --out "$T/drops/$1-$3" --region "$1" --projects "$2" --seed "$3" \
		--dirty 0 >/dev/null
	add_source "files-$1-$3" "$1" "$T/drops/$1-$3"
}

spgw() { "$SPGW" -c "$T/spgw.json" "$@"; }
sim_total() { "$SIM" stats --dir "$T/${2:-nat}" --json | jq -r ".total.$1"; }
delivered() { sql "SELECT count(*) FROM outbox WHERE state = 'delivered'"; }
left() { sql "SELECT count(*) FROM outbox WHERE state = 'pending'"; }
dead() { sql "SELECT count(*) FROM outbox WHERE state = 'dead'"; }

# The invariant after every case: what the ledger calls delivered is what the national side
# holds (a version stored twice would show in stored_twice).
exactly_once() {
	# the Ed25519-receipt case delivers to a second simulator store ("ed")
	ed=0
	[ -d "$T/ed" ] && ed=$(sim_total versions ed)
	check "$1: national versions = ledger delivered" "$(delivered)" \
		"$(($(sim_total versions) + ed))"
	check "$1: no version stored twice" 0 "$(sim_total stored_twice)"
}

make_config
cd "$T"
"$SIM" init --dir "$T/nat" >/dev/null
port=1
national
spgw keygen >/dev/null 2>&1 || true
[ -f "$T/state/keys/gateway.key" ] || "$SPGW" -c "$T/spgw.json" upload >/dev/null 2>&1 || true
"$SIM" register --dir "$T/nat" --gateway 220000-01 --key "$T/state/keys/gateway.pub" \
	--regions '22*' >/dev/null
check "gateway key is private" 600 "$(stat -c %a "$T/state/keys/gateway.key")"

# 1. the whole path
start_sim nat
source_for 220100 150 1
spgw run --once >"$T/out" 2>"$T/err"
check "run --once delivers everything" 0 $?
check "nothing left pending" 0 "$(left)"
exactly_once "first run"
grep -q "delivered" "$T/out" && ok "run prints what was delivered" || not_ok "no summary"
check "every batch has a stored receipt" \
	"$(sql "SELECT count(*) FROM batches WHERE state = 'done'")" \
	"$(sql "SELECT count(*) FROM receipts")"
spgw receipts verify >"$T/out" 2>&1
check "receipts verify" 0 $?
n0=$(sim_total versions)
spgw upload >"$T/out" 2>&1
check "a second upload has nothing to send" 0 $?
check "and sends nothing" "$n0" "$(sim_total versions)"

# 2. transient faults: 5xx, 429 with Retry-After, connections reset after the national side
# stored the batch (the answer is lost, the batch must be resent, not duplicated)
start_sim nat --seed 7 --fail-5xx 0.25 --fail-429 0.15 --retry-after 1 --reset 0.2
source_for 220200 150 2
spgw run --once --max-time 120 >"$T/out" 2>"$T/err"
check "transient faults: everything delivered in the end" 0 $?
check "transient faults: nothing left" 0 "$(left)"
exactly_once "transient faults"
[ "$(sim_total replays)" -gt 0 ] && ok "reset batches were replayed by batch_id" ||
	not_ok "no replay seen (reset did not happen?)"

# 3. per-record rejections become dead letters with the national reasons
start_sim nat --seed 3 --reject-rate 0.05
source_for 220300 100 3
spgw run --once >"$T/out" 2>"$T/err"
check "rejections: exit 0 (dead letters are settled)" 0 $?
check "rejections: dead letters = national rejections" "$(sim_total rejected)" "$(dead)"
spgw dlq list >"$T/dlq" 2>&1
grep -q "required" "$T/dlq" && ok "dlq list shows the national reason" || not_ok "dlq list: $(head -3 "$T/dlq")"
exactly_once "rejections"
start_sim nat
spgw dlq retry --all >/dev/null 2>&1
spgw upload >/dev/null 2>&1
check "dlq retry delivers once the platform accepts" 0 "$(dead)"
exactly_once "dlq retry"

# 4. 401: sending stops, everything is kept
start_sim nat --force-status 401
source_for 220400 50 4
before=$(delivered)
spgw run --once >"$T/out" 2>"$T/err"
check "401: exit 1" 1 $?
grep -q "SENDING STOPPED" "$T/out" && ok "401: says sending stopped" || not_ok "401: $(tail -2 "$T/out")"
check "401: nothing marked delivered" "$before" "$(delivered)"
[ "$(left)" -gt 0 ] && ok "401: records kept pending" || not_ok "401: records lost"
start_sim nat
spgw upload >/dev/null 2>&1
check "after 401, delivered once the platform accepts" 0 "$(left)"
exactly_once "401"

# 5. 400: the batch is dead-lettered with the message; 413: batches are split
start_sim nat --force-status 400:1
source_for 220500 30 5
spgw run --once >"$T/out" 2>"$T/err"
[ "$(sql "SELECT count(*) FROM batches WHERE state = 'dead'")" -eq 1 ] &&
	ok "400: one batch dead-lettered" || not_ok "400: no dead batch"
start_sim nat --max-records 40
source_for 220600 60 6
spgw run --once >"$T/out" 2>"$T/err"
check "413: split batches all delivered" 0 "$(left)"
[ "$(sql "SELECT count(*) FROM batches WHERE state = 'split'")" -gt 0 ] &&
	ok "413: batches were split" || not_ok "413: no split"
exactly_once "413"

start_sim nat --max-bytes 600
source_for 220600 2 26
spgw run --once >"$T/out" 2>"$T/err"
check "413 for a single record: it is dead-lettered, not split forever" 0 "$(left)"
[ "$(sql "SELECT count(*) FROM batches WHERE state = 'dead' AND last_status = 413")" -gt 0 ] &&
	ok "413 for one record: a dead batch with status 413" || not_ok "413: no dead batch"
spgw dlq retry --all >/dev/null 2>&1
start_sim nat
spgw upload >/dev/null 2>&1
check "413 dead letters retried once the platform takes them" 0 "$(left)"
exactly_once "413 alone"

# 6. a lying platform: its answer is not proof; records stay pending until a true answer
for lie in receipt-sig receipt-counts not-json truncated results-fewer results-more; do
	start_sim nat --lie "$lie"
	source_for 220700 10 "$(printf %s "$lie" | wc -c | tr -d ' ')"
	before=$(delivered)
	spgw run --once --max-time 2 >"$T/out" 2>"$T/err"
	check "lie $lie: exit 1" 1 $?
	check "lie $lie: nothing marked delivered" "$before" "$(delivered)"
	start_sim nat
	spgw upload >/dev/null 2>&1
	check "lie $lie: delivered after the platform tells the truth" 0 "$(left)"
	exactly_once "lie $lie"
done

# 7. the rest of the status table, hangs and a wrong clock
start_sim nat --force-status 403
source_for 220100 5 21
spgw run --once >"$T/out" 2>"$T/err"
check "403: exit 1" 1 $?
grep -q "SENDING STOPPED: HTTP 403" "$T/out" && ok "403: sending stopped" || not_ok "403: $(tail -1 "$T/out")"
start_sim nat --force-status 409:1
spgw upload >"$T/out" 2>"$T/err"
check "409 batch_conflict: delivered in a new batch" 0 "$(left)"
[ "$(sql "SELECT count(*) FROM batches WHERE state = 'conflict'")" -ge 1 ] &&
	ok "409: the refused batch id is retired" || not_ok "409: no conflict batch"
exactly_once "409"
start_sim nat --force-status 504:2 --seed 9
source_for 220200 5 22
spgw run --once >"$T/out" 2>"$T/err"
check "504: retried and delivered" 0 "$(left)"
start_sim nat --hang 1 --hang-seconds 30
source_for 220300 5 23
TIMEOUT=1 national
spgw run --once --max-time 4 >"$T/out" 2>"$T/err"
check "hang: exit 1 after --max-time" 1 $?
grep -q "Timeout was reached" "$T/err" && ok "hang: the request timed out" || not_ok "hang: $(tail -1 "$T/err")"
start_sim nat --slow-ms 300
spgw upload >"$T/out" 2>"$T/err"
check "slow answers: delivered" 0 "$(left)"
exactly_once "hang and slow"
start_sim nat --clock-offset 400
source_for 220400 5 24
spgw run --once >"$T/out" 2>"$T/err"
check "clock 400 s off: exit 1" 1 $?
grep -q "stale_timestamp" "$T/out" && ok "clock: says stale_timestamp" || not_ok "clock: $(tail -1 "$T/out")"
start_sim nat --clock-offset 250
spgw upload >"$T/out" 2>"$T/err"
check "clock 250 s off is within 300 s: delivered" 0 "$(left)"
exactly_once "clock"

# 8. the other signature algorithms, and receipts signed with Ed25519
for alg in ecdsa-p256-sha256 ed25519; do
	"$SPGW" -c "$T/spgw.json" keygen --alg "$alg" --out "$T/keys-$alg" >/dev/null
	"$SIM" register --dir "$T/nat" --gateway "gw-$alg" --key "$T/keys-$alg/gateway.pub" \
		--regions 222400 >/dev/null
	start_sim nat
	source_for 222400 5 "$(printf %s "$alg" | wc -c | tr -d ' ')"
	EXTRA=", \"alg\": \"$alg\", \"key\": \"keys-$alg/gateway.key\"" national
	sed -i "s/\"gateway_id\": \"220000-01\"/\"gateway_id\": \"gw-$alg\"/" "$T/spgw.json"
	spgw run --once >"$T/out" 2>"$T/err"
	check "$alg requests: delivered" 0 $?
	exactly_once "$alg"
done
"$SIM" init --dir "$T/ed" --alg ed25519 >/dev/null
cp "$T/nat/gateways.json" "$T/ed/"
cp "$T/nat/server.pem" "$T/nat/server.key" "$T/nat/ca.pem" "$T/ed/"
start_sim ed
source_for 220500 5 25
sed -i "s|nat/national.pub|ed/national.pub|" "$T/spgw.json"
spgw run --once >"$T/out" 2>"$T/err"
check "Ed25519 receipts: delivered" 0 $?
spgw receipts verify >"$T/out" 2>&1
check "receipts of two national keys: each verifies with the key it came with" 0 $?
grep -q "since rotated" "$T/out" && ok "verify says which receipts were signed by the old key" ||
	not_ok "verify: $(cat "$T/out")"
# a receipt whose stored key does not match its signature is still caught
sqlite3 "$T/state/spgw.db" "UPDATE receipts SET national_key = (SELECT max(id) FROM national_keys)"
spgw receipts verify >"$T/out" 2>&1
check "receipts checked against the wrong stored key: refused" 1 $?

# 9. TLS: an unknown CA and a certificate for another host are refused
"$SIM" init --dir "$T/other" >/dev/null
"$SIM" init --dir "$T/wronghost" --hosts other.invalid >/dev/null
cp "$T/nat/national.key" "$T/nat/national.pub" "$T/nat/gateways.json" "$T/wronghost/"
start_sim wronghost
CA=other/ca.pem national
source_for 220800 5 8
spgw run --once >"$T/out" 2>"$T/err"
check "unknown CA: exit 1" 1 $?
grep -q "TLS" "$T/out" && ok "unknown CA: says TLS" || not_ok "unknown CA: $(tail -1 "$T/out")"
CA=wronghost/ca.pem national
spgw upload >"$T/out" 2>"$T/err"
check "certificate for another host: exit 1" 1 $?
check "TLS refusals deliver nothing" 0 \
	"$(sql "SELECT count(*) FROM outbox WHERE region = '220800' AND state = 'delivered'")"
# insecure_skip_verify: it sends, and every log line says it is insecure
start_sim nat
CA=other/ca.pem national ', "insecure_skip_verify": true'
sed -i 's/"level": "warning"/"level": "info"/' "$T/spgw.json"
spgw upload >"$T/out" 2>"$T/err"
check "insecure_skip_verify: delivered despite the unknown CA" 0 "$(left)"
lines=$(grep -c . "$T/err")
check "insecure_skip_verify: every log line is marked" "$lines" \
	"$(grep -c '^\[INSECURE: TLS verification is off\] ' "$T/err")"
[ "$lines" -gt 1 ] && ok "insecure_skip_verify: several log lines checked ($lines)" ||
	not_ok "insecure: only $lines log lines"
start_sim nat
source_for 220800 3 27
spgw run --once >/dev/null 2>&1
check "after TLS is fixed, delivered" 0 "$(left)"
exactly_once "final"
finish
