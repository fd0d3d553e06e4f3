#!/bin/sh
# The daemon's own cost, the two figures operations asks for:
#   1. idle: `spgw run` with nine cities scheduled every minute (each pull finds nothing
#      new after the first), the status endpoints scraped every 10 s: CPU share and
#      resident memory over a window after the first round is delivered;
#   2. `spgw status` with ten million record versions in the ledger (nine cities, the
#      twelve tables, a year of business days; made with SQL, through the same triggers as real
#      puts), text and --json, and the daemon's /status.
#
# usage: contrib/bench/daemon.sh [IDLE_SECONDS [RECORDS]]   (defaults 180 and 10000000)
#        ONLY=1 or ONLY=2 runs one part
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build-bench}
idle=${1:-180}
records=${2:-10000000}
[ -d "$build" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
meson compile -C "$build" >/dev/null
export SPGW_PLUGIN_DIR="$build/plugins"
work=$(mktemp -d "${TMPDIR:-/tmp}/spgw-daemon-bench.XXXXXX")
sim="$build/contrib/national-sim/spgw-national-sim"
spgw="$build/gateway/spgw"
sim_pid=
gw_pid=
trap 'kill $gw_pid $sim_pid 2>/dev/null; rm -rf "$work"' EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# cpu_ticks PID: user + system clock ticks so far
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

mkdir -p "$work/state" "$work/sources"
"$sim" init --dir "$work/nat" >/dev/null
"$sim" serve --dir "$work/nat" --listen 127.0.0.1:0 --port-file "$work/port" --quiet \
	--schema "$top/config/schema/spgl-v3.json" >"$work/sim.log" 2>&1 &
sim_pid=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
http=$(free_port)
cat > "$work/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources", "mappings_dir": "$top/config/mappings",
  "schema": "$top/config/schema/spgl-v3.json", "log": { "level": "warning" },
  "daemon": { "listen": "127.0.0.1:$http" },
  "national": { "url": "https://127.0.0.1:$(cat "$work/port")/spgl/v3",
    "gateway_id": "220000-01", "national_public_key": "nat/national.pub",
    "ca_file": "nat/ca.pem" } }
JSON
"$spgw" -c "$work/spgw.json" keygen >/dev/null 2>&1
kill "$sim_pid"
wait "$sim_pid" 2>/dev/null || true
"$sim" register --dir "$work/nat" --gateway 220000-01 --key "$work/state/keys/gateway.pub" \
	--regions '22*' >/dev/null
"$sim" serve --dir "$work/nat" --listen "127.0.0.1:$(cat "$work/port")" --quiet \
	--schema "$top/config/schema/spgl-v3.json" >>"$work/sim.log" 2>&1 &
sim_pid=$!
sleep 0.5

if [ "${ONLY:-1}" = 1 ]; then
	seed=1
	for r in 220100 220200 220300 220400 220500 220600 220700 220800 222400; do
		"$build/contrib/gen/spgw-gen-drops" --out "$work/drops/$r" --region "$r" \
			--projects 200 --seed "$seed" --dirty 0 >/dev/null
		cat > "$work/sources/$r.json" <<JSON
{ "plugin": "files", "region": "$r", "mapping": "files-demo.json",
  "settings": { "dir": "$work/drops/$r", "stable_seconds": 0 },
  "schedule": { "pull": "* * * * *" } }
JSON
		seed=$((seed + 1))
	done
	"$spgw" -c "$work/spgw.json" run 2>"$work/gw.err" &
	gw_pid=$!
	# the first round: every city pulled and delivered
	i=0
	while [ $i -lt 600 ]; do
		left=$("$spgw" -c "$work/spgw.json" status --json 2>/dev/null |
			jq '.totals.pending + .totals.held + .totals.in_flight')
		done_n=$("$spgw" -c "$work/spgw.json" status --json 2>/dev/null | jq '.totals.delivered')
		[ "$left" = 0 ] && [ "$done_n" -gt 0 ] && break
		sleep 1
		i=$((i + 1))
	done
	echo "first round: $done_n record versions delivered in about $i s; now idle for $idle s"
	hz=$(getconf CLK_TCK)
	t0=$(cpu_ticks "$gw_pid")
	s0=$(date +%s.%N)
	n=0
	while [ $n -lt $((idle / 10)) ]; do
		sleep 10
		curl -sf "http://127.0.0.1:$http/metrics" >/dev/null
		curl -sf "http://127.0.0.1:$http/healthz" >/dev/null
		n=$((n + 1))
	done
	t1=$(cpu_ticks "$gw_pid")
	s1=$(date +%s.%N)
	pulls=$(curl -sf "http://127.0.0.1:$http/metrics" |
		awk '/^spgw_pulls_total/ { n += $2 } END { print n }')
	echo "idle: $(echo "($t1 - $t0) / $hz / ($s1 - $s0) * 100" | bc -l | cut -c1-5) % of one core" \
		"over $(echo "$s1 - $s0" | bc | cut -c1-6) s (nine sources pulled every minute:" \
		"$pulls pulls in all), RSS now $(($(rss_kib "$gw_pid") / 1024)) MiB," \
		"peak $(($(hwm_kib "$gw_pid") / 1024)) MiB"
	kill -TERM "$gw_pid"
	wait "$gw_pid" || true
	gw_pid=
