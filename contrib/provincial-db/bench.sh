#!/bin/sh
# Provincial ingest benchmark: N handling steps (t_step) of one city, made in the database by
# generate_series, read by the provincial plugin through the real `spgw ingest` into the
# ledger (mapping, validation, canonical JSON + SM3, outbox), on a private PostgreSQL server.
#
# The steps belong to N/4 cases of N/20 projects (收件 受理 开始办理 办结 each, 50 rows per
# upd_time value, so pages end inside runs of equal upd_time); a second city gets N/10 steps
# the first must not read. Projects and cases are ingested first, then the steps alone are
# timed: wall time, the gateway's CPU time and peak resident memory (VmHWM), and the plugin
# process's peak.
#
# usage: contrib/provincial-db/bench.sh [N]      (default 1000000)
#        BUILD=dir (default build-bench, release), PAGE=rows per page (default 1000)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-1000000}
page=${PAGE:-1000}
build=${BUILD:-$top/build-bench}
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
meson compile -C "$build" >/dev/null
[ -f "$build/plugins/spgw-provincial.so" ] || { echo "bench: no spgw-provincial.so in $build/plugins" >&2; exit 2; }
export SPGW_PLUGIN_DIR="$build/plugins"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgw-pvbench.XXXXXX")
chmod 711 "$work"
pgsh=$top/contrib/provincial-db/pg.sh
port=${PORT:-18433}
trap '"$pgsh" -d "$work/pg" stop >/dev/null 2>&1; rm -rf "$work"' EXIT
"$pgsh" -d "$work/pg" -p "$port" start >/dev/null
pg() { "$pgsh" -d "$work/pg" psql -q -c "$1"; }

echo "bench: making $n steps for 220200 (and $((n / 10)) for 220300) ..."
t0=$(date +%s)
for spec in "220200 $n 0" "220300 $((n / 10)) 10000000"; do
	set -- $spec
	area=$1 steps=$2 base=$3
	cases=$((steps / 4)) projects=$((steps / 20))
	pg "INSERT INTO jlsp.t_project SELECT $base + g, '$area',
		'2026-' || '$area' || '-47-01-' || lpad(g::text, 6, '0'), NULL, NULL,
		'吉林省某某工程建设项目第' || g || '号综合楼及配套设施', 1 + g % 5, 'JL-LC-0' || (1 + g % 5), 1.0,
		'ZF', 'HB', 0, 0, 'SP', '23', 'XJ', 'CZ', 'E4710', '2026-05', '2027-12', 0, NULL,
		(g % 100000) * 1.2345, '${area%00}02', '吉林省某市某区某路' || g || '号',
		'新建综合楼一栋，地上十八层，地下两层，总建筑面积约三万平方米', 12000.50, 35000.25,
		date '2026-01-01' + g % 300, '吉林省某某建设集团有限公司', '91220201MA17JL001C', 1,
		'126.55,43.84', timestamp '2026-03-01 00:00:00' + (g / 50) * interval '1 second', 1, NULL
		FROM generate_series(1, $projects) g"
	pg "INSERT INTO jlsp.t_case SELECT $base + g, '$area',
		'2026-' || '$area' || '-47-01-' || lpad(((g - 1) / 5 + 1)::text, 6, '0'),
		'JL-SX-' || lpad((1 + g % 29)::text, 3, '0'), 1.0, 'JL-LC-01', 1.0,
		'SL$area' || lpad(g::text, 10, '0'), '$area-FGW', '某市发展和改革委员会', 1, 1, NULL, 10,
		'张三', '13900000001', timestamp '2026-03-01 00:00:00' + (g / 50) * interval '1 second',
		1, NULL FROM generate_series(1, $cases) g"
	pg "INSERT INTO jlsp.t_step SELECT $base + g, '$area',
		'2026-' || '$area' || '-47-01-' || lpad(((g - 1) / 20 + 1)::text, 6, '0'),
		'SL$area' || lpad(((g - 1) / 4 + 1)::text, 10, '0'), '投资审批科', '王五',
		(ARRAY['10', '20', '40', '90'])[(g - 1) % 4 + 1],
		CASE WHEN (g - 1) % 4 = 3 THEN '经审查，符合有关规定，同意。' END,
		timestamp '2026-01-05 09:00:00' + ((g - 1) / 4 % 250) * interval '1 day'
			+ ((g - 1) % 4) * interval '1 hour',
		'某市发展和改革委员会', '11220200MB17JL003E',
		timestamp '2026-03-01 00:00:00' + (g / 50) * interval '1 second', 1, NULL
		FROM generate_series(1, $steps) g"
done
pg "ANALYZE"
echo "bench: data made in $(($(date +%s) - t0)) s"

mkdir -p "$work/sources" "$work/state"
cat > "$work/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources", "mappings_dir": "$top/config/mappings",
  "schema": "$top/config/schema/spgl-v3.json", "log": { "level": "warning" } }
JSON
source_file() {
	cat > "$work/sources/220200-provincial.json" <<JSON
{ "plugin": "provincial", "region": "220200", "mapping": "provincial.json", "timeout": 600,
  "settings": { "conninfo": "host=127.0.0.1 port=$port dbname=jlsp user=spgw_reader",
    "password_file": "$work/pg/reader.password", "page_size": $page, "tables": $1 } }
JSON
}
source_file '["t_project", "t_case"]'
"$build/gateway/spgw" -c "$work/spgw.json" ingest >/dev/null
source_file '["t_step"]'

# The gateway alone: wall, its CPU (read once it has exited, before it is reaped), VmHWM;
# and the largest VmHWM seen of its children (the plugin process).
python3 - "$build/gateway/spgw" -c "$work/spgw.json" ingest <<'PY'
import os, subprocess, sys, time

t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
peak = child = 0
def hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
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
out = p.communicate()[0]
print(out, end="")
print("bench: exit %d; %.1f s wall, gateway %.1f s CPU, gateway peak RSS %.1f MiB, plugin "
      "peak RSS %.1f MiB" % (p.returncode, wall, cpu, peak / 1024, child / 1024))
PY
sqlite3 -batch "$work/state/spgw.db" "SELECT 'bench: outbox ' || spgl_table || ' ' || count(*)
	FROM outbox GROUP BY spgl_table; SELECT 'bench: quarantined ' || count(*) FROM quarantine;
	SELECT 'bench: outbox rows of another region ' || count(*) FROM outbox WHERE region <> '220200'"
