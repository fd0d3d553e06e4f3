#!/bin/sh
# The main job on generated data for Jilin's nine prefectures, the whole path on loopback:
#
#   - spgw-jilin-gen makes approval cases for all nine cities (with a known share of dirty
#     records, returned applications, overruns, corrections and withdrawals);
#   - Changchun (220100) is its own system: spgw-changchun-sim serves its HTTP API on
#     127.0.0.1:18480;
#   - the other eight use the provincial platform: a real PostgreSQL 15 server on
#     127.0.0.1:18432 (contrib/provincial-db, run as an unprivileged user) holds their rows;
#   - the national platform: spgw-national-sim on https://127.0.0.1:18443 (its own test CA);
#   - spgw run --once pulls all nine sources at once (plugins/changchun, plugins/provincial,
#     config/sources/), reports the catalog's flow, stage and item definitions first, maps,
#     validates, quarantines what is bad, and delivers the rest as signed batches;
#   - then it prints per city and table what was ingested, quarantined (top reasons) and
#     delivered, and what the national side holds;
#   - and what provincial staff read over the generator's window: the reconciliation of
#     city systems, gateway and national platform (spgw reconcile, var/reconcile.html) and
#     the cases that break the province's rules (spgw violations, var/violations.html).
#
# DEMO_PROJECTS (default 60) sets the projects per city.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-build}
projects=${DEMO_PROJECTS:-60}
[ -d "$build" ] || meson setup "$build" >/dev/null
meson compile -C "$build" >/dev/null
export SPGW_PLUGIN_DIR="$top/$build/plugins"
spgw="$top/$build/gateway/spgw"
sim="$top/$build/contrib/national-sim/spgw-national-sim"
ccsim="$top/$build/contrib/changchun-sim/spgw-changchun-sim"
gen="$top/$build/contrib/jilin-gen/spgw-jilin-gen"
regions=220100,220200,220300,220400,220500,220600,220700,220800,222400
# the generator's window (its defaults): 申报时间 lies in it and nothing happens after it; the
# reconciliation and the violations report cover the same days
from=2026-01-01
to=2026-10-31

# a previous run's servers
if [ -d var/provincial ]; then
	sh contrib/provincial-db/pg.sh -d "$top/var/provincial" stop >/dev/null 2>&1 || true
fi
rm -rf var
mkdir -p var/state var/changchun var/data

echo "== generating approval cases for nine cities ($projects projects each)"
"$gen" --catalog config/catalog/jilin.json --seed 1 --projects "$projects" --regions all \
	--from "$from" --to "$to" \
	--changchun var/data/changchun --provincial var/data/provincial \
	--expected var/data/expected.json
sim_pid=
cc_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null
	[ -n "$cc_pid" ] && kill "$cc_pid" 2>/dev/null
	sh contrib/provincial-db/pg.sh -d "$top/var/provincial" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== the provincial platform: PostgreSQL on 127.0.0.1:18432"
sh contrib/provincial-db/pg.sh -d "$top/var/provincial" -p 18432 start
sh contrib/provincial-db/load.sh -d "$top/var/provincial" var/data/provincial

echo "== Changchun's system: spgw-changchun-sim on 127.0.0.1:18480"
umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > var/changchun/app_secret
umask 022
"$ccsim" --data var/data/changchun --app-id spgw-220000 \
	--app-secret-file var/changchun/app_secret --port 18480 \
	--port-file var/changchun/port --quiet >var/changchun.log 2>&1 &
cc_pid=$!

echo "== the national platform: spgw-national-sim on https://127.0.0.1:18443"
"$sim" init --dir var/national >/dev/null
"$spgw" -c config/spgw.json keygen >/dev/null
"$sim" register --dir var/national --gateway 220000-01 --key var/state/keys/gateway.pub \
	--regions "$regions"
"$sim" serve --dir var/national --listen 127.0.0.1:18443 --quiet >var/national.log 2>&1 &
sim_pid=$!
i=0
until { grep -q listening var/national.log && [ -s var/changchun/port ]; } 2>/dev/null ||
	[ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done

"$spgw" -c config/spgw.json check-config

echo "== spgw run --once: nine sources pulled at once, then delivered"
# Exit 1 is expected: the data is dirty on purpose, and children of quarantined records wait
# in the outbox for their parent. Anything above 1 is a real failure.
status=0
"$spgw" -c config/spgw.json run --once || status=$?
[ "$status" -le 1 ] || exit "$status"
status=0
echo
echo "== per city and table: ingested, waiting, delivered (spgw status)"
"$spgw" -c config/spgw.json status
echo
echo "== quarantined, with the top reasons (spgw quarantine stats)"
"$spgw" -c config/spgw.json quarantine stats
"$spgw" -c config/spgw.json quarantine export -o var/quarantine.csv
echo
echo "== what the national platform holds (its own store, var/national/national.db)"
"$sim" stats --dir var/national
echo
"$spgw" -c config/spgw.json outbox stats
"$spgw" -c config/spgw.json receipts verify || status=$?

# What provincial staff read. Both commands exit 1 when they find something, and this data
# is dirty on purpose (quarantined records never reach the national platform, children wait
# for their parents, the generator plants second returns and overruns): 1 is the expected
# answer here, anything above 1 a real failure. Their whole text goes to var/, the summary
# to the screen.
# staff CMD: run `spgw CMD` over the window with its report in var/CMD.html and its whole text
# in var/CMD.txt; 1 is an answer, more fails the demo with the text shown.
staff() {
	rs=0
	"$spgw" -c config/spgw.json "$1" --from "$from" --to "$to" \
		--report "var/$1.html" >"var/$1.txt" || rs=$?
	if [ "$rs" -gt 1 ]; then
		cat "var/$1.txt"
		exit "$rs"
	fi
}
echo
echo "== 对账 reconciliation, business days $from to $to (spgw reconcile)"
staff reconcile
# the summary: from the count of tables that agree and differ to the end
sed -n '/^[0-9]* table(s): /,$p' var/reconcile.txt
echo
echo "== 违规办件 violations, cases dated $from to $to (spgw violations)"
staff violations
# the summary: the heading and the table per city, up to the blank line after it
awk '/^$/ && ++blank == 2 { exit } { print }' var/violations.txt
echo
echo "what the generator meant: var/data/expected.json; the ledger: var/state/spgw.db;"
echo "the quarantine for the cities to fix: var/quarantine.csv; for provincial staff:"
echo "var/reconcile.html and var/violations.html (the whole text: var/reconcile.txt and"
echo "var/violations.txt)"
exit $status
