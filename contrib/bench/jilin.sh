#!/bin/sh
# Jilin's cities: ingest speed and memory through the real adapters and simulators.
#
#   1. one city of N handling steps from the provincial platform's PostgreSQL
#      (contrib/provincial-db/bench.sh N: steps made in the database, then `spgw ingest`);
#   2. Changchun with about N handling steps from its simulated HTTP API (spgw-jilin-gen
#      --target-steps N, all its tables, page_size 500);
#   3. all nine cities in one `spgw ingest`, their sources pulled at once (spgw-jilin-gen
#      --projects P for every city: Changchun from its API, eight cities from PostgreSQL).
#
# Each prints wall time, records per second, the gateway's CPU time and its peak resident
# memory (VmHWM), and the largest plugin process's peak.
#
# usage: contrib/bench/jilin.sh [N [P]]   (default 1000000 steps; 2000 projects per city)
#        BUILD=dir (default build-bench, a release build), ONLY=1|2|3 to run one part
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000000}
projects=${2:-2000}
build=${BUILD:-$top/build-bench}
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
meson compile -C "$build" >/dev/null
export SPGW_PLUGIN_DIR="$build/plugins"
spgw="$build/gateway/spgw"
gen="$build/contrib/jilin-gen/spgw-jilin-gen"
ccsim="$build/contrib/changchun-sim/spgw-changchun-sim"
pgsh=$top/contrib/provincial-db/pg.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/spgw-jlbench.XXXXXX")
chmod 711 "$work"
cc_pid=
trap '[ -n "$cc_pid" ] && kill $cc_pid 2>/dev/null; "$pgsh" -d "$work/pg" stop >/dev/null 2>&1;
	rm -rf "$work"' EXIT

# measure LABEL COMMAND...: wall, records/s (from the ledger), gateway CPU and VmHWM, plugin
# processes' largest VmHWM.
measure() {
	label=$1
	shift
	python3 - "$label" "$work/state/spgw.db" "$@" <<'PY'
import os, sqlite3, subprocess, sys, time

label, db, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
def hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
t0 = time.monotonic()
p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
peak = child = 0
while not os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
    peak = max(peak, hwm(p.pid))
    try:
        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
            for c in f.read().split():
                child = max(child, hwm(int(c)))
    except OSError:
        pass
    time.sleep(0.05)
wall = time.monotonic() - t0
with open("/proc/%d/stat" % p.pid) as f:
    fields = f.read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
p.wait()
c = sqlite3.connect(db)
stored = c.execute("SELECT count(*) FROM outbox").fetchone()[0]
quarantined = c.execute("SELECT count(*) FROM quarantine WHERE resolved = 0").fetchone()[0]
steps = c.execute("SELECT count(*) FROM outbox WHERE spgl_table = 'SPGL_XMSPSXBLXXXXB'").fetchone()[0]
total = stored + quarantined
print("%s: exit %d, %d SPGL records (%d steps) + %d quarantined in %.1f s = %.0f records/s; "
      "gateway %.1f s CPU, peak RSS %.1f MiB; plugin peak RSS %.1f MiB"
      % (label, p.returncode, stored, steps, quarantined, wall, total / wall, cpu, peak / 1024,
         child / 1024))
PY
}

gateway_file() {
	rm -rf "$work/state" "$work/sources"
	mkdir -p "$work/state" "$work/sources"
	cat > "$work/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources", "mappings_dir": "$top/config/mappings",
  "schema": "$top/config/schema/spgl-v3.json", "log": { "level": "error" } }
JSON
}
changchun_source() {
	cat > "$work/sources/220100-changchun.json" <<JSON
{ "plugin": "changchun", "region": "220100", "mapping": "changchun.json", "timeout": 3600,
  "settings": { "base_url": "http://127.0.0.1:$(cat "$work/cc.port")", "app_id": "spgw-220000",
    "app_secret_file": "$work/app_secret", "page_size": 500 } }
JSON
}
start_changchun() {
	rm -f "$work/cc.port"
	"$ccsim" --data "$1" --app-id spgw-220000 --app-secret-file "$work/app_secret" \
		--port-file "$work/cc.port" --quiet >"$work/cc.log" 2>&1 &
	cc_pid=$!
	while [ ! -s "$work/cc.port" ]; do sleep 0.2; done
}
umask 077
echo "bench-secret" > "$work/app_secret"
umask 022

if [ -z "${ONLY:-}" ] || [ "${ONLY:-}" = 1 ]; then
	echo "== 1. provincial platform, one city, $n handling steps"
	BUILD="$build" sh "$top/contrib/provincial-db/bench.sh" "$n" | grep '^bench: exit'
fi

if [ -z "${ONLY:-}" ] || [ "${ONLY:-}" = 2 ]; then
	echo "== 2. Changchun's API, about $n handling steps and every other table"
	"$gen" --catalog "$top/config/catalog/jilin.json" --seed 1 --regions 220100 \
		--target-steps "$n" --changchun "$work/cc" --expected "$work/cc.json" >/dev/null
	start_changchun "$work/cc"
	gateway_file
	changchun_source
	measure "changchun" "$spgw" -c "$work/spgw.json" ingest
	kill "$cc_pid"
	wait "$cc_pid" 2>/dev/null || true
	cc_pid=
	rm -rf "$work/cc"
fi

if [ -z "${ONLY:-}" ] || [ "${ONLY:-}" = 3 ]; then
	echo "== 3. all nine cities at once, $projects projects each"
	"$gen" --catalog "$top/config/catalog/jilin.json" --seed 2 --regions all \
		--projects "$projects" --changchun "$work/cc" --provincial "$work/pv" \
		--expected "$work/all.json" >/dev/null
	port=${PORT:-18434}
	"$pgsh" -d "$work/pg" -p "$port" start >/dev/null
	sh "$top/contrib/provincial-db/load.sh" -d "$work/pg" "$work/pv" >/dev/null
	start_changchun "$work/cc"
	gateway_file
	changchun_source
	for r in 220200 220300 220400 220500 220600 220700 220800 222400; do
		cat > "$work/sources/$r-provincial.json" <<JSON
{ "plugin": "provincial", "region": "$r", "mapping": "provincial.json", "timeout": 3600,
  "settings": { "conninfo": "host=127.0.0.1 port=$port dbname=jlsp user=spgw_reader",
    "password_file": "$work/pg/reader.password", "page_size": 1000 } }
JSON
	done
	measure "nine cities" "$spgw" -c "$work/spgw.json" ingest
fi
