#!/bin/sh
# The national-platform simulator against PROTOCOL.md, end to end over HTTPS on loopback:
# identity and signing checks in their order, batch shape, per-record results, receipts
# (checked by spgw-sim-client and by the openssl CLI), idempotent batch ids, counts and keys,
# limits, and every fault flag; then, for reconciliation, `seed` from a ledger made by
# `spgw-sim-client make-ledger` against an SQL oracle over that ledger, the faults of GET
# counts and keys, and the migration of a store of the first layout.
#
#   sh contrib/national-sim/test-sim.sh BUILD_DIR
#
# BUILD_DIR holds contrib/national-sim/spgw-national-sim and spgw-sim-client. Needs openssl,
# curl, jq, gzip and sqlite3 (exit 77, "skipped", without them). Prints one line per check
# and exits non-zero when any check failed.
set -u

B=${1:?usage: test-sim.sh BUILD_DIR}
SIM=$B/contrib/national-sim/spgw-national-sim
CLI=$B/contrib/national-sim/spgw-sim-client
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
CASES=$SRC/tests/cases/validate

for tool in openssl curl jq gzip sqlite3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "skip: $tool is not installed"; exit 77; }
done
[ -x "$SIM" ] && [ -x "$CLI" ] || { echo "no $SIM or $CLI: build first"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/national-sim-test.XXXXXX")
PID=
cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
check() { # NAME COMMAND...: ok when the command succeeds
	name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

# ---- keys and directories ----

# A gateway key pair made by the openssl CLI, as a city would.
genkey() { # ALG NAME
	case $1 in
	sm2-sm3)
		openssl genpkey -algorithm SM2 -out "$T/$2.key" 2>/dev/null ||
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 \
				-out "$T/$2.key" ;;
	ecdsa-p256-sha256)
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$2.key" ;;
	ed25519)
		openssl genpkey -algorithm ED25519 -out "$T/$2.key" ;;
	esac
	openssl pkey -in "$T/$2.key" -pubout -out "$T/$2.pub"
}

# A fresh platform directory with gateway gw1 (SM2) registered for 220100 and 22*.
newdir() { # DIR [init options]
	d=$1
	shift
	"$SIM" init --dir "$d" "$@" >/dev/null &&
		"$SIM" register --dir "$d" --gateway gw1 --key "$T/gw1.pub" \
			--regions '220100,22*' >/dev/null
}

# ---- the server ----

start() { # DIR [serve options]: serve on a free port; sets PID, URL
	d=$1
	shift
	rm -f "$T/port"
	"$SIM" serve --dir "$d" --listen 127.0.0.1:0 --port-file "$T/port" "$@" \
		>"$T/serve.out" 2>>"$T/serve.log" &
	PID=$!
	i=0
	# the port file appears (renamed into place, never half written) once it listens
	while [ ! -s "$T/port" ] && [ $i -lt 200 ] && kill -0 "$PID" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -s "$T/port" ] || { echo "the server did not start:"; cat "$T/serve.log"; exit 1; }
	URL=https://127.0.0.1:$(cat "$T/port")
	DIR=$d
}

stop() {
	kill -TERM "$PID"
	wait "$PID"
	st=$?
	PID=
	return $st
}

# ---- requests ----

# call GW KEY METHOD PATH [client options]: $code is the HTTP status (or TRANSPORT), the
# body is in $T/body, the client's whole output in $T/out, its exit status in $crc.
call() {
	gw=$1 key=$2 m=$3 p=$4
	shift 4
	rm -f "$T/body"
	"$CLI" --dir "$DIR" --url "$URL" --gateway "$gw" --key "$T/$key.key" --method "$m" \
		--path "$p" --out "$T/body" "$@" >"$T/out" 2>&1
	crc=$?
	code=$(head -n 1 "$T/out" | sed 's/^HTTP //; s/^TRANSPORT.*/TRANSPORT/')
	[ -f "$T/body" ] || : >"$T/body"
}
post() { # BODYFILE [options]: POST /batches as gw1
	f=$1
	shift
	call gw1 gw1 POST /spgl/v3/batches --body "$f" "$@"
}
get() { # PATH-AND-QUERY [options]: GET as gw1
	q=$1
	shift
	call gw1 gw1 GET "$q" "$@"
}
field() { jq -r "$1" "$T/body" 2>/dev/null; }

