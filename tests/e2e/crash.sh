#!/bin/sh
# kill -9 at random instants during ingest, many times; then one clean ingest. Whatever the
# instants, the ledger must hold exactly the expected records once each, the quarantine
# exactly the expected entries, and pass SQLite's integrity check.
. "$(dirname "$0")/lib.sh"

KILLS=${SPGW_CRASH_KILLS:-50}
make_config
"$SPGW_GEN" --out "$T/drops/220100" --region 220100 --projects 3000 --dirty 5 --seed 11 \
	--rows-per-file 2000
add_source 220100-files 220100 "$T/drops/220100"
# commit often so kills land between and inside many transactions
sed -i 's|"stable_seconds": 0|"stable_seconds": 0, "commit_every": 97|' "$T/sources/220100-files.json"

i=0
killed=0
while [ "$i" -lt "$KILLS" ]; do
	"$SPGW" -q -c "$T/spgw.json" ingest > /dev/null 2>&1 &
	pid=$!
	# a pseudo-random instant between 0 and ~250 ms
	delay=$(awk -v s="$i" 'BEGIN { srand(s * 7919 + 17); printf "%.3f", rand() * 0.25 }')
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$pid" 2>/dev/null || true
	i=$((i + 1))
done
echo "# killed spgw $killed times out of $KILLS runs"
"$SPGW" -q -c "$T/spgw.json" ingest > /dev/null 2>&1
check "final ingest after the kills" 0 "$?"
exp="$T/drops/220100/expected.json"
for table in SPGL_XMJBXXB SPGL_XMDWXXB SPGL_XMSPSXBLXXXXB; do
	check "$table records after $killed kills" "$(jq ".outbox.$table" "$exp")" \
		"$(sql "SELECT count(*) FROM outbox WHERE spgl_table='$table'")"
done
check "no key stored twice" 0 "$(sql 'SELECT count(*) FROM outbox WHERE version <> 1')"
check "quarantine entries" "$(jq '[.quarantine[]] | add' "$exp")" \
	"$(sql 'SELECT count(*) FROM quarantine')"
check "no quarantine entry seen twice" 0 "$(sql 'SELECT count(*) FROM quarantine WHERE seen <> 1')"
check "integrity check" ok "$(sql 'PRAGMA integrity_check')"
finish
