#!/bin/sh
# The supervision reports against the generator: a small Jilin dataset (Changchun through the
# files plugin reading its API records; Siping and Yanbian from a real PostgreSQL server
# through the provincial plugin, when PostgreSQL is installed) is ingested, then
# `spgw violations` must find exactly the second returns and overruns the generator planted
# (contrib/jilin-gen: --expected "violations") and, as broken step logs, exactly the cases
# whose step it wrote out of order (dirty kind bad_sequence, which wait in quarantine);
# `spgw stats` must count as complete exactly the projects the generator finished
# (项目是否完全办结 in their rows). The generator counts working days Monday to Friday (its
# README, "Time"): the exact comparison runs with a calendar that does the same, then the
# real one (config/calendar/cn.json) must find the same returns and no overrun the
# generator did not plant (holidays only shorten a case's working time).
. "$(dirname "$0")/lib.sh"
: "${SPGW_JILIN_GEN:?}"
bin=${SPGW_PG_BIN:-/usr/lib/postgresql/15/bin}
pgsh=$SPGW_SRC/contrib/provincial-db/pg.sh
pgdir=$T/pg
regions=220100
if [ -x "$bin/postgres" ] && [ -f "$SPGW_PLUGIN_DIR/spgw-provincial.so" ]; then
	regions="220100,220300,222400"
	export SPGW_PG_BIN="$bin"
	chmod 711 "$T" # the server runs as an unprivileged user when we are root
	trap '"$pgsh" -d "$pgdir" stop >/dev/null 2>&1; rm -rf "$T"' EXIT
else
	echo "# no PostgreSQL server or provincial plugin: Changchun (220100) only"
fi
from=2024-03-01
to=2026-10-31

"$SPGW_JILIN_GEN" --catalog "$SPGW_SRC/config/catalog/jilin.json" --seed 7 --projects 30 \
	--from $from --to $to --regions $regions --kinds bad_sequence --dirty 0.02 \
	--changchun "$T/cc" --provincial "$T/pv" --expected "$T/exp.json" > "$T/gen.out" 2>&1 ||
	{ not_ok "the generator failed"; cat "$T/gen.out"; finish; exit 1; }

make_config
cat > "$T/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SPGW_SRC/config/schema/spgl-v3.json",
  "catalog": "$SPGW_SRC/config/catalog/jilin.json", "calendar": "weekdays.json",
  "log": { "level": "warning" } }
JSON
# Monday to Friday, as the generator counts: a calendar needs a holiday per year, and one on
# a Sunday changes no working day
{
	echo '{"calendar": "weekdays", "years": {'
	sep=
	for y in 2024 2025 2026 2027; do
		sun=$(for d in 01 02 03 04 05 06 07; do
			[ "$(date -u -d "$y-01-$d" +%u)" = 7 ] && echo "$y-01-$d"; done)
		printf '%s"%s": {"source": "test: Monday to Friday", "verified": true,
  "holidays": [{"name": "none", "from": "%s"}], "workdays": []}\n' "$sep" "$y" "$sun"
		sep=,
	done
	echo '}}'
} > "$T/weekdays.json"
cat > "$T/sources/220100-changchun.json" <<JSON
{ "plugin": "files", "region": "220100", "mapping": "changchun.json",
  "settings": { "dir": "$T/cc", "stable_seconds": 0 } }
JSON
if [ "$regions" != 220100 ]; then
	port=$((20000 + $$ % 20000))
	i=0
	until "$pgsh" -d "$pgdir" -p "$port" start > "$T/pg.out" 2>&1; do
		i=$((i + 1))
		[ $i -lt 8 ] || { not_ok "PostgreSQL did not start"; tail "$T/pg.out"; finish; exit 1; }
		port=$((port + 997))
	done
	"$SPGW_SRC/contrib/provincial-db/load.sh" -d "$pgdir" "$T/pv" > "$T/load.out" 2>&1 ||
		{ not_ok "load.sh failed"; cat "$T/load.out"; }
	for r in 220300 222400; do
		cat > "$T/sources/$r-provincial.json" <<JSON
{ "plugin": "provincial", "region": "$r", "mapping": "provincial.json",
  "settings": { "conninfo": "host=127.0.0.1 port=$port dbname=jlsp user=spgw_reader",
    "password_file": "$pgdir/reader.password", "page_size": 500 } }