expect_error() { # NAME STATUS CODE
	if [ "$code" = "$2" ] && [ "$(field '.error')" = "$3" ] &&
		[ -n "$(field '.message // empty')" ]; then
		ok "$1"
	else
		bad "$1: wanted $2 $3, got $code $(head -c 300 "$T/body")"
	fi
}
expect_200() { # NAME
	if [ "$code" = 200 ]; then ok "$1"; else bad "$1: got $code $(head -c 300 "$T/body")"; fi
}
expect_status() { # NAME STATUS-OF-RECORD-N... e.g. expect_status x 0 accepted
	name=$1
	shift
	got=ok
	[ "$code" = 200 ] || got="HTTP $code"
	while [ $# -ge 2 ]; do
		s=$(field ".results[$1].status")
		[ "$s" = "$2" ] || got="results[$1] is $s, not $2"
		shift 2
	done
	if [ "$got" = ok ]; then ok "$name"; else bad "$name: $got $(head -c 300 "$T/body")"; fi
}
has_error() { # N CODE [FIELD]: results[N] has an error with that code (and field)
	sel=".code == \"$2\""
	[ $# -ge 3 ] && sel="$sel and .field == \"$3\""
	[ "$(field "[.results[$1].errors[] | select($sel)] | length")" -ge 1 ]
}
total() { # COLUMN: the total of that stats column of $DIR
	"$SIM" stats --dir "$DIR" --json | jq -r ".total.$1 // 0"
}

# A batch from record files (digests computed by the client's copy of the canonical form).
batch() { # OUT BATCH_ID DAY [make-batch options] RECORD...
	out=$1 id=$2 day=$3
	shift 3
	"$CLI" make-batch --batch-id "$id" --day "$day" "$@" >"$out"
}

REC=$CASES/project-valid/record.json   # SPGL_XMJBXXB, SBSJ 2026-11-03, SJYXBS 1
UNIT=$CASES/unit-valid/record.json     # SPGL_XMDWXXB: no count-date field, day as sent
for f in "$REC" "$UNIT"; do [ -f "$f" ] || { echo "missing $f"; exit 1; }; done

genkey sm2-sm3 gw1
genkey ecdsa-p256-sha256 gw2
genkey ed25519 gw3
genkey sm2-sm3 gw4

# ======== init and register ========

D=$T/plat
check "init makes the directory" newdir "$D"
check "init: directory is 0700" [ "$(stat -c %a "$D")" = 700 ]
check "init: private keys are 0600" \
	[ "$(stat -c %a "$D/ca.key" "$D/server.key" "$D/national.key" | tr -d '\n')" = 600600600 ]
check "init: server certificate verifies against the CA" \
	sh -c "openssl verify -CAfile '$D/ca.pem' '$D/server.pem' >/dev/null"
openssl x509 -in "$D/server.pem" -noout -ext subjectAltName,extendedKeyUsage >"$T/cert.txt"
check "init: certificate names 127.0.0.1 and localhost" \
	grep -q 'IP Address:127.0.0.1, DNS:localhost' "$T/cert.txt"
check "init: certificate is for server authentication" \
	grep -q 'Server Authentication' "$T/cert.txt"
check "init: national key is SM2 by default" \
	sh -c "openssl pkey -pubin -in '$D/national.pub' -noout -text | grep -q 'SM2'"
check "init refuses to replace keys" sh -c "! '$SIM' init --dir '$D' 2>/dev/null"
"$SIM" register --dir "$D" --gateway gw2 --key "$T/gw2.pub" --regions 220100 >/dev/null
"$SIM" register --dir "$D" --gateway gw3 --key "$T/gw3.pub" --regions 220100 >/dev/null
check "register refuses a bad region" \
	sh -c "! '$SIM' register --dir '$D' --gateway gwx --key '$T/gw1.pub' --regions 2201 2>/dev/null"
check "register refuses a private key file" \
	sh -c "! '$SIM' register --dir '$D' --gateway gwx --key '$T/gw1.key' --regions 220100 2>/dev/null"
check "serve refuses a non-loopback address" \
	sh -c "! '$SIM' serve --dir '$D' --listen 0.0.0.0:0 2>/dev/null"

start "$D"
check "serve prints its URL with the chosen port" \
	grep -qx "listening on $URL/spgl/v3" "$T/serve.out"

# ======== a good batch, its receipt, replays ========

batch "$T/b1.json" b1 2026-11-03 "$REC"
post "$T/b1.json" --verify-receipt
expect_status "good batch accepted" 0 accepted
check "receipt verifies (spgw-sim-client)" grep -q '^receipt: verified (1 accepted' "$T/out"
cp "$T/body" "$T/a1.json"
jq -j '.receipt | ["SPGW1-RECEIPT", .batch_id, .received_at, .content_digest, .accepted,
	.duplicate, .rejected] | map(tostring) | join("\n")' "$T/a1.json" >"$T/receipt.msg"
jq -r '.receipt.sig' "$T/a1.json" | base64 -d >"$T/receipt.sig"
check "receipt verifies (openssl CLI, SM2 id 1234567812345678)" \
	sh -c "openssl dgst -sm3 -verify '$D/national.pub' -sigopt distid:1234567812345678 \
		-signature '$T/receipt.sig' '$T/receipt.msg' >/dev/null"
check "receipt does not verify with the empty SM2 id" \
	sh -c "! openssl dgst -sm3 -verify '$D/national.pub' -signature '$T/receipt.sig' \
		'$T/receipt.msg' >/dev/null 2>&1"
jq -r .receipt.received_at "$T/a1.json" >"$T/at"
check "receipt: received_at is RFC 3339 UTC" \
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "$T/at"

post "$T/b1.json"
check "same batch_id and body: the stored answer, byte for byte" cmp -s "$T/body" "$T/a1.json"
post "$T/b1.json" --gzip
check "same body gzipped: still the same answer" cmp -s "$T/body" "$T/a1.json"
jq -c '.records[0].data.XMMC = "另一个名称"' "$T/b1.json" >"$T/b1x.json"
post "$T/b1x.json"
expect_error "same batch_id, other body: 409" 409 batch_conflict

batch "$T/b2.json" b2 2026-11-03 "$REC"
post "$T/b2.json" --gzip --verify-receipt
expect_status "the same record again (gzip body): duplicate" 0 duplicate
check "gzip batch receipt verifies" grep -q '^receipt: verified (0 accepted, 1 duplicate' "$T/out"

# curl itself, with headers signed by the client: digest over the uncompressed bytes
batch "$T/b3.json" b3 2026-11-03 "$REC"
"$CLI" --dir "$D" --gateway gw1 --key "$T/gw1.key" --method POST --path /spgl/v3/batches \
	--body "$T/b3.json" --print-headers >"$T/h3"
gzip -c "$T/b3.json" >"$T/b3.json.gz"
code=$(curl -s -o "$T/body" -w '%{http_code}' --cacert "$D/ca.pem" -H @"$T/h3" \
	-H 'Content-Type: application/json; charset=utf-8' -H 'Content-Encoding: gzip' \
	--data-binary @"$T/b3.json.gz" "$URL/spgl/v3/batches")
expect_status "curl CLI with a gzip body" 0 duplicate

# ======== identity and signing (§1, §5), in order ========

NOW=$(date +%s)
batch "$T/b4.json" b4 2026-11-03 "$REC"
call nobody gw1 POST /spgl/v3/batches --body "$T/b4.json"
expect_error "unknown gateway: 401" 401 unknown_gateway
post "$T/b4.json" --header 'X-SPGW-Gateway: bad id!'
expect_error "malformed gateway id: 401 unknown_gateway" 401 unknown_gateway
post "$T/b4.json" --header 'X-SPGW-Gateway:'
expect_error "missing gateway header: 401 unknown_gateway" 401 unknown_gateway
post "$T/b4.json" --timestamp $((NOW - 1000))
expect_error "timestamp 1000 s old: 401" 401 stale_timestamp
post "$T/b4.json" --timestamp $((NOW + 400))
expect_error "timestamp 400 s ahead: 401" 401 stale_timestamp
post "$T/b4.json" --timestamp "0$NOW"
expect_error "timestamp with a leading zero: 401" 401 stale_timestamp
post "$T/b4.json" --header 'X-SPGW-Timestamp:'
expect_error "missing timestamp: 401 stale_timestamp" 401 stale_timestamp
WRONG=$(printf 'other bytes' | openssl dgst -sm3 -binary | base64)
post "$T/b4.json" --header "X-SPGW-Content-Digest: sm3=$WRONG"
expect_error "content digest of other bytes: 400" 400 bad_digest
SHA=$(openssl dgst -sha256 -binary "$T/b4.json" | base64)
post "$T/b4.json" --header "X-SPGW-Content-Digest: sha-256=$SHA"
expect_error "sha-256 content digest from an SM2 gateway: 400" 400 bad_digest
post "$T/b4.json" --header 'X-SPGW-Content-Digest:'
expect_error "missing content digest: 400" 400 bad_digest
post "$T/b4.json" --timestamp $((NOW - 1000)) --header "X-SPGW-Content-Digest: sm3=$WRONG"
expect_error "order: timestamp is checked before the digest" 401 stale_timestamp
post "$T/b4.json" --corrupt-sig --header "X-SPGW-Content-Digest: sm3=$WRONG"
expect_error "order: digest is checked before the signature" 400 bad_digest
post "$T/b4.json" --corrupt-sig
expect_error "bad signature: 401" 401 bad_signature
post "$T/b4.json" --header 'X-SPGW-Signature: alg=ed25519, sig=AAAA'
expect_error "signature with another gateway's algorithm: 401" 401 bad_signature
post "$T/b4.json" --header 'X-SPGW-Signature: sig=AAAA'
expect_error "malformed signature header: 401" 401 bad_signature
call gw1 gw4 POST /spgl/v3/batches --body "$T/b4.json"
expect_error "signed by another SM2 key: 401" 401 bad_signature
post "$T/b4.json" --nonce ABCDEF0123456789ABCDEF0123456789
expect_error "upper-case nonce: 401 bad_signature" 401 bad_signature
post "$T/b4.json" --header 'X-SPGW-Nonce:'
expect_error "missing nonce: 401 bad_signature" 401 bad_signature
N1=00112233445566778899aabbccddeeff
post "$T/b4.json" --nonce $N1
expect_200 "fresh nonce accepted"
batch "$T/b5.json" b5 2026-11-03 "$REC"
post "$T/b5.json" --nonce $N1
expect_error "nonce replay: 409" 409 replay
N2=ffeeddccbbaa99887766554433221100
post "$T/b5.json" --nonce $N2 --corrupt-sig
expect_error "bad signature with a new nonce: 401" 401 bad_signature
post "$T/b5.json" --nonce $N2
expect_200 "a nonce is not used up by a request whose signature failed"
post "$T/b5.json" --timestamp $((NOW + 200))
expect_200 "timestamp 200 s ahead: accepted"

# ======== batch shape (§5): the whole batch refused ========

nshape=0
shape() { # NAME JQ-FILTER [STATUS CODE]: b4 under a new batch_id, changed by the filter
	nshape=$((nshape + 1))
	jq -c ".batch_id = \"shape-$nshape\" | $2" "$T/b4.json" >"$T/shape.json"
	post "$T/shape.json"
	expect_error "$1" "${3:-400}" "${4:-bad_schema}"
}
shape "empty records: 400" '.records = []'
shape "duplicate keys in a batch: 400" '.records = [.records[0], .records[0]]'
shape "wrong schema id: 400" '.schema = "spgl-v2"'
shape "region not six digits: 400" '.region = "2201"'
shape "unknown table: 400" '.table = "SPGL_NOPE"'
shape "duplicate long Chinese keys (message cut inside a character): 400" \
	'.records[0].key = ("项目" * 30) | .records = [.records[0], .records[0]]'
shape "batch_id with a space: 400" '.batch_id = "a b"' 
shape "unknown member: 400" '.extra = 1'
shape "record without digest: 400" 'del(.records[0].digest)'
shape "record data not an object: 400" '.records[0].data = [1]'
shape "record key not a string: 400" '.records[0].key = 7'
shape "record digest paired wrongly (sha-256: from SM2): 400 bad_digest" \
	'.records[0].digest |= sub("^sm3:"; "sha-256:")' 400 bad_digest
printf '{"batch_id": "x", ' >"$T/notjson.json"
post "$T/notjson.json"
expect_error "not JSON: 400 bad_json" 400 bad_json
printf '{"batch_id":"dm","region":"220100","schema":"spgl-v3","table":"SPGL_XMJBXXB",%s' \
	'"batch_id":"dm2","records":[]}' >"$T/dupmember.json"
post "$T/dupmember.json"
expect_error "duplicate member in the envelope: 400 bad_json" 400 bad_json
post "$T/b4.json" --header 'Content-Type: text/plain'
expect_error "Content-Type text/plain: 400" 400 bad_schema
post "$T/b4.json" --header 'Content-Type: application/json; charset=gbk'
expect_error "charset gbk: 400" 400 bad_schema
post "$T/b4.json" --header 'Content-Encoding: br'
expect_error "Content-Encoding br: 400" 400 bad_schema
post "$T/b4.json" --header 'Content-Encoding: gzip'
expect_error "Content-Encoding gzip over plain bytes: 400" 400 bad_request

# ======== regions (403) ========

batch "$T/r1.json" r1 2026-11-03 --alg ed25519 --region 220300 "$REC"
call gw3 gw3 POST /spgl/v3/batches --body "$T/r1.json"
expect_error "region the gateway is not registered for: 403" 403 forbidden
batch "$T/r2.json" r2 2026-11-03 --region 229900 "$REC"
post "$T/r2.json"
expect_status "22* covers 229900 (record XZQHDM differs: rejected)" 0 rejected
check "XZQHDM other than the batch region: code" has_error 0 code XZQHDM

# ======== the other two algorithms ========

jq '.DFSJZJ = "ECDSA-1"' "$REC" >"$T/ecdsa.json"
batch "$T/e1.json" e1 2026-11-03 --alg ecdsa-p256-sha256 "$T/ecdsa.json"
call gw2 gw2 POST /spgl/v3/batches --body "$T/e1.json" --verify-receipt
expect_status "ecdsa-p256-sha256 gateway, sha-256 digests" 0 accepted
check "ecdsa batch receipt verifies" grep -q '^receipt: verified' "$T/out"
jq '.DFSJZJ = "ED-1"' "$REC" >"$T/ed.json"
batch "$T/d1.json" d1 2026-11-03 --alg ed25519 "$T/ed.json"
call gw3 gw3 POST /spgl/v3/batches --body "$T/d1.json" --verify-receipt
expect_status "ed25519 gateway" 0 accepted
call gw2 gw2 POST /spgl/v3/batches --body "$T/b4.json"
expect_error "sm3: record digests from an ecdsa gateway: 400 bad_digest" 400 bad_digest

# ======== requests signed by the openssl CLI, not by our code ========

# osign GW KEY ALG DIGEST BODY [LABEL]: sign and send with openssl and curl alone (§1), so
# that the server's verification is checked against an implementation sharing nothing with
# it; LABEL is the alg named in the header (ALG unless given)
osign() {
	gw=$1 key=$2 alg=$3 dname=$4 body=$5 label=${6:-$3}
	ts=$(date +%s)
	nonce=$(openssl rand -hex 16)
	if [ "$dname" = sm3 ]; then
		dg="sm3=$(openssl dgst -sm3 -binary "$body" | openssl base64 -A)"
	else
		dg="sha-256=$(openssl dgst -sha256 -binary "$body" | openssl base64 -A)"
	fi
	printf 'SPGW1\nPOST\n/spgl/v3/batches\n%s\n%s\n%s\n%s' "$gw" "$ts" "$nonce" "$dg" >"$T/osign.msg"
	case $alg in
	sm2-sm3) openssl dgst -sm3 -sign "$T/$key.key" -sigopt distid:1234567812345678 \
		-out "$T/osign.sig" "$T/osign.msg" ;;
	ecdsa-p256-sha256) openssl dgst -sha256 -sign "$T/$key.key" -out "$T/osign.sig" \
		"$T/osign.msg" ;;
	ed25519) openssl pkeyutl -sign -inkey "$T/$key.key" -rawin -in "$T/osign.msg" \
		-out "$T/osign.sig" ;;
	esac
	code=$(curl -s -o "$T/body" -w '%{http_code}' --cacert "$D/ca.pem" \
		-H "X-SPGW-Gateway: $gw" -H "X-SPGW-Timestamp: $ts" -H "X-SPGW-Nonce: $nonce" \
		-H "X-SPGW-Content-Digest: $dg" \
		-H "X-SPGW-Signature: alg=$label, sig=$(openssl base64 -A -in "$T/osign.sig")" \
		-H 'Content-Type: application/json; charset=utf-8' --data-binary @"$body" \
		"$URL/spgl/v3/batches")
}
jq '.DFSJZJ = "OSSL-SM2"' "$REC" >"$T/o1.json"
batch "$T/o1b.json" o1 2026-11-03 "$T/o1.json"
osign gw1 gw1 sm2-sm3 sm3 "$T/o1b.json"
expect_status "request signed by openssl (SM2, id 1234567812345678)" 0 accepted
jq '.DFSJZJ = "OSSL-ECDSA"' "$REC" >"$T/o2.json"
batch "$T/o2b.json" o2 2026-11-03 --alg ecdsa-p256-sha256 "$T/o2.json"
osign gw2 gw2 ecdsa-p256-sha256 sha-256 "$T/o2b.json"
expect_status "request signed by openssl (ECDSA P-256)" 0 accepted
jq '.DFSJZJ = "OSSL-ED"' "$REC" >"$T/o3.json"
batch "$T/o3b.json" o3 2026-11-03 --alg ed25519 "$T/o3.json"
osign gw3 gw3 ed25519 sha-256 "$T/o3b.json"
expect_status "request signed by openssl (Ed25519)" 0 accepted
jq -c '.batch_id = "o4"' "$T/o1b.json" >"$T/o4b.json"
osign gw1 gw1 sm2-sm3 sm3 "$T/o4b.json" ecdsa-p256-sha256
expect_error "openssl signature naming the wrong algorithm: 401" 401 bad_signature

