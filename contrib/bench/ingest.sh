#!/bin/sh
# Ingest benchmark: plugin -> mapping -> validation -> canonical JSON + SM3 -> outbox commit.
#
# Realistic project records (31 source columns, ~1.4 KB of mostly Chinese text, each mapped
# to one SPGL_XMJBXXB of 36 fields and 1-3 SPGL_XMDWXXB) from UTF-8 CSV drops, through the
# real spgw binary and files plugin. Reports source records/s and SPGL records/s, the CPU
# time of the gateway process (the core is single-threaded; the plugin child reads on the
# other core), and its peak resident memory, for two backlog sizes so flatness shows.
#
# usage: contrib/bench/ingest.sh [SMALL [LARGE]]   (project counts; default 10000 100000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build-bench}
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
meson compile -C "$build" >/dev/null
export SPGW_PLUGIN_DIR="$build/plugins"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgw-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

run() {
	n=$1
	maps=${2:-$top/config/mappings}
	rm -rf "$work/drops" "$work/state" "$work/sources"
	mkdir -p "$work/state" "$work/sources"
	"$build/contrib/gen/spgw-gen-drops" --out "$work/drops" --projects "$n" --cases 0 \
		--dirty 2 --seed 42 --rows-per-file 20000
	bytes=$(cat "$work"/drops/projects_* | wc -c)
	cat > "$work/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources", "mappings_dir": "$maps",
  "schema": "$top/config/schema/spgl-v3.json", "log": { "level": "warning" } }
JSON
	cat > "$work/sources/bench.json" <<JSON
{ "plugin": "files", "region": "220100", "mapping": "files-demo.json",
  "settings": { "dir": "../drops", "stable_seconds": 0, "commit_every": 2000 } }
JSON
	"$build/gateway/spgw" -q -c "$work/spgw.json" ingest > "$work/out" &
	pid=$!
	peak=0
	while kill -0 "$pid" 2>/dev/null; do
		rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		[ "${rss:-0}" -gt "$peak" ] && peak=$rss
		cpu=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo "$cpu")
		sleep 0.1
	done
	wait "$pid"
	tick=$(getconf CLK_TCK)
	awk -v n="$n" -v bytes="$bytes" -v peak="$peak" -v cpu="$cpu" -v tick="$tick" '
		$1 == "bench" {
			recs = $3; outs = $4 + $5 + $6 + $7; secs = recs / $9
			printf "%8d projects (%5.1f MB): %7d source records in %6.2f s wall = %7.0f rec/s, %7.0f SPGL records/s; gateway CPU %6.2f s = %7.0f rec/s per core; peak RSS %5.1f MiB\n",
				n, bytes / 1e6, recs, secs, recs / secs, outs / secs, cpu / tick, recs / (cpu / tick), peak / 1024
		}' "$work/out"
}

echo "spgw ingest benchmark on $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "files-demo mapping: each row -> 1 SPGL_XMJBXXB (~1.4 KB) + 1-3 SPGL_XMDWXXB"
run "${1:-10000}"
run "${2:-100000}"
# the same rows mapped one to one: one ~1.4 KB, 36-field SPGL record per source record
mkdir -p "$work/one"
jq 'del(.tables.projects.emit[1])' "$top/config/mappings/files-demo.json" \
	> "$work/one/files-demo.json"
echo "one-to-one mapping: each row -> 1 SPGL_XMJBXXB (~1.4 KB)"
run "${2:-100000}" "$work/one"
