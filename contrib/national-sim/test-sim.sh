#!/bin/sh
# The national-platform simulator against PROTOCOL.md, end to end over HTTPS on loopback:
# identity and signing checks in their order, batch shape, per-record results, receipts
# (checked by spgw-sim-client and by the openssl CLI), idempotent batch ids, counts and keys,
# limits, and every fault flag.
#
#   sh contrib/national-sim/test-sim.sh BUILD_DIR
#
# BUILD_DIR holds contrib/national-sim/spgw-national-sim and spgw-sim-client. Needs openssl,
# curl, jq and gzip (exit 77, "skipped", without them). Prints one line per check and exits
# non-zero when any check failed.
set -u

B=${1:?usage: test-sim.sh BUILD_DIR}
SIM=$B/contrib/national-sim/spgw-national-sim
CLI=$B/contrib/national-sim/spgw-sim-client
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
CASES=$SRC/tests/cases/validate

for tool in openssl curl jq gzip; do
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

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