# ======== per-record results (§2, §4) ========

jq '.DFSJZJ = "V-1"' "$REC" >"$T/v1.json"
jq '.DFSJZJ = "V-1" | .XMMC = "第二版名称"' "$REC" >"$T/v2.json"
jq '.DFSJZJ = "BAD-XMDM" | .XMDM = "2026-22"' "$REC" >"$T/badxmdm.json"
jq '.DFSJZJ = "INVALID-0" | .SJYXBS = 0 | .SJWXYY = "重复录入"' "$REC" >"$T/invalid0.json"
batch "$T/m1.json" m1 2026-11-03 "$T/v1.json" "$T/badxmdm.json" "$T/invalid0.json"
post "$T/m1.json" --verify-receipt
expect_status "mixed batch, results in request order" 0 accepted 1 rejected 2 accepted
check "bad 项目代码: format on XMDM" has_error 1 format XMDM
check "rejected result carries a Chinese message" \
	sh -c "jq -r '.results[1].errors[0].message' '$T/body' | grep -q '项目代码'"
batch "$T/m2.json" m2 2026-11-03 "$T/v2.json"
post "$T/m2.json"
expect_status "same key, new digest: a new version, accepted" 0 accepted
"$SIM" dump --dir "$D" --region 220100 --table SPGL_XMJBXXB >"$T/dump"
check "dump shows version 2 as newest" grep -q "^V-1	2	sm3:" "$T/dump"
jq -c '.batch_id = "m3" | .records[0].digest = "sm3:\("0" * 64)"' "$T/b4.json" >"$T/m3.json"
post "$T/m3.json"
expect_status "wrong record digest: rejected" 0 rejected
check "wrong record digest: code digest" has_error 0 digest
jq -c '.batch_id = "m4" | .records[0].day = "2026-11-04"' "$T/b4.json" >"$T/m4.json"
post "$T/m4.json"
check "day other than SBSJ's date: code day" has_error 0 day SBSJ
jq -c '.batch_id = "m5" | .records[0].day = "2026-02-30"' "$T/b4.json" >"$T/m5.json"
post "$T/m5.json"
check "day that does not exist: code day" has_error 0 day
jq -c '.batch_id = "m5b" | .records[0].day = ("二〇二六年十一月三日" * 2)' "$T/b4.json" \
	>"$T/m5b.json"
