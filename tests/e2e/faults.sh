#!/bin/sh
# Bad input at the command line, each with a clear message and nothing lost: malformed
# configuration, a crashing plugin beside a good source, a plugin of another ABI, a foreign
# database in the state directory, a full and a read-only state directory.
. "$(dirname "$0")/lib.sh"
: "${SPGW_TEST_PLUGINS:?}"

# 1. malformed gateway file: exit 3, file:line:col
make_config
printf '{ "state_dir": "state",\n  "sources_dir": "sources"\n  "log": {} }\n' > "$T/bad.json"
"$SPGW" -c "$T/bad.json" check-config > "$T/out" 2>&1; rc=$?
check "syntax error exit status" 3 "$rc"
check "syntax error names file:line:col" yes \
	"$(grep -q "bad.json:3:" "$T/out" && echo yes || echo no)"

# 2. several problems in several files, all reported
add_source good 220100 "$T/drops"
printf '{ "plugin": "files", "regoin": "220100", "mapping": "files-demo.json" }\n' \
	> "$T/sources/typo.json"
printf '{ "plugin": "files", "region": 220300, "mapping": "nope.json" }\n' \
	> "$T/sources/types.json"
"$SPGW" -c "$T/spgw.json" check-config > "$T/out" 2>&1; rc=$?
check "check-config with problems exits 3" 3 "$rc"
check "unknown key suggests the right one" yes \
	"$(grep -q 'typo.json:1:.*did you mean "region"' "$T/out" && echo yes || echo no)"
check "wrong type is reported in another file too" yes \
	"$(grep -q 'types.json:1:' "$T/out" && echo yes || echo no)"
rm -f "$T/sources/typo.json" "$T/sources/types.json"

# 3. a crashing plugin beside a good source: the good one is ingested, the bad one named
mkdir -p "$T/drops"
"$SPGW_GEN" --out "$T/drops" --region 220100 --projects 50 --dirty 0 --seed 3
cat > "$T/sources/crash.json" <<JSON
{ "plugin": "$SPGW_TEST_PLUGINS/segv.so", "region": "220200", "mapping": "files-demo.json",
  "settings": {} }
JSON
"$SPGW" -c "$T/spgw.json" ingest > "$T/out" 2>&1; rc=$?
check "ingest with one crashing source exits 1" 1 "$rc"
check "the crash is reported with the source and signal" yes \
	"$(grep -q 'crash.*signal 11' "$T/out" && echo yes || echo no)"
check "the good source was ingested in full" "$(jq '.outbox.SPGL_XMJBXXB' "$T/drops/expected.json")" \
	"$(sql "SELECT count(*) FROM outbox WHERE source='good' AND spgl_table='SPGL_XMJBXXB'")"
# segv.so emits 10 records, commits, emits 5 more and crashes: its table "t" has no mapping,
# so exactly the 10 committed ones are in quarantine and the cursor is the one it committed
check "the crashed source's committed records are kept, its uncommitted ones not" 10 \
	"$(sql "SELECT count(*) FROM quarantine WHERE source='crash'")"
check "the crashed source's cursor is its last commit" c10 \
	"$(sql "SELECT cursor FROM cursors WHERE source='crash'")"
rm -f "$T/sources/crash.json"

# 3b. hostile records from an otherwise working source: a 10 MB field, nesting 5000 deep,
# invalid UTF-8. Each is kept whole in quarantine with its reason; none stops the source.
mkdir -p "$T/hostile"
{
	printf '{"id":"H1","xmmc":"'
	head -c 10000000 /dev/zero | tr '\0' 'a'
	printf '"}\n'
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "["; for (i = 0; i < 5000; i++) printf "]"; printf "\n" }'
	printf '{"id":"H3","xmmc":"\377\376 bad bytes"}\n'
} > "$T/hostile/projects_1.jsonl"
cat > "$T/sources/hostile.json" <<JSON
{ "plugin": "files", "region": "220100", "mapping": "files-demo.json",
  "settings": { "dir": "$T/hostile", "encoding": "utf-8", "stable_seconds": 0 } }
