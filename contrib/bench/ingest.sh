#!/bin/sh
# Ingest benchmark: plugin -> mapping -> validation -> canonical JSON + SM3 -> outbox commit.
#
# Realistic project records (31 source columns, ~1.4 KB of mostly Chinese text, each mapped
# to one SPGL_XMJBXXB of 36 fields and 1-3 SPGL_XMDWXXB) from UTF-8 CSV drops, through the
# real spgw binary and files plugin, for two backlog sizes so flatness shows, then the large
# one mapped one to one (one ~1.4 KB SPGL_XMJBXXB per source row).
#
# For each case: source and SPGL records; the wall time of the gateway process; its CPU time
# (user + system of the gateway alone, exact: read when it has exited, before it is reaped;
# the gateway is single-threaded and the plugin child reads on the other core), as records
# per CPU second, i.e. on one core; and its peak resident memory (VmHWM). CPU time is the
# figure to compare: wall time moves with whatever else the machine runs.
#
# usage: contrib/bench/ingest.sh [SMALL [LARGE]]   (project counts; default 10000 100000)
#        REPEAT=n runs each case n times and adds the median of each figure (default 1).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build-bench}
repeat=${REPEAT:-1}
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
meson compile -C "$build" >/dev/null
export SPGW_PLUGIN_DIR="$build/plugins"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgw-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Run a command; print "wall_seconds cpu_seconds peak_kib exit_status" for it alone.
measure() {
	python3 - "$@" <<'PY'
import os, subprocess, sys, time

out = open(sys.argv[1], "w")
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=out)
peak = 0
while True:
    # WNOWAIT: once it has exited, its /proc entry keeps the final CPU counts until reaped
    if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
        break
    try:
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.02)
wall = time.monotonic() - t0
with open("/proc/%d/stat" % p.pid) as f:
    fields = f.read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
print("%.3f %.3f %d %d" % (wall, cpu, peak, p.wait()))
PY
}

# run PROJECTS LABEL [MAPPINGS_DIR]
run() {
	n=$1
	label=$2
	maps=${3:-$top/config/mappings}
	rm -rf "$work/drops" "$work/runs"
	"$build/contrib/gen/spgw-gen-drops" --out "$work/drops" --projects "$n" --cases 0 \
		--dirty 2 --seed 42 --rows-per-file 20000
	bytes=$(cat "$work"/drops/projects_* | wc -c)
	i=0
	while [ "$i" -lt "$repeat" ]; do
		i=$((i + 1))
		rm -rf "$work/state" "$work/sources"
		mkdir -p "$work/state" "$work/sources"
		cat > "$work/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources", "mappings_dir": "$maps",
  "schema": "$top/config/schema/spgl-v3.json", "log": { "level": "warning" } }
JSON
		cat > "$work/sources/bench.json" <<JSON
{ "plugin": "files", "region": "220100", "mapping": "files-demo.json",
  "settings": { "dir": "../drops", "stable_seconds": 0, "commit_every": 2000 } }
JSON
		set -- $(measure "$work/out" "$build/gateway/spgw" -q -c "$work/spgw.json" ingest)
		[ "$4" = 0 ] || { echo "spgw ingest failed ($4):" >&2; cat "$work/out" >&2; exit 1; }
		# the ingest table: source region records new changed unchanged quarantined ...
		awk -v wall="$1" -v cpu="$2" -v peak="$3" '$1 == "bench" {
			print $3, $4 + $5 + $6 + $7, wall, cpu, peak }' "$work/out" >> "$work/runs"
	done
	awk -v n="$n" -v label="$label" -v bytes="$bytes" -v repeat="$repeat" '
		function line(what, recs, outs, wall, cpu, peak) {
			printf "%7d projects (%5.1f MB) %s%s: %7d source -> %7d SPGL records; " \
			       "wall %6.2f s = %6.0f / %6.0f rec/s; gateway CPU %6.2f s = %6.0f " \
			       "source / %6.0f SPGL rec/s per core; peak RSS %5.1f MiB\n",
			       n, bytes / 1e6, label, what, recs, outs, wall, recs / wall,
			       outs / wall, cpu, recs / cpu, outs / cpu, peak / 1024
		}
		function median(a, k,   i, j, t) {
			for (i = 2; i <= k; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
		}
		{
			k++; recs = $1; outs = $2; w[k] = $3; c[k] = $4; p[k] = $5
			if (repeat > 1)
				line(sprintf(" run %d", k), recs, outs, $3, $4, $5)
		}
		END {
			line(repeat > 1 ? sprintf(", median of %d", k) : "", recs, outs,
			     median(w, k), median(c, k), median(p, k))
		}' "$work/runs"
}

echo "spgw ingest benchmark on $(nproc) cores, $(date -u +%Y-%m-%d); rec/s: source / SPGL"
echo "demo mapping: each row -> 1 SPGL_XMJBXXB (~1.4 KB) + 1-3 SPGL_XMDWXXB"
run "${1:-10000}" "demo mapping"
run "${2:-100000}" "demo mapping"
# the same rows mapped one to one: one ~1.4 KB, 36-field SPGL record per source record
mkdir -p "$work/one"
jq 'del(.tables.projects.emit[1])' "$top/config/mappings/files-demo.json" \
	> "$work/one/files-demo.json"
echo "one-to-one mapping: each row -> 1 SPGL_XMJBXXB (~1.4 KB)"
run "${2:-100000}" "one-to-one" "$work/one"