post "$T/m5b.json"
expect_status "day in Chinese, quoted cut in the message: rejected, not a 500" 0 rejected
printf '%s' '{"batch_id":"m6","region":"220100","schema":"spgl-v3","table":"SPGL_XMJBXXB","records":[
{"key":"C1","day":"2026-11-03","digest":"sm3:00","data":{"XMMC":"a","XMMC":"b"}},
{"key":"C2","day":"2026-11-03","digest":"sm3:00","data":{"XMMC":"\ud800"}},
{"key":"C3","day":"2026-11-03","digest":"sm3:00","data":{"ZTZE":1e400}},
{"key":"C4","day":"2026-11-03","digest":"sm3:00","data":{"ZTZE":9007199254740992}}]}' >"$T/m6.json"
post "$T/m6.json"
expect_status "records without a canonical form: rejected, the batch is not" \
	0 rejected 1 rejected 2 rejected 3 rejected
check "duplicate member name: canonical" has_error 0 canonical
check "lone surrogate: canonical" has_error 1 canonical
check "number beyond a double: canonical" has_error 2 canonical
check "integer 2^53: canonical" has_error 3 canonical

# business day as sent for a table without a count-date field, and the day move
batch "$T/u1.json" u1 2026-11-03 --table SPGL_XMDWXXB "$UNIT"
post "$T/u1.json"
expect_status "SPGL_XMDWXXB record accepted with its day as sent" 0 accepted
batch "$T/u2.json" u2 2026-11-05 --table SPGL_XMDWXXB "$UNIT"
post "$T/u2.json"
expect_status "same digest on another day: duplicate" 0 duplicate
"$SIM" dump --dir "$D" --region 220100 --table SPGL_XMDWXXB >"$T/dump"
check "the duplicate moved the key to the new day" \
	[ "$(awk -F '\t' '$2 == 1 && $4 == "2026-11-05"' "$T/dump" | wc -l)" = 1 ]

# ======== counts and keys (§3, §5) ========

get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30'
expect_200 "counts"
# CC-2026-000123, V-1, INVALID-0, ECDSA-1, ED-1, OSSL-SM2, OSSL-ECDSA, OSSL-ED on 2026-11-03;
# INVALID-0 has SJYXBS 0
check "counts: days with records only, records and valid" \
	[ "$(field '.days | map("\(.date)=\(.records)/\(.valid)") | join(",")')" = "2026-11-03=8/7" ]
check "counts: total" [ "$(field '"\(.total.records)/\(.total.valid)"')" = "8/7" ]
check "counts: region and table echoed" [ "$(field '"\(.region) \(.table)"')" = "220100 SPGL_XMJBXXB" ]
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2025-11-01&to=2026-11-02'
check "counts: 367 days refused" [ "$code $(field .error)" = "400 bad_request" ]
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2025-11-03&to=2026-11-03'
expect_200 "counts: 366 days accepted"
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-30&to=2026-11-01'
expect_error "counts: from after to" 400 bad_request
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30&x=1'
expect_error "counts: unknown parameter" 400 bad_request
get '/spgl/v3/counts?region=220100&region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30'
expect_error "counts: repeated parameter" 400 bad_request
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01'
expect_error "counts: missing parameter" 400 bad_request
get '/spgl/v3/counts?region=220100&table=SPGL%5FXMJBXXB&from=2026-11-01&to=2026-11-30'
check "counts: percent-encoded parameters decoded" [ "$code $(field .total.records)" = "200 8" ]
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB+&from=2026-11-01&to=2026-11-30'
expect_error "counts: '+' is a literal plus" 400 bad_request
call gw3 gw3 GET '/spgl/v3/counts?region=220300&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30'
expect_error "counts for a region not registered: 403" 403 forbidden
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30' --corrupt-sig
expect_error "counts with a bad signature: 401" 401 bad_signature

get '/spgl/v3/keys?region=220100&table=SPGL_XMJBXXB&date=2026-11-03'
check "keys: in key order, no next" \
	[ "$(field '[.keys[].key] | join(",")') $(field '.next // "none"')" = \
		"CC-2026-000123,ECDSA-1,ED-1,INVALID-0,OSSL-ECDSA,OSSL-ED,OSSL-SM2,V-1 none" ]
V1=$(jq -r '.records[0].digest' "$T/m2.json")
check "keys: the digest of the newest version" \
	[ "$(field '.keys[] | select(.key == "V-1") | .digest')" = "$V1" ]
get '/spgl/v3/keys?region=220100&table=SPGL_XMJBXXB&date=2026-11-03&after=ED-1'
check "keys: after is exclusive" \
	[ "$(field '[.keys[].key] | join(",")')" = "INVALID-0,OSSL-ECDSA,OSSL-ED,OSSL-SM2,V-1" ]
get '/spgl/v3/keys?region=220100&table=SPGL_XMJBXXB'
expect_error "keys: date missing" 400 bad_request

# 6000 keys on one day through keep-alive connections: paging by 5000
"$CLI" bench --dir "$D" --gateway gw1 --key "$T/gw1.key" --url "$URL" --template "$REC" \
	--table SPGL_XMJBXXB --region 220100 --records 1000 --batches 6 --conns 2 \
	--day 2026-12-01 >"$T/bench" 2>&1
check "bench: 6000 records over keep-alive connections" grep -q '^bench: 6000 records accepted' "$T/bench"
get '/spgl/v3/keys?region=220100&table=SPGL_XMJBXXB&date=2026-12-01'
check "keys: first page of 5000 with next" \
	[ "$(field '.keys | length') $(field '.next == .keys[-1].key')" = "5000 true" ]
NEXT=$(field .next)
get "/spgl/v3/keys?region=220100&table=SPGL_XMJBXXB&date=2026-12-01&after=$NEXT"
check "keys: second page of 1000, no next" \
	[ "$(field '.keys | length') $(field '.next // "none"')" = "1000 none" ]
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-12-01&to=2026-12-01'
check "counts: 6000 on the bench day" [ "$(field .total.records)" = 6000 ]

# ======== paths and methods ========

get /spgl/v3/nothing
expect_error "unknown path: 404" 404 not_found
get /spgl/v3/batches
expect_error "GET on batches: 405" 405 bad_request
code=$(curl -s -o "$T/body" -w '%{http_code}' --cacert "$D/ca.pem" -X DELETE "$URL/spgl/v3/keys")
expect_error "DELETE on keys (unsigned): 405" 405 bad_request

# ======== SIGHUP reloads the gateways ========

call gw4 gw4 GET '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30'
expect_error "gw4 not registered yet: 401" 401 unknown_gateway
"$SIM" register --dir "$D" --gateway gw4 --key "$T/gw4.pub" --regions 220100 >/dev/null
kill -HUP "$PID"
i=0
while ! grep -q 'SIGHUP: 4 gateway' "$T/serve.log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
call gw4 gw4 GET '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30'
expect_200 "gw4 registered and SIGHUP: accepted"

