#!/bin/sh
# Reconciliation at the size the province reaches in a year: nine cities, the schema's twelve
# tables, 366 business days, ten million record versions in the ledger (5 % of keys with a
# history), and one day holding 100,000 keys; the national simulator's store built from the
# same ledger with known differences (0.1 % dropped, 0.1 % in an older version, 1000 extra).
#   1. count level: `spgw reconcile` over the year, every region and table (108 /counts
#      requests and the ledger's per-day tallies), the city systems not asked;
#   2. record level: the 100,000-key day compared key by key (--all-keys, 21 pages).
# For each: wall time, the gateway's CPU time and peak resident memory.
#
# usage: contrib/bench/reconcile.sh [KEYS_PER_REGION_AND_TABLE]   (default 92593: ~10 M)
#        KEEP=DIR keeps (and reuses) the ledger and store in DIR: building them takes minutes
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build-bench}
n=${1:-92593}
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
meson compile -C "$build" >/dev/null
sim="$build/contrib/national-sim/spgw-national-sim"
client="$build/contrib/national-sim/spgw-sim-client"
spgw="$build/gateway/spgw"
work=${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/spgw-recon-bench.XXXXXX")}
sim_pid=
trap 'kill $sim_pid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir -p "$work/state" "$work/sources"

measure() {
	python3 - "$@" <<'PY'
import os, subprocess, sys, time

out = open(sys.argv[1], "w")
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
peak = 0
while True:
    if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
        break
    try:
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.01)
wall = time.monotonic() - t0
with open("/proc/%d/stat" % p.pid) as f:
    fields = f.read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
print("%.2f s wall, %.2f s CPU, peak %.1f MiB, exit %d" % (wall, cpu, peak / 1024, p.wait()))
PY
}

tables=$(jq -r '[.tables[].name] | join(",")' "$top/config/schema/spgl-v3.json")
regions=220100,220200,220300,220400,220500,220600,220700,220800,222400
if [ ! -s "$work/state/spgw.db" ]; then
	t0=$(date +%s)
	"$client" make-ledger --ledger "$work/state" \
		--template "$top/tests/cases/validate/project-valid/record.json" \
		--regions "$regions" --tables "$tables" --records "$n" --from 2025-01-01 \
		--days 366 --changed 0.05 --seed 1 > "$work/make.out"
	"$client" make-ledger --ledger "$work/state" \
		--template "$top/tests/cases/validate/project-valid/record.json" --prefix BIG \
		--regions 220100 --tables SPGL_XMJBXXB --records 100000 --from 2025-06-01 \
		>> "$work/make.out"
	echo "ledger made in $(($(date +%s) - t0)) s: $(sqlite3 "$work/state/spgw.db" \
		'SELECT count(*) FROM outbox') versions, $(du -m "$work/state/spgw.db" | cut -f1) MiB"
fi
if [ ! -s "$work/nat/national.db" ]; then
	t0=$(date +%s)
	"$sim" init --dir "$work/nat" > /dev/null
	rm -f "$work/nat/national.db"
	"$sim" seed --dir "$work/nat" --from-ledger "$work/state/spgw.db" --drop 0.001 \
		--alter 0.001 --extra 1000 --seed 2 --manifest "$work/manifest" > "$work/seed.out"
	echo "national store seeded in $(($(date +%s) - t0)) s"
fi
[ -f "$work/state/keys/gateway.key" ] || {
	cat > "$work/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources", "schema": "$top/config/schema/spgl-v3.json",
  "mappings_dir": "$top/config/mappings", "national": { "url": "https://127.0.0.1:1/x",
  "gateway_id": "220000-01", "national_public_key": "nat/national.pub" } }
JSON
	"$spgw" -c "$work/spgw.json" keygen > /dev/null 2>&1
}
"$sim" register --dir "$work/nat" --gateway 220000-01 --key "$work/state/keys/gateway.pub" \
	--regions '22*' > /dev/null
"$sim" serve --dir "$work/nat" --listen 127.0.0.1:0 --port-file "$work/port" --quiet \
	--schema "$top/config/schema/spgl-v3.json" > "$work/sim.log" 2>&1 &
sim_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
cat > "$work/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources", "mappings_dir": "$top/config/mappings",
  "schema": "$top/config/schema/spgl-v3.json", "log": { "level": "error" },
  "national": { "url": "https://127.0.0.1:$(cat "$work/port")/spgl/v3",
    "gateway_id": "220000-01", "national_public_key": "nat/national.pub",
    "ca_file": "nat/ca.pem" } }
JSON
echo "count level, a year of nine cities ($(sqlite3 "$work/state/spgw.db" \
	'SELECT count(*) FROM outbox') versions in the ledger):"
for k in 1 2 3; do
	echo "  $(measure "$work/count.out" "$spgw" -c "$work/spgw.json" reconcile \
		--from 2025-01-01 --to 2025-12-31 --no-city)"
done
tail -2 "$work/count.out" | sed 's/^/  /'
echo "record level, the 100,000-key day (220100 SPGL_XMJBXXB 2025-06-01):"
for k in 1 2 3; do
	echo "  $(measure "$work/keys.out" "$spgw" -c "$work/spgw.json" reconcile \
		--from 2025-06-01 --to 2025-06-01 --region 220100 --table SPGL_XMJBXXB --all-keys \
		--no-city)"
done
echo "  $(grep -c '^  220100' "$work/keys.out") differing keys listed; the manifest plants" \
	"$(awk -F'\t' '$2 == "220100" && $3 == "SPGL_XMJBXXB" && $4 == "2025-06-01"' \
	"$work/manifest" | wc -l) on that day"