fi

if [ "${ONLY:-2}" = 2 ]; then
	rm -f "$work"/sources/*.json
	"$spgw" -c "$work/spgw.json" status >/dev/null 2>&1 || true
	t0=$(date +%s)
	# record versions as puts would leave them: nine regions, twelve tables, a year of
	# days, 99 % delivered, the rest waiting, in batches, held or dead
	sqlite3 "$work/state/spgw.db" <<SQL
PRAGMA synchronous = OFF;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $records - 1)
INSERT INTO outbox (region, spgl_table, record_key, version, day, digest, source, state,
  created_at, batch_id, delivered_at)
SELECT r.code, t.name, 'K' || i, 1,
  date('2025-11-23', '+' || (i / 4000 % 366) || ' days'),
  'sm3:' || hex(randomblob(32)), 'bench-' || r.code,
  CASE WHEN i % 100 = 1 THEN 'pending' WHEN i % 1000 = 2 THEN 'dead' ELSE 'delivered' END,
  strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (i % 5000) || ' minutes'),
  CASE WHEN i % 500 = 1 THEN 'B' || (i / 1000) END,
  CASE WHEN i % 100 NOT IN (1) AND i % 1000 <> 2
    THEN strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (i % 3000) || ' minutes') END
FROM n
JOIN (SELECT column1 AS k, column2 AS code FROM (VALUES (0,'220100'),(1,'220200'),(2,'220300'),
  (3,'220400'),(4,'220500'),(5,'220600'),(6,'220700'),(7,'220800'),(8,'222400'))) r
  ON r.k = i % 9
JOIN (SELECT column1 AS k, column2 AS name FROM (VALUES (0,'SPGL_XMJBXXB'),(1,'SPGL_XMDWXXB'),
  (2,'SPGL_XMSPSXBLXXB'),(3,'SPGL_XMSPSXBLXXXXB'),(4,'SPGL_XMSPSXPFWJXXB'),
  (5,'SPGL_XMSPSXBLTBCXXXB'),(6,'SPGL_XMSQCLJQTFJXXB'),(7,'SPGL_XMSPSXZQYJXXB'),
  (8,'SPGL_SPLCXXB'),(9,'SPGL_SPJDXXB'),(10,'SPGL_SPSXJBXXB'),(11,'SPGL_SPLCJBLSXXXB'))) t
  ON t.k = i / 9 % 12;
SQL
	echo "ledger: $(sqlite3 "$work/state/spgw.db" 'SELECT count(*) FROM outbox') record" \
		"versions written in $(($(date +%s) - t0)) s; $(du -m "$work/state/spgw.db" | cut -f1) MiB"
	for form in "" "--json"; do
		best=
		for k in 1 2 3 4 5; do
			a=$(date +%s%N)
			"$spgw" -c "$work/spgw.json" status $form >/dev/null 2>&1 || true
			b=$(date +%s%N)
			ms=$(((b - a) / 1000000))
			[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
			all="${all:-}$ms "
		done
		echo "spgw status $form: ${all}ms (best $best ms)"
		all=
	done
	"$spgw" -c "$work/spgw.json" run 2>"$work/gw.err" &
	gw_pid=$!
	# it checks the ledger's integrity once when it starts: seconds at this size
	a=$(date +%s%N)
	i=0
	until curl -sf "http://127.0.0.1:$http/healthz" >/dev/null || [ $i -gt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	b=$(date +%s%N)
	echo "daemon start with the integrity check: $(((b - a) / 1000000)) ms"
	a=$(date +%s%N)
	curl -sf "http://127.0.0.1:$http/status" >/dev/null
	b=$(date +%s%N)
	echo "daemon /status: $(((b - a) / 1000000)) ms"
fi