check "stats: no version stored twice" [ "$(total stored_twice)" = 0 ]
check "stats: store is self-consistent" [ "$(total inconsistent)" = 0 ]
check "stats: versions = keys + 1 (V-1 has two)" [ "$(total versions)" = $(($(total keys) + 1)) ]
check "stats: one day move" [ "$(total day_moves)" = 1 ]
check "stats: the maintained day counts agree with the keys" [ "$(total counts_drift)" = 0 ]
# b1 twice (plain, gzip), b5 once (sent again at now + 200 s)
check "stats: replays counted" [ "$(total replays)" = 3 ]
check "SIGTERM: clean exit" stop

# ======== limits (413) ========

D2=$T/limits
newdir "$D2"
start "$D2" --max-records 2 --max-bytes 2000
jq '.DFSJZJ = "L-2"' "$REC" >"$T/l2.json"
jq '.DFSJZJ = "L-3"' "$REC" >"$T/l3.json"
batch "$T/l1.json" l1 2026-11-03 "$REC" "$T/l2.json" "$T/l3.json"
post "$T/l1.json"
expect_error "3 records with --max-records 2: 413" 413 too_large
batch "$T/l4.json" l4 2026-11-03 "$REC" "$T/l2.json"
post "$T/l4.json"
expect_error "body over --max-bytes 2000: 413" 413 too_large
post "$T/l4.json" --gzip
expect_error "gzip body over --max-bytes once gunzipped: 413" 413 too_large
post "$T/b4.json"
expect_200 "a batch within both limits: 200"
stop

# ======== faults ========

D3=$T/faults
newdir "$D3"
start "$D3" --force-status 503:1 --retry-after 4
post "$T/b4.json" --include
expect_error "--force-status 503:1: first batch 503" 503 unavailable
check "--retry-after on 503" grep -q '^Retry-After: 4' "$T/out"
post "$T/b4.json"
expect_200 "--force-status 503:1: then 200"
check "the forced 503 stored nothing" [ "$(total batches)" = 1 ]
stop
start "$D3" --force-status 401
post "$T/b5.json"
expect_error "--force-status 401" 401 bad_signature
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30'
expect_200 "faults apply to POST /batches only"
stop

D4=$T/f5xx
newdir "$D4"
start "$D4" --fail-5xx 1
post "$T/b4.json"
case $code in 500|502|503) expect_error "--fail-5xx 1: a 5xx ($code)" "$code" unavailable ;;
*) bad "--fail-5xx 1: got $code" ;;
esac
check "--fail-5xx: nothing stored" [ "$(total versions)" = 0 ]
stop
start "$D4" --fail-429 1
post "$T/b4.json" --include
expect_error "--fail-429 1: 429" 429 rate_limited
check "429 has Retry-After (default 1)" grep -q '^Retry-After: 1' "$T/out"
stop
start "$D4" --fail-429 1 --retry-after 7
post "$T/b4.json" --include
check "--retry-after 7" grep -q '^Retry-After: 7' "$T/out"
stop

# the same seed gives the same faults in the same order
seq_of() { # DIR: statuses of 12 fresh batches under --fail-5xx 0.5 --seed 42
	start "$1" --fail-5xx 0.5 --seed 42
	s=
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		jq -c ".batch_id = \"seed-$n\"" "$T/b4.json" >"$T/seed.json"
		post "$T/seed.json"
		s="$s$code "
	done
	stop
	echo "$s"
}
newdir "$T/seed1"
newdir "$T/seed2"
S1=$(seq_of "$T/seed1")
S2=$(seq_of "$T/seed2")
check "--seed: the same faults in the same order ($S1)" [ "$S1" = "$S2" ]
check "--fail-5xx 0.5: some of each" sh -c "echo '$S1' | grep -q 200 && echo '$S1' | grep -Eq '50[023]'"

D5=$T/hang
newdir "$D5"
start "$D5" --hang 1 --hang-seconds 2
T0=$(date +%s%N)
"$CLI" --dir "$D5" --url "$URL" --gateway gw1 --key "$T/gw1.key" --method POST \
	--path /spgl/v3/batches --body "$T/b4.json" >"$T/hung.out" 2>&1 &
BG=$!
# wait until the server holds it: its log line comes only at the end, so poll the request
# count through a GET, which faults never touch
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30'
expect_200 "a held batch does not block other requests"
wait $BG
T1=$(date +%s%N)
check "--hang: no answer, the connection closed" grep -q '^TRANSPORT' "$T/hung.out"
check "--hang-seconds 2: held about 2 s" [ $(((T1 - T0) / 1000000)) -ge 1900 ]
check "--hang: nothing stored" [ "$(total versions)" = 0 ]
stop

D6=$T/reset
newdir "$D6"
start "$D6" --reset 1
post "$T/b4.json"
check "--reset: the answer is cut" [ "$code" = TRANSPORT ]
check "--reset: the batch was stored anyway" [ "$(total versions) $(total batches)" = "1 1" ]
stop
start "$D6"
post "$T/b4.json" --verify-receipt
expect_status "after a reset, the resent batch gets the stored answer" 0 accepted
check "... with a receipt that verifies" grep -q '^receipt: verified (1 accepted' "$T/out"
check "... counted as a replay, stored once" \
	[ "$(total replays) $(total versions) $(total stored_twice)" = "1 1 0" ]
stop
start "$D6" --slow-ms 1200
T0=$(date +%s%N)
post "$T/b5.json"
T1=$(date +%s%N)
expect_200 "--slow-ms 1200: answered"
check "--slow-ms 1200: after at least 1.2 s" [ $(((T1 - T0) / 1000000)) -ge 1200 ]
stop
start "$D6" --clock-offset 1000
post "$T/b5.json"
expect_error "--clock-offset 1000: our time is stale" 401 stale_timestamp
post "$T/b5.json" --timestamp $(($(date +%s) + 1000))
expect_200 "--clock-offset 1000: the platform's time accepted"
stop

D7=$T/reject
newdir "$D7"
start "$D7" --reject 'XMMC~第一实验'
post "$T/b4.json"
expect_status "--reject XMMC~regex: rejected" 0 rejected
check "--reject: code format on XMMC" has_error 0 format XMMC
stop
start "$D7" --reject-rate 1
post "$T/b5.json"
expect_status "--reject-rate 1: rejected" 0 rejected
check "--reject-rate: code required" has_error 0 required
check "rejected records are not stored" [ "$(total versions)" = 0 ]
stop

n=0
for lie in receipt-sig receipt-counts not-json truncated results-fewer results-more; do
	n=$((n + 1))
	newdir "$T/lie$n"
	start "$T/lie$n" --lie $lie
	post "$T/b4.json" --verify-receipt
	check "--lie $lie: 200 whose answer fails the gateway's checks" \
		[ "$code $crc" = "200 3" ]
	check "--lie $lie: the batch was stored" [ "$(total versions)" = 1 ]
	stop
done

# receipts signed with the other algorithms
for alg in ecdsa-p256-sha256 ed25519; do
	newdir "$T/nat-$alg" --alg $alg
	start "$T/nat-$alg"
	post "$T/b4.json" --verify-receipt
	check "national key $alg: receipt verifies" grep -q "^receipt: verified" "$T/out"
	check "national key $alg: receipt names its alg" [ "$(field .receipt.alg)" = $alg ]
	stop
done

# ======== reconciliation: seed from a ledger ========

# A gateway ledger made by make-ledger through the gateway's own spgw_ledger_open: two
# regions, two tables, 300 keys each over ten days, 40% with a history (a second delivered
# version a day later or the same day, a pending third one, a dead version between two equal
# ones two days apart, a dead last one); 30 keys with SJYXBS 0; 6000 keys on one day for
# paging.
L=$T/ledger
mkdir -p "$L"
jq '.SJYXBS = 0 | .SJWXYY = "重复录入"' "$REC" >"$T/rec-invalid.json"
check "make-ledger: a ledger with histories" sh -c "
	'$CLI' make-ledger --ledger '$L' --template '$REC' --regions 220100,220200 \
		--tables SPGL_XMJBXXB,SPGL_XMDWXXB --records 300 --from 2026-03-01 --days 10 \
		--changed 0.4 --seed 5 >/dev/null &&
	'$CLI' make-ledger --ledger '$L' --template '$T/rec-invalid.json' --prefix INV \
		--regions 220100 --tables SPGL_XMJBXXB --records 30 --from 2026-03-01 --days 3 \
		>/dev/null &&
	'$CLI' make-ledger --ledger '$L' --template '$REC' --prefix BIG --regions 220100 \
		--tables SPGL_XMJBXXB --records 6000 --from 2026-04-01 --days 1 >/dev/null"