JSON
"$SPGW" -c "$T/spgw.json" ingest --source hostile > "$T/out" 2>&1; rc=$?
check "hostile records do not fail the source" 0 "$rc"
check "all three hostile records are in quarantine" 3 \
	"$(sql "SELECT count(*) FROM quarantine WHERE source='hostile'")"
check "the 10 MB record is kept whole" 1 \
	"$(sql "SELECT count(*) FROM quarantine WHERE source='hostile' AND length(raw) > 10000000")"
check "the deep nesting is refused with its reason, not a crash" 1 \
	"$(sql "SELECT count(*) FROM quarantine WHERE source='hostile' AND reasons LIKE '%nesting%'")"
rm -f "$T/sources/hostile.json"

# 4. another ABI: refused by plugin-check with both numbers
"$SPGW" plugin-check "$SPGW_TEST_PLUGINS/wrong_abi.so" > "$T/out" 2>&1; rc=$?
check "plugin-check of another ABI exits 5" 5 "$rc"
check "the message names both ABI versions" yes \
	"$(grep -q 'ABI 99' "$T/out" && grep -q 'ABI 1' "$T/out" && echo yes || echo no)"
"$SPGW" plugin-check "$SPGW_PLUGIN_DIR/spgw-files.so" > "$T/out" 2>&1
check "plugin-check of the files plugin" yes \
	"$(grep -q '^plugin: *files' "$T/out" && echo yes || echo no)"

# 5. a foreign file where the ledger should be: refused, untouched
mkdir -p "$T/foreign"
echo "not a database" > "$T/foreign/spgw.db"
sed "s|\"state_dir\": \"state\"|\"state_dir\": \"foreign\"|" "$T/spgw.json" > "$T/foreign.json"
"$SPGW" -c "$T/foreign.json" ingest > "$T/out" 2>&1; rc=$?
check "a foreign state file exits 4" 4 "$rc"
check "the foreign file is untouched" "not a database" "$(cat "$T/foreign/spgw.db")"

# 6. full and read-only state directories (need mount: root in CI)
mkdir -p "$T/small"
if mount -t tmpfs -o size=700k tmpfs "$T/small" 2>/dev/null; then
	sed "s|\"state_dir\": \"state\"|\"state_dir\": \"small\"|" "$T/spgw.json" > "$T/small.json"
	"$SPGW" -c "$T/small.json" ingest > "$T/out" 2>&1; rc=$?
	check "a full state directory is an error, not a crash" 1 "$([ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && echo 1 || echo "$rc")"
	check "the message says the state directory is full" yes \
		"$(grep -qi 'full' "$T/out" && echo yes || echo no)"
	committed=$(sqlite3 "$T/small/spgw.db" "SELECT count(*) FROM outbox" 2>/dev/null || echo 0)
	# room returns: move the ledger to a roomy directory and finish; nothing lost or doubled
	mkdir -p "$T/big"
	cp "$T/small/"spgw.db* "$T/big/" 2>/dev/null || true
	umount "$T/small"
	sed "s|\"state_dir\": \"state\"|\"state_dir\": \"big\"|" "$T/spgw.json" > "$T/big.json"
	"$SPGW" -c "$T/big.json" ingest > "$T/out" 2>&1
	check "after space returns the ingest completes exactly" \
		"$(jq '.outbox.SPGL_XMJBXXB' "$T/drops/expected.json")" \
		"$(sqlite3 "$T/big/spgw.db" "SELECT count(*) FROM outbox WHERE spgl_table='SPGL_XMJBXXB'")"
	echo "# $committed records were committed before the disk filled"
	mount -t tmpfs -o size=4m tmpfs "$T/small"
	cp "$T/big/spgw.db" "$T/small/"
	mount -o remount,ro "$T/small"
	"$SPGW" -c "$T/small.json" ingest > "$T/out" 2>&1; rc=$?
	check "a read-only state directory exits 4" 4 "$rc"
	umount "$T/small"
else
	echo "# skipped full/read-only state directory checks: cannot mount tmpfs here"
fi
finish
