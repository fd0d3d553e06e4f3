#!/bin/sh
# End to end: generated export drops -> files plugin -> mapping -> validation -> ledger, with
# exactly the expected records in the outbox and exactly the dirty ones in quarantine; a
# second ingest adds nothing; dry runs write nothing; replay after a mapping fix; export.
. "$(dirname "$0")/lib.sh"

make_config
"$SPGW_GEN" --out "$T/drops/220100" --region 220100 --projects 400 --dirty 10 --seed 7
"$SPGW_GEN" --out "$T/drops/220300" --region 220300 --projects 200 --dirty 10 --seed 8 \
	--gbk --jsonl --rows-per-file 150
add_source 220100-files 220100 "$T/drops/220100"
add_source 220300-files 220300 "$T/drops/220300" gbk

"$SPGW" -c "$T/spgw.json" check-config > "$T/check.out" 2>&1 && ok "check-config passes" ||
	{ not_ok "check-config failed"; cat "$T/check.out"; }

# dry run first: prints records, writes nothing at all (no cursor either)
"$SPGW" -c "$T/spgw.json" ingest --dry-run --source 220100-files > "$T/dry.out" 2>&1 ||
	true
check "dry run prints SPGL records as JSON lines" yes \
	"$(grep -q '"table":"SPGL_XMJBXXB"' "$T/dry.out" && echo yes || echo no)"
check "dry run leaves the outbox empty" 0 "$(sql 'SELECT count(*) FROM outbox' 2>/dev/null || echo 0)"

"$SPGW" -c "$T/spgw.json" ingest > "$T/ingest.out" 2>&1; rc=$?
check "ingest exit status" 0 "$rc"