led() { sqlite3 -batch -noheader "$L/spgw.db" "$1"; }
check "make-ledger: delivered, pending and dead versions" \
	[ "$(led "SELECT group_concat(state) FROM (SELECT DISTINCT state FROM outbox ORDER BY 1)")" = \
		"dead,delivered,pending" ]

# The oracle, in SQL over the ledger alone: a key's newest delivered version is what the
# platform holds, on that version's day; valid when the data's SJYXBS is the number 1.
NEWEST="SELECT o.region, o.spgl_table AS tbl, o.record_key AS key, o.day, o.digest,
	(json_type(d.data, '\$.SJYXBS') IN ('integer', 'real') AND json_extract(d.data, '\$.SJYXBS') = 1) AS valid
	FROM outbox o JOIN outbox_data d ON d.id = o.id WHERE o.state = 'delivered' AND o.version =
	(SELECT max(version) FROM outbox p WHERE p.region = o.region AND p.spgl_table = o.spgl_table
	AND p.record_key = o.record_key AND p.state = 'delivered')"
# every version delivered after one with the same digest is a duplicate, not a version
DUPS="SELECT digest, day, lag(digest) OVER w AS pd, lag(day) OVER w AS pday FROM outbox
	WHERE state = 'delivered' WINDOW w AS (PARTITION BY region, spgl_table, record_key ORDER BY version)"
PAIRS="220100/SPGL_XMJBXXB 220100/SPGL_XMDWXXB 220200/SPGL_XMJBXXB 220200/SPGL_XMDWXXB"

# counts of every pair over two months through GET counts, as region|table|day|records|valid
counts_of() { # OUT
	: >"$1"
	for pair in $PAIRS; do
		r=${pair%/*} t=${pair#*/}
		get "/spgl/v3/counts?region=$r&table=$t&from=2026-03-01&to=2026-04-30"
		[ "$code" = 200 ] || echo "HTTP $code" >>"$1"
		field ".days[] | \"$r|$t|\\(.date)|\\(.records)|\\(.valid)\"" >>"$1"
	done
}

S1=$T/rec1
newdir "$S1"
"$SIM" seed --dir "$S1" --from-ledger "$L" --gateway gw1 >"$T/seed.out" 2>&1
check "seed: a store from the ledger" grep -q '^seeded .*national.db: ' "$T/seed.out"
DIR=$S1
check "seed: the keys of the ledger" [ "$(total keys)" = "$(led "SELECT count(*) FROM ($NEWEST)")" ]
check "seed: versions, duplicates answered as such" \
	[ "$(total versions)" = "$(led "SELECT count(*) FROM ($DUPS) WHERE pd IS NULL OR pd <> digest")" ]
check "seed: day moves of duplicates on another day" \
	[ "$(total day_moves)" = "$(led "SELECT count(*) FROM ($DUPS) WHERE pd = digest AND pday <> day")" ]
check "seed: some moves to check" [ "$(total day_moves)" -gt 10 ]
check "seed: each version's valid is its data's SJYXBS = 1 (SQLite's JSON)" \
	[ "$(sqlite3 "$S1/national.db" "SELECT count(*) FROM versions WHERE valid IS NOT
		(json_type(data, '\$.SJYXBS') IN ('integer', 'real') AND json_extract(data, '\$.SJYXBS') = 1)")" = 0 ]
check "seed: stored twice, inconsistent, counts drift all 0" \
	[ "$(total stored_twice) $(total inconsistent) $(total counts_drift)" = "0 0 0" ]
"$SIM" dump --dir "$S1" --region 220100 --table SPGL_XMJBXXB | cut -f 1,3,4 | LC_ALL=C sort >"$T/dump1"
led "SELECT key, digest, day FROM ($NEWEST) WHERE region = '220100' AND tbl = 'SPGL_XMJBXXB'" |
	tr '|' '\t' | LC_ALL=C sort >"$T/want1"
check "seed: each key's newest digest and day, as the oracle says" cmp -s "$T/dump1" "$T/want1"
check "seed: refuses a directory that has a store" \
	sh -c "! '$SIM' seed --dir '$S1' --from-ledger '$L' 2>'$T/err' && grep -q 'exists already' '$T/err'"
cp "$L/spgw.db" "$T/bad.db"
sqlite3 "$T/bad.db" "UPDATE outbox_data SET data = replace(data, '长春', '吉林') WHERE id = 7"
newdir "$T/recbad"
check "seed: refuses a version whose digest is not its data's, naming it" \
	sh -c "! '$SIM' seed --dir '$T/recbad' --from-ledger '$T/bad.db' 2>'$T/err' &&
		grep -q 'outbox id 7 .*is not the digest of its data' '$T/err' &&
		[ ! -e '$T/recbad/national.db' ] && [ ! -e '$T/recbad/national.db.seeding' ]"
check "seed: refuses a file that is not a ledger" \
	sh -c "! '$SIM' seed --dir '$T/recbad' --from-ledger '$S1/national.db' 2>'$T/err' &&
		grep -q 'not an spgw ledger' '$T/err'"

start "$S1"
counts_of "$T/counts1"
led "SELECT region, tbl, day, count(*), sum(valid) FROM ($NEWEST) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" \
	>"$T/want-counts1"
sort "$T/counts1" >"$T/got-counts1"
sort "$T/want-counts1" >"$T/want-counts1s"
check "seeded counts: every day of every pair as the oracle says" cmp -s "$T/got-counts1" "$T/want-counts1s"
check "seeded counts: SJYXBS 0 counted as records, not valid" \
	grep -q '^220100|SPGL_XMJBXXB|2026-03-01|[0-9]*|' "$T/counts1"
check "seeded counts: invalid ones seen" \
	[ "$(awk -F '|' '{r += $4; v += $5} END {print r - v}' "$T/counts1")" = 30 ]
# the checking client of the running server: scan-counts|scan-keys [options]
scan() {
	c=$1
	shift
	"$CLI" "$c" --dir "$DIR" --gateway gw1 --key "$T/gw1.key" --url "$URL" "$@"
}
scan scan-counts --regions 220100,220200 --tables SPGL_XMJBXXB,SPGL_XMDWXXB \
	--from 2026-03-01 --to 2026-04-30 >"$T/scan" 2>&1
check "scan-counts: four checked answers over one connection" \
	grep -q "^counts: 4 requests, $(led "SELECT count(*) FROM ($NEWEST)") records" "$T/scan"
scan scan-keys --region 220100 --table SPGL_XMJBXXB --date 2026-04-01 --out "$T/keys" \
	>"$T/scan" 2>&1
check "scan-keys: 6000 keys in two checked pages" \
	grep -q '^keys: 6000 keys listed (6000 distinct) in 2 pages' "$T/scan"
led "SELECT key, digest FROM ($NEWEST) WHERE tbl = 'SPGL_XMJBXXB' AND region = '220100' AND
	day = '2026-04-01'" | tr '|' '\t' | LC_ALL=C sort >"$T/want-keys"
