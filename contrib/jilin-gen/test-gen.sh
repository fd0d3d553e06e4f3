#!/bin/sh
# spgw-jilin-gen end to end: determinism, the dataset against its --expected (the program's
# --check mode, plus independent counts with jq and wc), the dirty fraction, the kinds
# table, option errors, and that --check does fail when the data or the expectations are
# wrong (each tampering below must turn it red).
#
#   sh contrib/jilin-gen/test-gen.sh GEN_BINARY CATALOG
#
# GEN_BINARY is the built spgw-jilin-gen, CATALOG config/catalog/jilin.json. Needs jq
# (exit 77, "skipped", without it). Prints one line per check; exits non-zero when any
# check failed.
set -u

GEN=${1:?usage: test-gen.sh GEN_BINARY CATALOG}
CAT=${2:?usage: test-gen.sh GEN_BINARY CATALOG}

command -v jq >/dev/null 2>&1 || { echo "skip: jq is not installed"; exit 77; }
[ -x "$GEN" ] || { echo "no $GEN: build first"; exit 1; }
[ -f "$CAT" ] || { echo "no catalog $CAT"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/jilin-gen-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT PIPE TERM

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { # NAME COMMAND...: ok when the command succeeds
	name=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$name"; else bad "$name"; sed 's/^/    /' "$T/out" | head -20; fi
}
check_fails() { # NAME COMMAND...: ok when --check fails (exit 1) saying why, and not by crashing
	name=$1
	shift
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" = 1 ] && grep -q '^FAIL: ' "$T/out" && ! grep -q 'Sanitizer' "$T/out"; then
		ok "$name"
	else
		bad "$name (exit $rc, expected 1 with FAIL lines)"
		sed 's/^/    /' "$T/out" | head -20
	fi
}
gen() { "$GEN" --catalog "$CAT" "$@"; }
verify() { # DIR: --check of a dataset made by run DIR
	"$GEN" --check --changchun "$1/cc" --provincial "$1/prov" --expected "$1/expected.json"
}
run() { # DIR ARGS...: a dataset of all nine cities in DIR
	d=$1
	shift
	gen --changchun "$d/cc" --provincial "$d/prov" --expected "$d/expected.json" "$@"
}

# ---- determinism ----
run "$T/a" --seed 5 --projects 30 >/dev/null 2>&1
run "$T/b" --seed 5 --projects 30 >/dev/null 2>&1
run "$T/c" --seed 6 --projects 30 >/dev/null 2>&1
check "two runs with the same seed are byte-identical" diff -r "$T/a" "$T/b"
if diff -q "$T/a/cc/steps.jsonl" "$T/c/cc/steps.jsonl" >/dev/null 2>&1; then
	bad "another seed gives other data"
else
	ok "another seed gives other data"
fi
check "one region alone is the same data as in a run of all nine" sh -c '
	"$1" --catalog "$2" --seed 5 --projects 30 --regions 220300 --provincial "$3/p" \
		--expected "$3/p.json" >/dev/null &&
	grep "^220300" "$4/prov/t_step.csv" >"$3/all" && tail -n +2 "$3/p/t_step.csv" >"$3/one" &&
	cmp "$3/all" "$3/one"' sh "$GEN" "$CAT" "$T" "$T/a"

# ---- the dataset against its expectations ----
check "--check: counts, codes, check characters, step logs, violations, dirty fraction" verify "$T/a"

lines_ok() { # DIR: every file's lines (CSV: minus the header) equal --expected's count
	for f in $(jq -r '.files.changchun | keys[]' "$1/expected.json"); do
		want=$(jq -r --arg f "$f" '.files.changchun[$f]' "$1/expected.json")
		got=$(wc -l <"$1/cc/$f")
		[ "$want" = "$got" ] || { echo "changchun $f: $got lines, expected $want"; return 1; }
	done
	for f in $(jq -r '.files.provincial | keys[]' "$1/expected.json"); do
		want=$(jq -r --arg f "$f" '.files.provincial[$f]' "$1/expected.json")
		got=$(($(wc -l <"$1/prov/$f") - 1))
		[ "$want" = "$got" ] || { echo "provincial $f: $got rows, expected $want"; return 1; }
	done
}
check "every file has the lines --expected says (counted by wc)" lines_ok "$T/a"

keys_ok() { # DIR: Changchun distinct ids = records; delivered + quarantined + held = records
	for e in projects units cases steps documents procedures materials opinions; do
		got=$(jq -r .id "$1/cc/$e.jsonl" | sort -u | wc -l)
		want=$(jq -r --arg e "$e" '.regions["220100"].records[$e]' "$1/expected.json")
		[ "$got" = "$want" ] || { echo "$e: $got distinct ids, expected $want"; return 1; }
	done
	sum=$(jq '[.regions["220100"] | .delivered.SPGL_XMSPSXBLXXXXB, .quarantined.SPGL_XMSPSXBLXXXXB,
		.held.SPGL_XMSPSXBLXXXXB] | add' "$1/expected.json")
	steps=$(jq '.regions["220100"].records.steps' "$1/expected.json")
	[ "$sum" = "$steps" ] || { echo "steps: delivered+quarantined+held $sum != $steps"; return 1; }
	defs=$(jq -c '.regions["220500"].delivered | [.SPGL_SPLCXXB, .SPGL_SPJDXXB, .SPGL_SPSXJBXXB, .SPGL_SPLCJBLSXXXB]' "$1/expected.json")
	[ "$defs" = "[5,20,101,505]" ] || { echo "definition tables: $defs, expected [5,20,101,505]"; return 1; }
}
check "distinct ids and per-table outcomes add up (jq)" keys_ok "$T/a"

fraction_ok() { # DIR LOW HIGH: the dirty share over all regions lies in [LOW, HIGH]
	jq -e --argjson lo "$2" --argjson hi "$3" '
		([.regions[].dirty] | add) as $d | ([.regions[].eligible] | add) as $e
		| ($d / $e) as $f | $f >= $lo and $f <= $hi and ($d == (.dirty | length))' \
		"$1/expected.json" >/dev/null ||
		{ jq -c '[([.regions[].dirty] | add), ([.regions[].eligible] | add)]' "$1/expected.json"; return 1; }
}
check "dirty share near --dirty 0.03" fraction_ok "$T/a" 0.025 0.035
run "$T/d" --seed 8 --projects 30 --dirty 0.3 >/dev/null 2>&1
check "dirty share near --dirty 0.3" fraction_ok "$T/d" 0.28 0.32
check "--check passes on a dataset with --dirty 0.3" verify "$T/d"

kinds_ok() { # DIR: every kind of the default set appears, in each system that has it
	for k in $("$GEN" --list-kinds | awk -F'\t' '$9 == "on" { print $1 "/" $2 }' | sort -u); do
		kind=${k%/*}
		sys=${k#*/}
		for s in changchun provincial; do
			[ "$sys" = both ] || [ "$sys" = "$s" ] || continue
			jq -e --arg k "$kind" --arg s "$s" \
				'any(.dirty[]; .kind == $k and .system == $s)' "$1/expected.json" \
				>/dev/null || { echo "no $kind record for $s"; return 1; }
		done
	done
}
run "$T/k" --seed 9 --projects 200 --dirty 0.5 --regions 220100,220300 >/dev/null 2>&1
check "every default dirty kind occurs in both systems (at --dirty 0.5)" kinds_ok "$T/k"
check "--check passes on a dataset with --dirty 0.5" verify "$T/k"
check "gbk_text records carry the text they must arrive with" jq -e \
	'[.dirty[] | select(.kind == "gbk_text")] | length > 0 and all(.value | length > 0)' \
	"$T/d/expected.json"
check "violations: second returns and overruns in both systems" jq -e \
	'[.violations[] | .system + "/" + .kind] | unique == ["changchun/overrun",
	 "changchun/second_return", "provincial/overrun", "provincial/second_return"]' \
	"$T/a/expected.json"