JSON
	done
fi
"$SPGW" -c "$T/spgw.json" check-config > "$T/check.out" 2>&1 && ok "check-config loads the calendar" ||
	{ not_ok "check-config"; cat "$T/check.out"; }
"$SPGW" -c "$T/spgw.json" ingest > "$T/ingest.out" 2>&1 ||
	{ not_ok "ingest"; cat "$T/ingest.out"; }

"$SPGW" -c "$T/spgw.json" violations --from $from --to $to --json > "$T/v.json" 2> "$T/v.err"
check "violations found: exit status 1" 1 "$?"

# (a) second returns: project, item and both cases, as planted
jq -r '.violations[] | select(.kind == "second_return") | "\(.region) \(.gcdm) \(.item) \(.cases | join(" "))"' \
	"$T/exp.json" | sort > "$T/want_r"
jq -r '.violations[] | select(.kind == "second_return") | "\(.region) \(.gcdm) \(.item) \(.prev_case) \(.case)"' \
	"$T/v.json" | sort > "$T/got_r"
check "second returns: as the generator planted them" "" "$(diff "$T/want_r" "$T/got_r")"
check "second returns: some were planted" 1 "$([ -s "$T/want_r" ] && echo 1)"
# (b) overruns of ended cases: the case, its working days and its limit
jq -r '.violations[] | select(.kind == "overrun") | "\(.region) \(.gcdm) \(.item) \(.cases[0]) \(.elapsed)/\(.limit)"' \
	"$T/exp.json" | sort > "$T/want_o"
jq -r '.violations[] | select(.kind == "overrun") | "\(.region) \(.gcdm) \(.item) \(.case) \(.elapsed)/\(.limit)"' \
	"$T/v.json" | sort > "$T/got_o"
check "overruns: the generator's, with its working days and limits" "" "$(diff "$T/want_o" "$T/got_o")"
# (c) broken step logs: the cases of the steps written out of order, which wait in quarantine
keys=$(jq -r '[.dirty[] | select(.kind == "bad_sequence") | "'"'"'\(.key)'"'"'"] | join(",")' "$T/exp.json")
sql "SELECT region || ' ' || json_extract(mapped, '\$.SPSXSLBM') FROM quarantine
	WHERE record_key IN ($keys) AND wait_ref IS NOT NULL" | sort -u > "$T/want_s"
jq -r '.violations[] | select(.kind == "sequence") | "\(.region) \(.case)"' "$T/v.json" | sort > "$T/got_s"
check "broken step logs: the cases of the planted bad_sequence steps" "" "$(diff "$T/want_s" "$T/got_s")"
check "broken step logs: every planted step waits in quarantine" \
	"$(jq '[.dirty[] | select(.kind == "bad_sequence")] | length' "$T/exp.json")" \
	"$(sql "SELECT count(*) FROM quarantine WHERE record_key IN ($keys) AND wait_ref IS NOT NULL")"
# per city: the counts the generator states
bad=0
for r in $(echo $regions | tr , ' '); do
	w=$(jq ".regions[\"$r\"] | \"\(.second_returns) \(.overruns)\"" "$T/exp.json")
	g=$(jq ".regions[] | select(.region == \"$r\") | \"\(.second_return) \(.overrun)\"" "$T/v.json")
	[ "$w" = "$g" ] || { bad=$((bad + 1)); echo "# $r second returns, overruns: want $w, got $g"; }
done
check "per city: second returns and overruns as counted in --expected" 0 "$bad"