check "scan-keys: the day's keys and digests, in byte order" cmp -s "$T/keys" "$T/want-keys"
# the seeded store takes batches like any other: a new key and a changed one
batch "$T/sb1.json" sb1 2026-11-03 "$REC"
post "$T/sb1.json" --verify-receipt
expect_status "seeded store: a new key by batch" 0 accepted
# a seeded key (valid) gets a new version on another day that is not valid
K0=L-220100-XMJBXXB-0000000
D0=$(led "SELECT day FROM ($NEWEST) WHERE key = '$K0'")
get "/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=$D0&to=$D0"
before=$(field '"\(.total.records)/\(.total.valid)"')
jq ".DFSJZJ = \"$K0\" | .SJYXBS = 0 | .SJWXYY = \"重复录入\"" "$REC" >"$T/sb2rec.json"
batch "$T/sb2.json" sb2 2026-11-03 "$T/sb2rec.json"
post "$T/sb2.json"
expect_status "seeded store: a seeded key's new version by batch" 0 accepted
get "/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=$D0&to=$D0"
check "seeded store: the key left its old day, records and valid ($before then $(field '"\(.total.records)/\(.total.valid)"'))" \
	[ "$(field '"\(.total.records + 1)/\(.total.valid + 1)"')" = "$before" ]
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-11-01&to=2026-11-30'
check "seeded store: and counts on its new version's day, not valid" \
	[ "$(field '"\(.total.records)/\(.total.valid)"')" = "2/1" ]
check "seeded store: counts drift still 0 after batches" [ "$(total counts_drift)" = 0 ]
stop

# ---- known differences: --drop, --alter, --extra ----

S2=$T/rec2
newdir "$S2"
"$SIM" seed --dir "$S2" --from-ledger "$L" --drop 0.1 --alter 0.1 --extra 25 --seed 9 \
	--manifest "$T/man2" >"$T/seed.out" 2>&1
check "seed with differences" grep -q ' 25 extra;' "$T/seed.out"
NKEYS=$(led "SELECT count(*) FROM ($NEWEST)")
nd=$(grep -c '^dropped' "$T/man2")
na=$(grep -c '^altered' "$T/man2")
check "--drop 0.1: about a tenth of $NKEYS keys ($nd)" [ "$nd" -gt $((NKEYS / 20)) -a "$nd" -lt $((NKEYS * 3 / 20)) ]
check "--alter 0.1: about a tenth of $NKEYS keys ($na)" [ "$na" -gt $((NKEYS / 20)) -a "$na" -lt $((NKEYS * 3 / 20)) ]
check "--extra 25: 25 extra keys" [ "$(grep -c '^extra' "$T/man2")" = 25 ]
newdir "$T/rec3"
"$SIM" seed --dir "$T/rec3" --from-ledger "$L" --drop 0.1 --alter 0.1 --extra 25 --seed 9 \
	--manifest "$T/man3" >/dev/null 2>&1
check "--seed: the same differences again" cmp -s "$T/man2" "$T/man3"
DIR=$S2
check "differences: invalid copies in the extras or not, valid as their data says" \
	[ "$(sqlite3 "$S2/national.db" "SELECT count(*) FROM versions WHERE valid IS NOT
		(json_type(data, '\$.SJYXBS') IN ('integer', 'real') AND json_extract(data, '\$.SJYXBS') = 1)")" = 0 ]
check "differences: store still self-consistent" \
	[ "$(total stored_twice) $(total inconsistent) $(total counts_drift)" = "0 0 0" ]
check "differences: keys = ledger - dropped + extra" [ "$(total keys)" = $((NKEYS - nd + 25)) ]

# what the platform holds against the ledger, key by key, over every pair (dump), in SQL
: >"$T/nat2"
for pair in $PAIRS; do
	"$SIM" dump --dir "$S2" --region "${pair%/*}" --table "${pair#*/}" |
		awk -F '\t' -v r="${pair%/*}" -v t="${pair#*/}" '{print r "\t" t "\t" $1 "\t" $3 "\t" $4}' >>"$T/nat2"
done
diffsql() { # SQL over tables nat (the store), man (the manifest) and the ledger
	sqlite3 -batch -noheader "$L/spgw.db" \
		"ATTACH '$S2/national.db' AS st; CREATE TEMP TABLE nat(region, tbl, key, digest, day);
		CREATE TEMP TABLE man(kind, region, tbl, day, key);" \
		".mode tabs" ".import $T/nat2 nat" ".import $T/man2 man" \
		"CREATE TEMP VIEW led AS $NEWEST;" ".mode list" "$1"
}
check "differences: the ledger's keys missing on the platform are exactly the dropped ones" \
	[ "$(diffsql "SELECT count(*) FROM led l WHERE NOT EXISTS (SELECT 1 FROM nat n WHERE
		n.region = l.region AND n.tbl = l.tbl AND n.key = l.key)") $(diffsql "SELECT count(*)
		FROM man m JOIN led l USING (region, tbl, key) WHERE m.kind = 'dropped' AND m.day = l.day
		AND NOT EXISTS (SELECT 1 FROM nat n WHERE n.region = m.region AND n.tbl = m.tbl AND n.key = m.key)")" = "$nd $nd" ]
check "differences: keys held with another digest are exactly the altered ones, same day" \
	[ "$(diffsql "SELECT count(*) FROM led l JOIN nat n USING (region, tbl, key) WHERE
		n.digest <> l.digest") $(diffsql "SELECT count(*) FROM man m JOIN led l USING (region, tbl, key)
		JOIN nat n USING (region, tbl, key) WHERE m.kind = 'altered' AND n.digest <> l.digest
		AND n.day = l.day AND m.day = l.day")" = "$na $na" ]
check "differences: the platform's keys the ledger lacks are exactly the extra ones" \
	[ "$(diffsql "SELECT count(*) FROM nat n WHERE NOT EXISTS (SELECT 1 FROM led l WHERE
		n.region = l.region AND n.tbl = l.tbl AND n.key = l.key)") $(diffsql "SELECT count(*)
		FROM man m JOIN nat n USING (region, tbl, key) WHERE m.kind = 'extra' AND n.day = m.day")" = "25 25" ]
check "differences: all else equal, digest and day" \
	[ "$(diffsql "SELECT count(*) FROM led l JOIN nat n USING (region, tbl, key) WHERE
		n.digest = l.digest AND n.day = l.day")" = $((NKEYS - nd - na)) ]
# an altered and an extra version hold data whose SM3 is their digest (openssl's)
for kind in altered extra; do
	k=$(awk -F '\t' -v k=$kind '$1 == k {print $5; exit}' "$T/man2")
	sqlite3 "$S2/national.db" "SELECT writefile('$T/data.bin', data) FROM versions WHERE key = '$k'
		ORDER BY version DESC LIMIT 1" >/dev/null
	want=$(sqlite3 "$S2/national.db" "SELECT digest FROM current WHERE key = '$k'")
	check "$kind version: its digest is the SM3 of its data" \
		[ "sm3:$(openssl dgst -sm3 -r "$T/data.bin" | cut -d ' ' -f 1)" = "$want" ]
done
start "$S2"
counts_of "$T/counts2"
diffsql "SELECT region, tbl, day, count(*), sum(valid) FROM (
	SELECT region, tbl, key, day, valid FROM led l WHERE NOT EXISTS (SELECT 1 FROM man m WHERE
		m.kind = 'dropped' AND m.region = l.region AND m.tbl = l.tbl AND m.key = l.key)
	UNION ALL SELECT m.region, m.tbl, m.key, m.day, (SELECT json_type(v.data, '\$.SJYXBS') IN
		('integer', 'real') AND json_extract(v.data, '\$.SJYXBS') = 1 FROM st.versions v WHERE
		v.region = m.region AND v.tbl = m.tbl AND v.key = m.key) FROM man m WHERE m.kind = 'extra')
	GROUP BY 1, 2, 3" | sort >"$T/want-counts2"
sort "$T/counts2" >"$T/got-counts2"
check "differences: counts = ledger - dropped + extra, day by day" cmp -s "$T/got-counts2" "$T/want-counts2"
stop

# ======== faults of GET counts and keys ========