for region in 220100 220300; do
	exp="$T/drops/$region/expected.json"
	for table in SPGL_XMJBXXB SPGL_XMDWXXB SPGL_XMSPSXBLXXXXB; do
		check "$region $table in the outbox" "$(jq ".outbox.$table" "$exp")" \
			"$(sql "SELECT count(*) FROM outbox WHERE region='$region' AND spgl_table='$table'")"
	done
	q=$(jq '[.quarantine[]] | add' "$exp")
	check "$region quarantine entries" "$q" \
		"$(sql "SELECT count(*) FROM quarantine WHERE region='$region' AND resolved=0")"
	check "$region 统一社会信用代码 check-character refusals" \
		"$(jq '.quarantine["JSDWDM checkdigit"]' "$exp")" \
		"$(sql "SELECT count(*) FROM quarantine WHERE region='$region' AND reasons LIKE '%\"JSDWDM\"%checkdigit%'")"
	check "$region impossible SBSJ dates refused" "$(jq '.quarantine["SBSJ format"]' "$exp")" \
		"$(sql "SELECT count(*) FROM quarantine WHERE region='$region' AND reasons LIKE '%\"field\":\"SBSJ\"%'")"
	check "$region unmapped 立项类型 codes refused" "$(jq '.quarantine["LXLX code"]' "$exp")" \
		"$(sql "SELECT count(*) FROM quarantine WHERE region='$region' AND reasons LIKE '%\"field\":\"LXLX\",\"code\":\"code\"%'")"
	check "$region steps out of order after a refused 受理" \
		"$(jq '.quarantine["BLZT sequence"]' "$exp")" \
		"$(sql "SELECT count(*) FROM quarantine WHERE region='$region' AND reasons LIKE '%\"field\":\"BLZT\",\"code\":\"sequence\"%'")"
	# quarantine stats counts the same reasons per region and table
	"$SPGW" -c "$T/spgw.json" quarantine stats --format json > "$T/qstats.json" 2>/dev/null
	check "$region quarantine stats: entries" "$q" \
		"$(jq "[.[] | select(.region == \"$region\") | .entries] | add" "$T/qstats.json")"
	check "$region quarantine stats: LXLX code" "$(jq '.quarantine["LXLX code"]' "$exp")" \
		"$(jq "[.[] | select(.region == \"$region\") | .reasons[] | select(.field == \"LXLX\" and .code == \"code\") | .count] | add" "$T/qstats.json")"
done
"$SPGW" -c "$T/spgw.json" quarantine stats > "$T/qstats.txt" 2>&1
check "quarantine stats names fields in Chinese" yes \
	"$(grep -q 'LXLX code (立项类型)' "$T/qstats.txt" && echo yes || echo no)"
check "Chinese text from GBK drops arrives as UTF-8" 1 \
	"$(sql "SELECT count(*) > 0 FROM outbox_records WHERE region='220300' AND data LIKE '%项目%'")"
check "every outbox key has exactly one version" 0 \
	"$(sql 'SELECT count(*) FROM outbox WHERE version <> 1')"
check "cursors committed for both sources" 2 "$(sql 'SELECT count(*) FROM cursors')"

before=$(sql 'SELECT count(*) FROM outbox')
qbefore=$(sql 'SELECT count(*) FROM quarantine')
"$SPGW" -c "$T/spgw.json" ingest > /dev/null 2>&1
check "a second ingest adds nothing to the outbox" "$before" "$(sql 'SELECT count(*) FROM outbox')"
check "a second ingest adds nothing to quarantine" "$qbefore" "$(sql 'SELECT count(*) FROM quarantine')"

# export for the city: CSV with a BOM and Chinese headers; JSON parses
"$SPGW" -c "$T/spgw.json" quarantine export -o "$T/q.csv" 2>/dev/null
check "CSV export starts with a UTF-8 BOM" efbbbf "$(head -c 3 "$T/q.csv" | od -An -tx1 | tr -d ' \n')"
check "CSV export has a header and one line per entry" $((qbefore + 1)) \
	"$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], encoding="utf-8-sig"))))' "$T/q.csv" 2>/dev/null || grep -c '^"' "$T/q.csv")"
"$SPGW" -c "$T/spgw.json" quarantine export --format json -o "$T/q.json" 2>/dev/null
check "JSON export holds every entry" "$qbefore" "$(jq length "$T/q.json")"
id=$(sql 'SELECT min(id) FROM quarantine')
"$SPGW" -c "$T/spgw.json" quarantine show "$id" > "$T/show.out"
check "quarantine show gives reasons in Chinese" yes \
	"$(grep -q '原因' "$T/show.out" && echo yes || echo no)"

# replay after fixing the mapping: the unmapped 立项类型 "特批" becomes 1 (审批)
lx=$(sql "SELECT count(*) FROM quarantine WHERE reasons LIKE '%\"field\":\"LXLX\",\"code\":\"code\"%' AND resolved=0")
mkdir -p "$T/mappings"
jq '.code_tables.lxlx["特批"] = 1' "$SPGW_SRC/config/mappings/files-demo.json" \
	> "$T/mappings/files-demo.json"
sed -i "s|\"mappings_dir\": \"[^\"]*\"|\"mappings_dir\": \"mappings\"|" "$T/spgw.json"
"$SPGW" -c "$T/spgw.json" quarantine replay > "$T/replay.out" 2>&1 || true
check "replay resolves exactly the fixed entries" "$lx" \
	"$(sql 'SELECT count(*) FROM quarantine WHERE resolved=1')"
check "replayed records are in the outbox" \
	"$(( $(jq '.outbox.SPGL_XMJBXXB' "$T/drops/220100/expected.json") + $(jq '.outbox.SPGL_XMJBXXB' "$T/drops/220300/expected.json") + lx ))" \
	"$(sql "SELECT count(*) FROM outbox WHERE spgl_table='SPGL_XMJBXXB'")"
check "rows the plugin could not read keep their own reason after replay" \
	"$(( $(jq '.quarantine["bad row"]' "$T/drops/220100/expected.json") + $(jq '.quarantine["bad row"]' "$T/drops/220300/expected.json") ))" \
	"$(sql "SELECT count(*) FROM quarantine WHERE reasons LIKE '%\"code\":\"source\"%'")"
"$SPGW" -c "$T/spgw.json" quarantine replay > /dev/null 2>&1 || true
check "a second replay resolves nothing more" "$lx" \
	"$(sql 'SELECT count(*) FROM quarantine WHERE resolved=1')"

finish
