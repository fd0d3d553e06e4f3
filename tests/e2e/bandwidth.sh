#!/bin/sh
# max_upload_rate caps all transfers together (the province's 155 Mbps link congested when
# real data first flowed): an upload of ~3 MB at a 1 MB/s cap must take its time, with the
# measured rate within 10% of the cap.
. "$(dirname "$0")/lib.sh"
: "${SPGW_SIM:?}"
SIM=$SPGW_SIM
SCHEMA=$SPGW_SRC/config/schema/spgl-v3.json
RATE=1000000
trap 'kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null; rm -rf "$T"' EXIT
make_config
cd "$T"
"$SIM" init --dir "$T/nat" >/dev/null
"$SIM" serve --dir "$T/nat" --listen 127.0.0.1:0 --port-file "$T/port" --schema "$SCHEMA" \
	--quiet >"$T/sim.log" 2>&1 &
sim_pid=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
cat > "$T/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SCHEMA",
  "log": { "level": "error" },
  "national": { "url": "https://127.0.0.1:$(cat "$T/port")/spgl/v3",
    "gateway_id": "220000-01", "national_public_key": "nat/national.pub",
    "ca_file": "nat/ca.pem", "max_upload_rate": $RATE, "max_in_flight": 4,
    "batch_records": 200 } }
JSON
"$SPGW" -c "$T/spgw.json" keygen >/dev/null
"$SIM" register --dir "$T/nat" --gateway 220000-01 --key "$T/state/keys/gateway.pub" \
	--regions '22*' >/dev/null
kill -HUP "$sim_pid"
"$SPGW_GEN" --out "$T/drops" --region 220100 --projects 500 --seed 5 --dirty 0 >/dev/null
add_source files-220100 220100 "$T/drops"
"$SPGW" -c "$T/spgw.json" ingest >/dev/null 2>&1
"$SPGW" -c "$T/spgw.json" upload >"$T/out" 2>&1
check "capped upload delivers everything" 0 $?
rate=$(sed -n 's/^sent \([0-9]*\) bytes.*(\([0-9]*\) bytes\/s)$/\2/p' "$T/out")
bytes=$(sed -n 's/^sent \([0-9]*\) bytes.*/\1/p' "$T/out")
echo "# sent $bytes bytes at $rate bytes/s under a cap of $RATE"
[ "${bytes:-0}" -gt $((2 * RATE)) ] && ok "enough bytes to measure ($bytes)" || not_ok "too few bytes: $bytes"
[ "${rate:-0}" -le $((RATE * 11 / 10)) ] && ok "rate at most cap + 10% ($rate)" || not_ok "rate $rate over the cap"
[ "${rate:-0}" -ge $((RATE * 9 / 10)) ] && ok "rate at least cap - 10% ($rate)" || not_ok "rate $rate far under the cap"
finish
