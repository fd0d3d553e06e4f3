#!/bin/sh
# Jilin's nine prefectures end to end, as the demo runs them but on free ports and checked
# record for record: the generator's cases for all nine cities; Changchun (220100) from its
# simulated API, the other eight from a real PostgreSQL server (the provincial platform);
# `spgw run --once` over the nine sources at once, with the catalog's definitions; then per
# city and table the ledger must hold exactly what the generator says is delivered, held
# (a parent refused) and quarantined, and the national simulator's own store exactly what
# was delivered. A correction and a withdrawal made after the first run arrive as the
# national rules say: the old row marked invalid first.
. "$(dirname "$0")/lib.sh"
: "${SPGW_JILIN_GEN:?}" "${SPGW_CHANGCHUN_SIM:?}" "${SPGW_SIM:?}"
bin=${SPGW_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bin/postgres" ]; then
	echo "skip: no PostgreSQL server in $bin (Debian: apt-get install postgresql)"
	exit 77
fi
export SPGW_PG_BIN="$bin"
pgsh=$SPGW_SRC/contrib/provincial-db/pg.sh
pgdir=$T/pg
chmod 711 "$T" # the server runs as an unprivileged user when we are root
cc_pid=
sim_pid=
trap 'kill $cc_pid $sim_pid 2>/dev/null; "$pgsh" -d "$pgdir" stop >/dev/null 2>&1;
	rm -rf "$T"' EXIT
regions="220100 220200 220300 220400 220500 220600 220700 220800 222400"
wait_file() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

"$SPGW_JILIN_GEN" --catalog "$SPGW_SRC/config/catalog/jilin.json" --seed 11 --projects 15 \
	--regions all --changchun "$T/cc" --provincial "$T/pv" --expected "$T/exp.json" \
	> "$T/gen.out" 2>&1
check "the generator made nine cities" 9 "$(jq '.regions | length' "$T/exp.json")"

# the provincial platform
port=$((20000 + $$ % 20000))
i=0
until "$pgsh" -d "$pgdir" -p "$port" start > "$T/pg.out" 2>&1; do
	i=$((i + 1))
	[ $i -lt 8 ] || { not_ok "PostgreSQL did not start"; tail "$T/pg.out"; finish; exit 1; }
	port=$((port + 997))
done
"$SPGW_SRC/contrib/provincial-db/load.sh" -d "$pgdir" "$T/pv" > "$T/load.out" 2>&1 ||
	{ not_ok "load.sh failed"; cat "$T/load.out"; }

# Changchun's system and the national platform
umask 077
echo "jilin-e2e-$$-secret" > "$T/app_secret"
umask 022
"$SPGW_CHANGCHUN_SIM" --data "$T/cc" --app-id spgw-220000 --app-secret-file "$T/app_secret" \
	--port-file "$T/cc.port" --quiet > "$T/cc.log" 2>&1 &
cc_pid=$!
"$SPGW_SIM" init --dir "$T/nat" > /dev/null
"$SPGW_SIM" serve --dir "$T/nat" --listen 127.0.0.1:0 --port-file "$T/nat.port" --quiet \
	--schema "$SPGW_SRC/config/schema/spgl-v3.json" > "$T/nat.log" 2>&1 &
sim_pid=$!
wait_file "$T/cc.port"
wait_file "$T/nat.port"

mkdir -p "$T/sources" "$T/state"
cat > "$T/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SPGW_SRC/config/schema/spgl-v3.json",
  "catalog": "$SPGW_SRC/config/catalog/jilin.json", "log": { "level": "warning" },
  "national": { "url": "https://127.0.0.1:$(cat "$T/nat.port")/spgl/v3",
    "gateway_id": "220000-01", "national_public_key": "nat/national.pub",
    "ca_file": "nat/ca.pem" } }
JSON
cat > "$T/sources/220100-changchun.json" <<JSON
{ "plugin": "changchun", "region": "220100", "mapping": "changchun.json",
  "settings": { "base_url": "http://127.0.0.1:$(cat "$T/cc.port")", "app_id": "spgw-220000",
    "app_secret_file": "$T/app_secret", "page_size": 200 } }
JSON
for r in $regions; do
	[ "$r" = 220100 ] && continue
	cat > "$T/sources/$r-provincial.json" <<JSON
{ "plugin": "provincial", "region": "$r", "mapping": "provincial.json",
  "settings": { "conninfo": "host=127.0.0.1 port=$port dbname=jlsp user=spgw_reader",
    "password_file": "$pgdir/reader.password", "page_size": 500 } }
JSON
done
"$SPGW" -c "$T/spgw.json" check-config > "$T/check.out" 2>&1 && ok "check-config passes" ||
	{ not_ok "check-config"; cat "$T/check.out"; }
"$SPGW" -c "$T/spgw.json" keygen > /dev/null
"$SPGW_SIM" register --dir "$T/nat" --gateway 220000-01 --key "$T/state/keys/gateway.pub" \
	--regions "$(echo $regions | tr ' ' ,)" > /dev/null
kill -HUP "$sim_pid"
sleep 0.2

"$SPGW" -c "$T/spgw.json" run --once > "$T/run.out" 2>&1
rc=$?
# 1: the children of refused records wait for their parents, as the generator says
check "run --once: done, some records held as expected" 1 "$rc"
"$SPGW_SIM" stats --dir "$T/nat" --json > "$T/nat.json"