check "later corrections and withdrawals exist and are listed" jq -e \
	'(.changes | length) > 0 and ([.changes[].change] | unique) == ["corrected", "withdrawn"]' \
	"$T/d/expected.json"
check "Changchun keeps a corrected record's versions under one id" sh -c '
	id=$(jq -r "[.changes[] | select(.system == \"changchun\")][0].id" "$1/expected.json")
	[ "$(grep -c "\"id\":\"$id\"" "$1"/cc/*.jsonl | awk -F: "{ s += \$2 } END { print s }")" = 2 ]' \
	sh "$T/d"

run "$T/z" --seed 5 --projects 10 --dirty 0 >/dev/null 2>&1
check "--dirty 0: no dirty record, and --check passes" sh -c '
	[ "$(jq ".dirty | length" "$1/expected.json")" = 0 ] &&
	"$2" --check --changchun "$1/cc" --provincial "$1/prov" --expected "$1/expected.json"' \
	sh "$T/z" "$GEN"
run "$T/s" --seed 5 --projects 30 --regions 220100 --kinds +bad_sequence --dirty 0.3 >/dev/null 2>&1
check "--kinds +bad_sequence adds the kind (off by default)" jq -e \
	'any(.dirty[]; .kind == "bad_sequence" and .field == "BLZT" and .code == "sequence")' \
	"$T/s/expected.json"
run "$T/n" --seed 5 --projects 30 --regions 220100 --kinds -bad_code,-bad_date >/dev/null 2>&1
check "--kinds -bad_code,-bad_date leaves them out" jq -e \
	'(.dirty | length) > 0 and all(.dirty[]; .kind != "bad_code" and .kind != "bad_date")' \
	"$T/n/expected.json"

check "--target-steps makes about that many steps" sh -c '
	"$1" --catalog "$2" --regions 220700 --target-steps 5000 --provincial "$3/t" \
		--expected "$3/t.json" && n=$(jq ".regions[\"220700\"].records.t_step" "$3/t.json") &&
	[ "$n" -ge 5000 ] && [ "$n" -lt 5400 ]' sh "$GEN" "$CAT" "$T"

# ---- usage errors ----
check_rc() { # NAME RC COMMAND...
	name=$1
	want=$2
	shift 2
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ] && [ -s "$T/out" ]; then ok "$name"; else
		bad "$name (exit $rc, expected $want with a message)"; sed 's/^/    /' "$T/out" | head -5; fi
}
check_rc "an unknown region is refused" 2 gen --regions 229900 --provincial "$T/x"
check_rc "an unknown kind is refused" 2 gen --kinds bad_nothing --changchun "$T/x" --regions 220100
check_rc "Changchun without --changchun is refused" 2 gen --regions 220100
check_rc "a missing catalog is refused" 3 "$GEN" --catalog "$T/none.json" --regions 220100 --changchun "$T/x"
echo '{"stages": []}' >"$T/badcat.json"
check_rc "a catalog of the wrong shape is refused" 3 "$GEN" --catalog "$T/badcat.json" --regions 220100 --changchun "$T/x"
check_rc "--from after --to is refused" 2 gen --from 2026-05-01 --to 2026-04-01 --regions 220100 --changchun "$T/x"

# ---- --check must fail on wrong data (each on a fresh copy) ----
tamper() { # NAME: copy $T/a to $T/m for one tampering
	rm -rf "$T/m"
	cp -r "$T/a" "$T/m"
}
tamper
sed -i '0,/"status":"受理"/s//"status":"办结"/' "$T/m/cc/steps.jsonl"
check_fails "--check fails: a step log broken (受理 made 办结)" verify "$T/m"

tamper
jq -r '[.dirty[], .knock_on[]] | .[] | select(.system == "changchun" and .entity == "units") | .id' \
	"$T/m/expected.json" >"$T/skip"
line=$(grep -v -F -f "$T/skip" "$T/m/cc/units.jsonl" | head -1)
id=$(printf '%s' "$line" | jq -r .id)
uscc=$(printf '%s' "$line" | jq -r .uscc)
last=${uscc#?????????????????}
case $last in 0) new=1 ;; *) new=0 ;; esac
sed -i "s/\"id\":\"$id\"\\(.*\\)\"uscc\":\"$uscc\"/\"id\":\"$id\"\\1\"uscc\":\"${uscc%?}$new\"/" "$T/m/cc/units.jsonl"
check_fails "--check fails: a clean unit's check character wrong" verify "$T/m"

tamper
sed -i '$d' "$T/m/prov/t_step.csv"
check_fails "--check fails: a row missing" verify "$T/m"

tamper
jq '.violations |= .[1:]' "$T/a/expected.json" >"$T/m/expected.json"
check_fails "--check fails: a violation missing from --expected" verify "$T/m"

tamper
jq '(.dirty[] | select(.kind == "gbk_text") | .value) |= . + "X"' "$T/a/expected.json" >"$T/m/expected.json"
check_fails "--check fails: a gbk_text record that does not decode to its text" verify "$T/m"

tamper
jq '.regions["220100"].delivered.SPGL_XMSPSXBLXXB += 1' "$T/a/expected.json" >"$T/m/expected.json"
check_fails "--check fails: a delivered count off by one" verify "$T/m"

rm -rf "$T/m"
cp -r "$T/d" "$T/m"
id=$(jq -r '[.dirty[] | select(.system == "provincial" and .kind == "bad_xmdm")][0].id' "$T/m/expected.json")
sed -i "s/^$id,\\([0-9]*\\),[^,]*,[^,]*,/$id,\\1,2026-220202-47-01-999999,2026-220202-47-01-999999,/" "$T/m/prov/t_project.csv"
check_fails "--check fails: a bad_xmdm record that is not bad" verify "$T/m"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
