#!/bin/sh
# kill -9 during delivery: the gateway is killed at random instants while it uploads about
# 100,000 records (SPGW_CRASH_KILLS times, default 50), and the simulator itself is killed
# and restarted once mid-run. Afterwards every record version is at the national side
# exactly once, the ledger agrees, and nothing was lost.
. "$(dirname "$0")/lib.sh"
: "${SPGW_SIM:?}"
SIM=$SPGW_SIM
SCHEMA=$SPGW_SRC/config/schema/spgl-v3.json
KILLS=${SPGW_CRASH_KILLS:-50}
PROJECTS=${SPGW_CRASH_PROJECTS:-9000}
sim_pid=
stop_sim() {
	if [ -n "$sim_pid" ]; then
		kill -9 "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	sim_pid=
}
trap 'stop_sim; rm -rf "$T"' EXIT

start_sim() {
	stop_sim
	rm -f "$T/port"
	"$SIM" serve --dir "$T/nat" --listen 127.0.0.1:${port:-0} --port-file "$T/port" \
		--schema "$SCHEMA" --quiet >>"$T/sim.log" 2>&1 &
	sim_pid=$!
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	port=$(cat "$T/port")
}

make_config
cd "$T"
"$SIM" init --dir "$T/nat" >/dev/null
start_sim
cat > "$T/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SCHEMA",
  "log": { "level": "error" },
  "national": { "url": "https://127.0.0.1:$port/spgl/v3", "gateway_id": "220000-01",
    "national_public_key": "nat/national.pub", "ca_file": "nat/ca.pem", "gzip": true,
    "retry_base_ms": 20, "retry_max_ms": 200, "timeout": 10 } }
JSON
"$SPGW" -c "$T/spgw.json" keygen >/dev/null
"$SIM" register --dir "$T/nat" --gateway 220000-01 --key "$T/state/keys/gateway.pub" \
	--regions '22*' >/dev/null
kill -HUP "$sim_pid"
"$SPGW_GEN" --out "$T/drops" --region 220100 --projects "$PROJECTS" --seed 11 --dirty 0 \
	>/dev/null
add_source files-220100 220100 "$T/drops"
"$SPGW" -c "$T/spgw.json" ingest >/dev/null 2>&1
total=$(sql "SELECT count(*) FROM outbox")
echo "# $total record versions to deliver, $KILLS kills"

k=0
while [ $k -lt "$KILLS" ]; do
	"$SPGW" -c "$T/spgw.json" upload >/dev/null 2>&1 &
	pid=$!
	# a random instant within the first 0.05-0.8 s of an upload run
	sleep "0.$(awk -v s=$k 'BEGIN { srand(s * 7919 + 17); printf "%02d", 5 + int(rand() * 75) }')"
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	k=$((k + 1))
	if [ $k -eq $((KILLS / 2)) ]; then
		start_sim # the national side dies too, and comes back on the same port
	fi
done
"$SPGW" -c "$T/spgw.json" upload >"$T/out" 2>"$T/err"
check "the last upload finishes" 0 $?
check "nothing pending after the kills" 0 "$(sql "SELECT count(*) FROM outbox WHERE state <> 'delivered'")"
check "every version is in the ledger" "$total" "$(sql "SELECT count(*) FROM outbox")"
versions=$("$SIM" stats --dir "$T/nat" --json | jq -r .total.versions)
twice=$("$SIM" stats --dir "$T/nat" --json | jq -r .total.stored_twice)
check "the national side holds each version once" "$total" "$versions"
check "no version stored twice" 0 "$twice"
check "one receipt per delivered batch" \
	"$(sql "SELECT count(*) FROM batches WHERE state = 'done'")" \
	"$(sql "SELECT count(*) FROM receipts")"
check "delivered records all belong to a batch with a receipt" 0 \
	"$(sql "SELECT count(*) FROM outbox o WHERE state = 'delivered' AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.batch_id = o.batch_id)")"
echo "# replays answered by the simulator: $("$SIM" stats --dir "$T/nat" --json | jq -r .total.replays)"
finish