exp() { jq "$1 // 0" "$T/exp.json"; }
nat() { jq "[.tables[] | select(.region == \"$1\" and .table == \"$2\") | .keys] | add // 0" "$T/nat.json"; }
bad=0
for r in $regions; do
	for t in $(jq -r ".regions[\"$r\"].delivered | keys[]" "$T/exp.json"); do
		want_d=$(exp ".regions[\"$r\"].delivered.$t")
		want_h=$(exp ".regions[\"$r\"].held.$t")
		want_q=$(exp ".regions[\"$r\"].quarantined.$t")
		got_d=$(sql "SELECT count(DISTINCT record_key) FROM outbox WHERE region='$r' AND spgl_table='$t' AND state='delivered'")
		got_h=$(sql "SELECT count(DISTINCT record_key) FROM outbox WHERE region='$r' AND spgl_table='$t' AND state='pending'")
		got_q=$(sql "SELECT count(*) FROM quarantine WHERE region='$r' AND spgl_table='$t' AND resolved=0")
		got_n=$(nat "$r" "$t")
		if [ "$want_d/$want_h/$want_q/$want_d" != "$got_d/$got_h/$got_q/$got_n" ]; then
			bad=$((bad + 1))
			echo "# $r $t delivered/held/quarantined/national: want $want_d/$want_h/$want_q/$want_d, got $got_d/$got_h/$got_q/$got_n"
		fi
	done
done
check "every city and table: delivered, held and quarantined as the generator says, and the national store holds what was delivered" 0 "$bad"
check "the catalog's 631 definitions per city reached the national side" 5679 \
	"$(jq '[.tables[] | select(.table == "SPGL_SPLCXXB" or .table == "SPGL_SPJDXXB" or .table == "SPGL_SPSXJBXXB" or .table == "SPGL_SPLCJBLSXXXB") | .keys] | add' "$T/nat.json")"
check "nothing stored twice at the national side" 0 "$(jq '.total.stored_twice' "$T/nat.json")"
check "every receipt verifies" 0 "$("$SPGW" -c "$T/spgw.json" receipts verify > /dev/null 2>&1; echo $?)"
"$SPGW" -c "$T/spgw.json" quarantine stats > "$T/qstats.txt" 2>&1
check "quarantine stats names every city" 9 "$(awk '/^22/ { print $1 }' "$T/qstats.txt" | sort -u | wc -l)"

# After the first run, Changchun corrects a project and the provincial platform withdraws
# one: each arrives as the old row marked invalid (SJYXBS 0, SJWXYY) before any new row.
ccp=$(jq -r 'select(.is_deleted == 0) | .id' "$T/cc/projects.jsonl" | head -1)
jq -c "select(.id == \"$ccp\") | .project_name += \"（更正）\" | .update_time = \"2027-01-05 10:00:00\"" \
	"$T/cc/projects.jsonl" | tail -1 >> "$T/cc/projects.jsonl"
kill "$cc_pid"
wait "$cc_pid" 2>/dev/null
rm -f "$T/cc.port"
"$SPGW_CHANGCHUN_SIM" --data "$T/cc" --app-id spgw-220000 --app-secret-file "$T/app_secret" \
	--port 0 --port-file "$T/cc.port" --quiet > "$T/cc.log" 2>&1 &
cc_pid=$!
wait_file "$T/cc.port"
sed -i "s#127.0.0.1:[0-9]*\"#127.0.0.1:$(cat "$T/cc.port")\"#" "$T/sources/220100-changchun.json"
pvx=$(sql "SELECT record_key FROM outbox WHERE region='220300' AND spgl_table='SPGL_XMJBXXB' AND state='delivered' ORDER BY record_key LIMIT 1")
"$pgsh" -d "$pgdir" psql -tA -c "UPDATE jlsp.t_project SET yxbz = 0, zfyy = '重复申报，已撤销',
	upd_time = '2027-01-06 10:00:00' WHERE row_id = ${pvx#XM-}" > /dev/null
valid_before=$(sqlite3 -batch "$T/nat/national.db" \
	"SELECT count(*) FROM current WHERE region = '220300' AND tbl = 'SPGL_XMJBXXB' AND valid = 1")
"$SPGW" -c "$T/spgw.json" run --once > "$T/run2.out" 2>&1
check "the correction: old row invalid, then the corrected one" \
	"2|0|0;3|1|1;" \
	"$(sqlite3 -batch "$T/state/spgw.db" "SELECT version, valid, json_extract(data, '\$.XMMC') LIKE '%（更正）' FROM outbox_records WHERE region='220100' AND record_key='XM-$ccp' AND version > 1 ORDER BY version" | tr '\n' ';')"
check "the withdrawal: the delivered row marked invalid with the platform's reason" \
	"2|0|重复申报，已撤销|delivered;" \
	"$(sqlite3 -batch "$T/state/spgw.db" "SELECT version, valid, json_extract(data, '\$.SJWXYY'), state FROM outbox_records WHERE region='220300' AND record_key='$pvx' AND version > 1" | tr '\n' ';')"
natvalid() {
	sqlite3 -batch "$T/nat/national.db" \
		"SELECT count(*) FROM current WHERE region = '220300' AND tbl = 'SPGL_XMJBXXB' AND valid = 1"
}
check "the national side counts the withdrawn project as not valid" \
	"$(( valid_before - 1 ))" "$(natvalid)"
finish