# counts over 2026-03-01..05: every one of those days has records
RANGE='region=220100&table=SPGL_XMJBXXB&from=2026-03-01&to=2026-03-05'
start "$S1"
get "/spgl/v3/counts?$RANGE"
cp "$T/body" "$T/truth.json"
stop
days_of() { jq -r '[.days[] | "\(.date)=\(.records)/\(.valid)"] | join(",")' "$1"; }
scan_range() { # the checking client over RANGE
	scan scan-counts --regions 220100 --tables SPGL_XMJBXXB --from 2026-03-01 \
		--to 2026-03-05 >"$T/scan" 2>&1
}
start "$S1" --lie-counts shift
get "/spgl/v3/counts?$RANGE"
check "--lie-counts shift: each day's counts under the next day's date" \
	[ "$(days_of "$T/body")" = "$(jq '.days |= map(.date |= (strptime("%Y-%m-%d") | mktime + 86400 |
		strftime("%Y-%m-%d")))' "$T/truth.json" | days_of /dev/stdin)" ]
scan_range
check "--lie-counts shift: a checking client refuses the day outside the range" \
	grep -q 'REFUSED 220100/SPGL_XMJBXXB: day 2026-03-06 is outside' "$T/scan"
batch "$T/gf1.json" gf1 2026-11-03 "$REC"
post "$T/gf1.json" --verify-receipt
check "GET faults leave batches alone" grep -q '^receipt: verified' "$T/out"
stop
start "$S1" --lie-counts outside
get "/spgl/v3/counts?$RANGE"
check "--lie-counts outside: the day before from and the day after to listed" \
	[ "$(field '[.days[0].date, .days[-1].date] | join(",")')" = "2026-02-28,2026-03-06" ]
check "--lie-counts outside: totals include them" \
	[ "$(field .total.records)" = $(($(jq .total.records "$T/truth.json") + 2)) ]
scan_range
check "--lie-counts outside: a checking client refuses" grep -q 'REFUSED .*day 2026-02-28 is outside' "$T/scan"
stop
start "$S1" --lie-counts plus-one
get "/spgl/v3/counts?$RANGE"
first=$(field '.days[0].date')
check "--lie-counts plus-one: one record more on the first day, and in the total" \
	[ "$(field '.days[0].records') $(field .total.records)" = \
		"$(($(jq '.days[0].records' "$T/truth.json") + 1)) $(($(jq .total.records "$T/truth.json") + 1))" ]
scan_range
check "--lie-counts plus-one: consistent in itself (scan-counts cannot see it)" grep -q '^counts: 1 requests' "$T/scan"
scan scan-keys --region 220100 --table SPGL_XMJBXXB --date "$first" >"$T/scan" 2>&1
check "--lie-counts plus-one: the keys listing has one fewer than the counts say" \
	grep -q "^keys: $(($(field '.days[0].records') - 1)) keys listed" "$T/scan"
stop
start "$S1" --lie-counts total
scan_range
check "--lie-counts total: a checking client refuses days that do not add up" \
	grep -q 'REFUSED .*do not add up to the total' "$T/scan"
stop
start "$S1" --lie-counts total:0.5 --seed 3
s=
for n in 1 2 3 4 5 6 7 8 9 10; do
	get "/spgl/v3/counts?$RANGE"
	s="$s$(field '.total.records - ([.days[].records] | add)')"
done
check "--lie-counts total:0.5: some answers lie, some not ($s)" sh -c "echo $s | grep -q 0 && echo $s | grep -q 1"
stop

start "$S1" --lie-keys loop
scan scan-keys --region 220100 --table SPGL_XMJBXXB --date 2026-04-01 --blind \
	--max-pages 7 >"$T/scan" 2>&1
check "--lie-keys loop: a client following next blindly never ends" \
	[ $? = 6 ] && grep -q 'did not end' "$T/scan"
scan scan-keys --region 220100 --table SPGL_XMJBXXB --date 2026-04-01 >"$T/scan" 2>&1
check "--lie-keys loop: a checking client refuses the looping next on page 2" \
	grep -q 'REFUSED page 2: next "BIG-220100-XMJBXXB-0000000" is not the last key' "$T/scan"
scan scan-keys --region 220100 --table SPGL_XMJBXXB --date 2026-03-02 >"$T/scan" 2>&1
check "--lie-keys loop: a one-page day loops too" grep -q 'REFUSED page 1: next' "$T/scan"
stop
start "$S1" --lie-keys repeat
scan scan-keys --region 220100 --table SPGL_XMJBXXB --date 2026-04-01 --blind >"$T/scan" 2>&1
check "--lie-keys repeat: a blind client lists a key twice" \
	grep -q '^keys: 6001 keys listed (6000 distinct) in 2 pages' "$T/scan"
scan scan-keys --region 220100 --table SPGL_XMJBXXB --date 2026-04-01 >"$T/scan" 2>&1
check "--lie-keys repeat: a checking client refuses the repeated key" \
	grep -q 'REFUSED page 2: key "BIG-220100-XMJBXXB-0004999" is not after' "$T/scan"
stop
start "$S1" --slow-query-ms 1500
T0=$(date +%s%N)
scan scan-keys --region 220100 --table SPGL_XMJBXXB --date 2026-03-02 --timeout 1 >"$T/scan" 2>&1
check "--slow-query-ms 1500: a 1 s client timeout fires" [ $? = 4 ] && grep -q '^TRANSPORT' "$T/scan"
get "/spgl/v3/counts?$RANGE"
T1=$(date +%s%N)
check "--slow-query-ms 1500: answered after 1.5 s" [ "$code" = 200 -a $(((T1 - T0) / 1000000)) -ge 2500 ]
batch "$T/gf2.json" gf2 2026-11-03 "$REC"
T0=$(date +%s%N)
post "$T/gf2.json"
T1=$(date +%s%N)
check "--slow-query-ms: batches are not slowed" [ "$code" = 200 -a $(((T1 - T0) / 1000000)) -lt 1400 ]
stop
check "GET fault options refuse bad values" \
	sh -c "! '$SIM' serve --dir '$S1' --lie-counts sideways 2>'$T/err' && grep -q 'one of shift, outside, plus-one, total' '$T/err'"

# ======== a store of the first layout gains day_counts ========

OLD=$T/old
newdir "$OLD"
sqlite3 "$OLD/national.db" "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL;
	PRAGMA application_id = 1397771859;
	CREATE TABLE versions(region TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL,
	 version INTEGER NOT NULL, digest TEXT NOT NULL, day TEXT NOT NULL, valid INTEGER NOT NULL,
	 data BLOB NOT NULL, gateway TEXT NOT NULL, batch_id TEXT NOT NULL, received_at TEXT NOT NULL,
	 UNIQUE(region, tbl, key, version));
	CREATE TABLE current(region TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL,
	 version INTEGER NOT NULL, digest TEXT NOT NULL, day TEXT NOT NULL, valid INTEGER NOT NULL,
	 moves INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(region, tbl, key)) WITHOUT ROWID;
	CREATE INDEX current_day ON current(region, tbl, day, key, digest, valid);
	INSERT INTO versions VALUES('220100', 'SPGL_XMJBXXB', 'K1', 1, 'sm3:1', '2026-05-01', 1, '{}', 'gw1', 'b', 'x'),
	 ('220100', 'SPGL_XMJBXXB', 'K2', 1, 'sm3:2', '2026-05-01', 0, '{}', 'gw1', 'b', 'x'),
	 ('220100', 'SPGL_XMJBXXB', 'K3', 1, 'sm3:3', '2026-05-02', 1, '{}', 'gw1', 'b', 'x');
	INSERT INTO current(region, tbl, key, version, digest, day, valid)
	 SELECT region, tbl, key, version, digest, day, valid FROM versions;" >/dev/null
start "$OLD"
get '/spgl/v3/counts?region=220100&table=SPGL_XMJBXXB&from=2026-05-01&to=2026-05-31'
check "layout 0 store: counts after the migration" \
	[ "$(days_of "$T/body")" = "2026-05-01=2/1,2026-05-02=1/1" ]
stop
check "layout 0 store: now layout 1, counts drift 0" \
	[ "$(sqlite3 "$OLD/national.db" "PRAGMA user_version") $(total counts_drift)" = "1 0" ]

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
