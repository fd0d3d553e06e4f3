#!/bin/sh
# The main job on sample data: build spgw, generate export drops for two cities (Changchun
# in UTF-8 CSV, Siping in GBK JSON Lines, both with a known share of dirty rows), check the
# configuration, ingest every source into the ledger, and show what went where.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-build}
[ -d "$build" ] || meson setup "$build" >/dev/null
meson compile -C "$build" >/dev/null
export SPGW_PLUGIN_DIR="$top/$build/plugins"
spgw="$top/$build/gateway/spgw"
rm -rf var
mkdir -p var/state
"$build/contrib/gen/spgw-gen-drops" --out var/drops/220100 --region 220100 --projects 500 --dirty 5
"$build/contrib/gen/spgw-gen-drops" --out var/drops/220300 --region 220300 --projects 300 \
	--dirty 5 --gbk --jsonl
"$spgw" -c config/spgw.json check-config
"$spgw" -c config/spgw.json ingest
"$spgw" -c config/spgw.json status
echo
echo "quarantine (first 10; spgw -c config/spgw.json quarantine show ID for one):"
"$spgw" -c config/spgw.json quarantine list | head -n 11
"$spgw" -c config/spgw.json quarantine export -o var/quarantine.csv
echo "expected per city: var/drops/*/expected.json; ledger: var/state/spgw.db"
