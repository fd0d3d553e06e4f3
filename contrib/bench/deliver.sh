#!/bin/sh
# Delivery benchmark, end to end: files plugin -> mapping -> validation -> outbox ->
# SM2-signed, SM3-digested HTTPS batches -> the national-platform simulator on the same
# machine -> verified receipts -> marked delivered. Two runs on the same drops:
#   1. `spgw ingest`, then `spgw upload`: ingest alone, and upload alone (draining a backlog);
#   2. from scratch (new ledger, new simulator store) `spgw run --once`: end to end, as a
#      user runs it (ingest, then upload, in one process).
# Reports records/s and the gateway's peak resident memory in each.
#
# usage: contrib/bench/deliver.sh [PROJECTS]   (default 90000, ~1,000,000 SPGL records with
#        the demo generator's cases; each project yields ~11 records of 7 tables)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build-bench}
n=${1:-90000}
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
meson compile -C "$build" >/dev/null
export SPGW_PLUGIN_DIR="$build/plugins"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgw-deliver.XXXXXX")
sim="$build/contrib/national-sim/spgw-national-sim"
spgw="$build/gateway/spgw"
sim_pid=
trap 'kill $sim_pid 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/state" "$work/sources"
"$build/contrib/gen/spgw-gen-drops" --out "$work/drops" --projects "$n" --dirty 0 --seed 42 \
	--rows-per-file 20000 >/dev/null
"$sim" init --dir "$work/nat" >/dev/null
"$sim" serve --dir "$work/nat" --listen 127.0.0.1:0 --port-file "$work/port" --quiet \
	--schema "$top/config/schema/spgl-v3.json" >"$work/sim.log" 2>&1 &
sim_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
cat > "$work/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources", "mappings_dir": "$top/config/mappings",
  "schema": "$top/config/schema/spgl-v3.json", "log": { "level": "error" },
  "national": { "url": "https://127.0.0.1:$(cat "$work/port")/spgl/v3",
    "gateway_id": "220000-01", "national_public_key": "nat/national.pub",
    "ca_file": "nat/ca.pem" ${SPGW_BENCH_NATIONAL:-} } }
JSON
cat > "$work/sources/bench.json" <<JSON
{ "plugin": "files", "region": "220100", "mapping": "files-demo.json",
  "settings": { "dir": "../drops", "stable_seconds": 0, "commit_every": 2000 } }
JSON
"$spgw" -c "$work/spgw.json" keygen >/dev/null
"$sim" register --dir "$work/nat" --gateway 220000-01 --key "$work/state/keys/gateway.pub" \
	--regions 220100 >/dev/null
kill -HUP $sim_pid

# phase COMMAND...: run one spgw command, print wall seconds and peak RSS (KiB)
phase() {
	start=$(date +%s.%N)
	"$spgw" -q -c "$work/spgw.json" "$@" >"$work/out" 2>&1 &
	pid=$!
	peak=0
	while kill -0 "$pid" 2>/dev/null; do
		rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		[ "${rss:-0}" -gt "$peak" ] && peak=$rss
		sleep 0.2
	done
	wait "$pid" || { cat "$work/out"; exit 1; }
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" -v p="$peak" 'BEGIN { printf "%.2f %d\n", b - a, p }'
}
set -- $(phase ingest)
ingest_s=$1 ingest_rss=$2
records=$(sqlite3 "$work/state/spgw.db" "SELECT count(*) FROM outbox")
set -- $(phase upload --max-time 0)
upload_s=$1 upload_rss=$2
delivered=$(sqlite3 "$work/state/spgw.db" "SELECT count(*) FROM outbox WHERE state = 'delivered'")
national=$("$sim" stats --dir "$work/nat" --json | jq -r .total.versions)

# run 2: from scratch, run --once
kill $sim_pid
wait $sim_pid 2>/dev/null || true
rm -rf "$work/state/spgw.db"* "$work/nat/national.db"* "$work/port"
"$sim" serve --dir "$work/nat" --listen 127.0.0.1:0 --port-file "$work/port" --quiet \
	--schema "$top/config/schema/spgl-v3.json" >"$work/sim.log" 2>&1 &
sim_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
sed -i "s|https://127.0.0.1:[0-9]*/|https://127.0.0.1:$(cat "$work/port")/|" "$work/spgw.json"
set -- $(phase run --once --max-time 0)
run_s=$1 run_rss=$2
run_delivered=$(sqlite3 "$work/state/spgw.db" "SELECT count(*) FROM outbox WHERE state = 'delivered'")
run_national=$("$sim" stats --dir "$work/nat" --json | jq -r .total.versions)
awk -v r="$records" -v d="$delivered" -v nat="$national" -v is="$ingest_s" -v us="$upload_s" \
	-v ir="$ingest_rss" -v ur="$upload_rss" -v rs="$run_s" -v rr="$run_rss" \
	-v rd="$run_delivered" -v rn="$run_national" 'BEGIN {
	printf "%d SPGL records (%d delivered, %d held by the simulator)\n", r, d, nat
	printf "ingest alone:        %7.1f s  %8.0f records/s  peak RSS %5.1f MiB\n", is, r / is, ir / 1024
	printf "upload alone:        %7.1f s  %8.0f records/s  peak RSS %5.1f MiB (backlog drain)\n", us, d / us, ur / 1024
	printf "end to end, run --once: %4.1f s  %8.0f records/s  peak RSS %5.1f MiB (%d delivered, %d held by the simulator)\n", rs, rd / rs, rr / 1024, rd, rn
}'
