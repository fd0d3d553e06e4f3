# Shared by the end-to-end tests: a scratch config tree around the real spgw binary.
# Environment (set by tests/meson.build): SPGW, SPGW_GEN, SPGW_PLUGIN_DIR, SPGW_SRC.
set -u
: "${SPGW:?}" "${SPGW_GEN:?}" "${SPGW_PLUGIN_DIR:?}" "${SPGW_SRC:?}"
export SPGW_PLUGIN_DIR
T=$(mktemp -d "${TMPDIR:-/tmp}/spgw-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }
# check "what" expected actual
check() {
	if [ "$2" = "$3" ]; then ok "$1 ($3)"; else not_ok "$1: expected $2, got $3"; fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
sql() { sqlite3 -batch -noheader "$T/state/spgw.db" "$1"; }

# make_config DIR: a gateway file using the repository's schema and mappings, sources in DIR.
make_config() {
	mkdir -p "$T/sources" "$T/state"
	cat > "$T/spgw.json" <<JSON
{ "state_dir": "state", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SPGW_SRC/config/schema/spgl-v3.json",
  "log": { "level": "warning" } }
JSON
}

# add_source NAME REGION DROPDIR [ENCODING]
add_source() {
	cat > "$T/sources/$1.json" <<JSON
{ "plugin": "files", "region": "$2", "mapping": "files-demo.json",
  "settings": { "dir": "$3", "encoding": "${4:-auto}", "stable_seconds": 0 } }
JSON
}
