#!/bin/sh
# Delivery benchmark, end to end: files plugin -> mapping -> validation -> outbox ->
# SM2-signed, SM3-digested HTTPS batches -> the national-platform simulator on the same
# machine -> verified receipts -> marked delivered. Reports ingest, upload-only and end-to-end
# records/s, and the gateway's peak resident memory in each phase.
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
awk -v r="$records" -v d="$delivered" -v nat="$national" -v is="$ingest_s" -v us="$upload_s" \
	-v ir="$ingest_rss" -v ur="$upload_rss" 'BEGIN {
	printf "%d SPGL records (%d delivered, %d held by the simulator)\n", r, d, nat
	printf "ingest:     %7.1f s  %8.0f records/s  peak RSS %5.1f MiB\n", is, r / is, ir / 1024
	printf "upload:     %7.1f s  %8.0f records/s  peak RSS %5.1f MiB (backlog drain)\n", us, d / us, ur / 1024
	printf "end to end: %7.1f s  %8.0f records/s\n", is + us, d / (is + us)
}'