# a range holding no case: nothing to report, exit 0
"$SPGW" -c "$T/spgw.json" violations --from 2024-01-01 --to 2024-01-31 > "$T/empty.txt" 2>&1
check "an empty range: exit 0" 0 "$?"
check "an empty range says so" 1 "$(grep -c '无违规 no violations' "$T/empty.txt")"

# approval times: complete = the projects the generator finished (项目是否完全办结 1)
"$SPGW" -c "$T/spgw.json" stats --from $from --to $to --json > "$T/s.json" 2> "$T/s.err"
check "stats: exit 0" 0 "$?"
bad=0
for r in $(echo $regions | tr , ' '); do
	w=$(sql "SELECT count(*) FROM outbox_records o WHERE region = '$r' AND spgl_table = 'SPGL_XMJBXXB'
		AND valid = 1 AND json_extract(data, '\$.XMSFWQBJ') = 1
		AND json_extract(data, '\$.XMWQBJSJ') BETWEEN '$from' AND '$to'
		AND version = (SELECT max(version) FROM outbox v WHERE v.region = o.region
			AND v.spgl_table = o.spgl_table AND v.record_key = o.record_key)")
	g=$(jq ".regions[] | select(.region == \"$r\") | .complete" "$T/s.json")
	n=$(jq ".regions[] | select(.region == \"$r\") | .figures[] | select(.figure == \"total\") | .n" "$T/s.json")
	[ "$w/$w" = "$g/$n" ] || { bad=$((bad + 1)); echo "# $r complete/total n: want $w/$w, got $g/$n"; }
done
check "stats: complete projects per city as the generator finished them" 0 "$bad"
check "stats: some projects completed" 1 "$(jq '[.regions[] | select(.region == null) | .complete > 0] | .[0] | if . then 1 else 0 end' "$T/s.json")"

# the report document in its three forms
for f in v.html v.csv vr.json; do
	"$SPGW" -c "$T/spgw.json" violations --from $from --to $to --report "$T/$f" > /dev/null 2>&1
	check "violations --report $f: written (exit 1: violations)" "1 1" "$? $([ -s "$T/$f" ] && echo 1)"
done
check "the JSON report is a violations document with a section per city and its items" \
	"violations $(($(echo $regions | tr , '\n' | wc -l) * 2))" \
	"$(jq -r '"\(.kind) \(.sections | length)"' "$T/vr.json")"
check "the HTML report flags the violation rows" 1 "$(grep -q 'violation' "$T/v.html" && echo 1)"
"$SPGW" -c "$T/spgw.json" stats --from $from --to $to --report "$T/s.html" > /dev/null 2>&1
check "stats --report: written" "0 1" "$? $([ -s "$T/s.html" ] && echo 1)"

# the real calendar: the same returns; holidays only take working days away, so every
# overrun it finds is one the generator planted
sed -i "s#\"weekdays.json\"#\"$SPGW_SRC/config/calendar/cn.json\"#" "$T/spgw.json"
"$SPGW" -c "$T/spgw.json" violations --from $from --to $to --json > "$T/vc.json" 2>/dev/null
jq -r '.violations[] | select(.kind == "second_return") | "\(.region) \(.gcdm) \(.item) \(.prev_case) \(.case)"' \
	"$T/vc.json" | sort > "$T/got_rc"
check "holiday calendar: the same second returns" "" "$(diff "$T/want_r" "$T/got_rc")"
jq -r '.violations[] | select(.kind == "overrun") | "\(.region) \(.gcdm) \(.item) \(.case)"' "$T/vc.json" |
	sort > "$T/got_oc"
cut -d' ' -f1-4 "$T/want_o" > "$T/want_oc"
check "holiday calendar: no overrun the generator did not plant" "" "$(comm -13 "$T/want_oc" "$T/got_oc")"
echo "# overruns: $(wc -l < "$T/want_oc") Monday to Friday, $(wc -l < "$T/got_oc") with the holiday calendar"
check "holiday calendar: notes say which years are not verified" 1 \
	"$(jq '[.notes[] | select(test("not verified"))] | length > 0 | if . then 1 else 0 end' "$T/vc.json")"
finish
