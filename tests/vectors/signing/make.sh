#!/bin/sh
# Signature test vectors for PROTOCOL.md §1 (request signatures), §2 (receipts) and §5
# (SM2 signer id, digest pairing), made with the openssl command line, base64 and the shell
# alone: no spgw code is involved, so the vectors check spgw instead of echoing it.
# tests/vectors/README.md ("Signature vectors") says what each file holds.
#
#   sh tests/vectors/signing/make.sh          write every case, then check them all
#   sh tests/vectors/signing/make.sh check    only check the cases as they are
#
# Keys: only public.pem is kept in git. A private.pem left by an earlier run in this checkout
# is reused, so running again only re-signs; in a fresh checkout new keys are made and every
# vector changes (equally valid). SM2 and ECDSA signatures are randomized; Ed25519 gives the
# same bytes for the same key. private.pem is test-only and git-ignored.
#
# `check` also runs the national simulator's client, when SPGW_SIM_CLIENT names it and the
# private keys of this checkout's last run are there, on every good request case: its own code (contrib/national-sim/sim_crypto.c) must give the same
# content digest, and for Ed25519, which is deterministic, the same signature header.
# It cannot check receipts offline: its --verify-receipt needs a live 200 answer.
#
# Needs OpenSSL 3 (SM2 and SM3, pkeyutl -rawin -digest, -pkeyopt distid).
set -eu

cd "$(dirname "$0")"
LC_ALL=C
export LC_ALL

SM2_ID=1234567812345678 # PROTOCOL.md §5: request signatures and receipts alike
GATEWAY=220000-01
METHOD=POST
REQ_PATH=/spgl/v3/batches
TIMESTAMP=1795348800 # 2026-11-22T12:00:00Z
RECEIVED_AT=2026-11-22T12:00:01Z
ALGS="sm2-sm3 ecdsa-p256-sha256 ed25519"

# Two SPGL_XMJBXXB records (both pass spgw's schema checks), written already in canonical
# form: keys sorted, no white space, integral numbers as plain digits (SPLCBBH 2.0 is 2).
# A record's digest is the digest of exactly these bytes (tests/vectors/README.md).
REC1='{"DFSJZJ":"CC-2026-000123","GBHY":"4710","GBHYDMFBND":"2017","GCDM":"2020-220104-47-01-000123","GCFL":23,"JSDD":"吉林省长春市朝阳区红旗街道西安大路以南、繁荣路以东","JSDDXZQH":"220104","JSDW":"长春市朝阳区教育局","JSDWDM":"11220000MB1234567E","JSDWLX":1,"JSGMJNR":"新建四层教学楼一栋，建筑面积 8600 平方米，含普通教室 36 间、专用教室 12 间及配套室外工程。","JSXZ":2,"JZMJ":8600,"LXLX":1,"NJCSJ":"2027-09-30","NKGSJ":"2026-04-01","QJDGCDM":"","SBSJ":"2026-11-03","SFWCQYPG":0,"SFXXGC":0,"SJWXYY":null,"SJYXBS":1,"SPLCBBH":2,"SPLCBM":"JL-ZFTZ-FW","SPLCLX":1,"TDHQFS":2,"TDSFDSJFA":0,"XMDM":"2020-220104-47-01-000123","XMJWDZB":"125.2893,43.8508","XMMC":"长春市朝阳区第一实验小学教学楼改扩建工程","XMSFWQBJ":0,"XMTZLY":1,"XMZJSX":1,"XZQHDM":"220100","YDMJ":15230.25,"ZTZE":12850.5}'
REC2='{"DFSJZJ":"CC-2026-000124","GBHY":"4710","GBHYDMFBND":"2017","GCDM":"2026-220104-47-01-000124","GCFL":23,"JSDD":"吉林省长春市朝阳区红旗街道西安大路以南、繁荣路以东","JSDDXZQH":"220104","JSDW":"长春市朝阳区教育局","JSDWDM":"11220000MB1234567E","JSDWLX":1,"JSGMJNR":"改造 400 米标准运动场一处，含看台及照明。","JSXZ":2,"JZMJ":1200,"LXLX":1,"NJCSJ":"2027-09-30","NKGSJ":"2026-04-01","QJDGCDM":"","SBSJ":"2026-11-03","SFWCQYPG":0,"SFXXGC":0,"SJWXYY":null,"SJYXBS":1,"SPLCBBH":2,"SPLCBM":"JL-ZFTZ-FW","SPLCLX":1,"TDHQFS":2,"TDSFDSJFA":0,"XMDM":"2026-220104-47-01-000124","XMJWDZB":"125.2893,43.8508","XMMC":"长春市朝阳区第二实验小学运动场改造工程","XMSFWQBJ":0,"XMTZLY":1,"XMZJSX":1,"XZQHDM":"220100","YDMJ":9800,"ZTZE":860.75}'

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# ---- per algorithm ----

# The digest an algorithm pairs with (§5), as named in headers and record digests.
digest_name() {
	case $1 in
	sm2-sm3) echo sm3 ;;
	*) echo sha-256 ;;
	esac
}

# The openssl dgst option for a digest name.
dgst_opt() {
	case $1 in
	sm3) echo -sm3 ;;
	*) echo -sha256 ;;
	esac
}

# pkeyutl options for signing or verifying with an algorithm: SM2 hashes with SM3 after
# Z, which covers the signer id; ECDSA hashes with SHA-256; Ed25519 signs the message itself.
# $2 "empty-id" leaves the SM2 id unset: OpenSSL's default, the empty id.
sig_opts() {
	case $1 in
	sm2-sm3)
		if [ "${2:-}" = empty-id ]; then
			echo "-digest sm3"
		else
			echo "-digest sm3 -pkeyopt distid:$SM2_ID"
		fi ;;
	ecdsa-p256-sha256) echo "-digest sha256" ;;
	ed25519) echo "" ;;
	esac
}

genpkey_opts() {
	case $1 in
	sm2-sm3) echo "-algorithm SM2" ;;
	ecdsa-p256-sha256) echo "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" ;;
	ed25519) echo "-algorithm ED25519" ;;
	esac
}

# b64 FILE: standard base64 with padding, on one line, no newline.
b64() {
	base64 <"$1" | tr -d '\n'
}

# digest_b64 NAME FILE: the content digest value of a file's bytes.
digest_b64() {
	openssl dgst "$(dgst_opt "$1")" -binary "$2" | base64 | tr -d '\n'
}

# digest_hex NAME: the lowercase hex digest of stdin.
digest_hex() {
	openssl dgst "$(dgst_opt "$1")" -r | cut -d' ' -f1
}

# ---- keys and signatures ----

# keypair ALG DIR: DIR/private.pem (made once, then kept) and DIR/public.pem from it. The
# private key carries a line of explanatory text before its PEM block (RFC 7468 §2 lets
# parsers skip it; OpenSSL does).
keypair() {
	mkdir -p "$2"
	if [ ! -f "$2/private.pem" ]; then
		# shellcheck disable=SC2046
		openssl genpkey $(genpkey_opts "$1") -out "$TMP/new.pem"
		{
			echo "TEST KEY ONLY, published with spgw's test vectors: never use it."
			cat "$TMP/new.pem"
		} >"$2/private.pem"
		chmod 600 "$2/private.pem"
	fi
	openssl pkey -in "$2/private.pem" -pubout -out "$2/public.pem"
}

# copy_keys FROM TO: a derived case signs with the key of the case it derives from.
copy_keys() {
	mkdir -p "$2"
	cp "$1/private.pem" "$1/public.pem" "$2/"
	chmod 600 "$2/private.pem"
}

# sign ALG DIR [MODE]: DIR/signature.b64, a signature of DIR/signed.txt with DIR's key;
# MODE empty-id signs SM2 with OpenSSL's default id instead of the protocol's.
sign() {
	# shellcheck disable=SC2046
	openssl pkeyutl -sign -rawin $(sig_opts "$1" "${3:-}") -inkey "$2/private.pem" \
		-in "$2/signed.txt" -out "$TMP/sig"
	{ b64 "$TMP/sig"; echo; } >"$2/signature.b64"
}

# verifies ALG DIR: status 0 when DIR/signature.b64 verifies over DIR/signed.txt with
# DIR/public.pem as the protocol says (SM2 with the id 1234567812345678).
verifies() {
	base64 -d <"$2/signature.b64" >"$TMP/vsig"
	# shellcheck disable=SC2046
	openssl pkeyutl -verify -rawin $(sig_opts "$1" "${3:-}") -pubin -inkey "$2/public.pem" \
		-in "$2/signed.txt" -sigfile "$TMP/vsig" >/dev/null 2>&1
}

# spoil DIR: flip the lowest bit of the signature's last byte. The encoding stays well
# formed (DER: the last byte of s; Ed25519: the top byte of S, which stays below the group
# order), so the signature parses and only the mathematics fails.
spoil() {
	base64 -d <"$1/signature.b64" >"$TMP/sig"
	len=$(wc -c <"$TMP/sig")
	last=$(od -An -tu1 -j $((len - 1)) -N1 "$TMP/sig" | tr -d ' ')
	head -c $((len - 1)) "$TMP/sig" >"$TMP/spoilt"
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o' $((last ^ 1)))" >>"$TMP/spoilt"
	{ b64 "$TMP/spoilt"; echo; } >"$1/signature.b64"
}

# ---- requests (§1) ----

# body ALG BATCH_ID: a batch body of the two records, digests paired with ALG. No final
# newline: the content digest covers exactly the file's bytes.
body() {
	d=$(digest_name "$1")
	h1=$(printf '%s' "$REC1" | digest_hex "$d")
	h2=$(printf '%s' "$REC2" | digest_hex "$d")
	printf '{"batch_id":"%s","region":"220100","schema":"spgl-v3","table":"SPGL_XMJBXXB","records":[\n' "$2"
	printf '{"key":"CC-2026-000123","day":"2026-11-03","digest":"%s:%s","data":%s},\n' "$d" "$h1" "$REC1"
	printf '{"key":"CC-2026-000124","day":"2026-11-03","digest":"%s:%s","data":%s}\n' "$d" "$h2" "$REC2"
	printf ']}'
}

# request DIR ALG NONCE BATCH_ID [DIGEST] [SIGN_MODE]: one request case. DIGEST overrides
# the content digest's algorithm (to pair it wrongly); SIGN_MODE empty-id is passed to sign.
request() {
	dir=$1 alg=$2 nonce=$3 batch=$4
	dig=${5:-$(digest_name "$alg")} mode=${6:-}
	mkdir -p "$dir"
	echo "$GATEWAY" >"$dir/gateway.txt"
	echo "$METHOD" >"$dir/method.txt"
	echo "$REQ_PATH" >"$dir/path.txt"
	echo "$TIMESTAMP" >"$dir/timestamp.txt"
	echo "$nonce" >"$dir/nonce.txt"
	body "$alg" "$batch" >"$dir/body.json"
	cd_value="$dig=$(digest_b64 "$dig" "$dir/body.json")"
	echo "$cd_value" >"$dir/content-digest.txt"
	# the seven lines, joined by \n, no final newline
	printf 'SPGW1\n%s\n%s\n%s\n%s\n%s\n%s' "$METHOD" "$REQ_PATH" "$GATEWAY" "$TIMESTAMP" \
		"$nonce" "$cd_value" >"$dir/signed.txt"
	sign "$alg" "$dir" "$mode"
	echo "alg=$alg, sig=$(cat "$dir/signature.b64")" >"$dir/signature-header.txt"
}

# ---- receipts (§2) ----

# receipt DIR ALG FROM_REQUEST [empty-id]: the receipt a platform with an ALG key gives for
# the batch of request case FROM_REQUEST: 1 accepted, 1 duplicate, 0 rejected.
receipt() {
	dir=$1 alg=$2 from=$3 mode=${4:-}
	batch=$(sed -n 's/^{"batch_id":"\([^"]*\)".*/\1/p' "$from/body.json")
	cd_value=$(cat "$from/content-digest.txt")
	mkdir -p "$dir"
	printf 'SPGW1-RECEIPT\n%s\n%s\n%s\n%s\n%s\n%s' "$batch" "$RECEIVED_AT" "$cd_value" 1 1 0 \
		>"$dir/signed.txt"
	sign "$alg" "$dir" "$mode"
	receipt_json "$dir" "$batch" "$cd_value" "$alg"
}

# receipt_json DIR BATCH_ID CONTENT_DIGEST ALG: DIR/receipt.json, one member a line, as it
# appears in a 200 answer; its sig is DIR/signature.b64.
receipt_json() {
	cat >"$1/receipt.json" <<EOF
{
  "batch_id": "$2",
  "received_at": "$RECEIVED_AT",
  "content_digest": "$3",
  "accepted": 1,
  "duplicate": 1,
  "rejected": 0,
  "alg": "$4",
  "sig": "$(cat "$1/signature.b64")"
}
EOF
}

expect() {
	echo "$2" >"$1/expect.txt"
}

# bad_signature FROM TO ALG: case FROM again, its signature with one byte changed.
bad_signature() {
	rm -rf "$2"
	cp -R "$1" "$2"
	spoil "$2"
	if [ -f "$2/receipt.json" ]; then
		receipt_json "$2" "$(json_str "$1/receipt.json" batch_id)" \
			"$(json_str "$1/receipt.json" content_digest)" "$3"
	else
		echo "alg=$3, sig=$(cat "$2/signature.b64")" >"$2/signature-header.txt"
	fi
	expect "$2" bad_signature
}

# ---- the check, as another implementation would do it ----

# One value per line in these files; $(cat) drops the final newline.
val() {
	cat "$1/$2"
}

# json_str FILE NAME / json_int FILE NAME: a member of receipt.json, which has one per line.
json_str() {
	sed -n "s/^ *\"$2\": *\"\\([^\"]*\\)\".*/\\1/p" "$1"
}
json_int() {
	sed -n "s/^ *\"$2\": *\\([0-9]*\\).*/\\1/p" "$1"
}

# check_case DIR: what a receiver would answer (ok, bad_digest, bad_signature), compared with
# DIR/expect.txt. Prints one line; status 1 on a mismatch.
check_case() {
	dir=${1%/} why=
	if [ -f "$dir/body.json" ]; then
		hdr=$(val "$dir" signature-header.txt)
		alg=$(echo "$hdr" | sed -n 's/^alg=\([a-z0-9-]*\), sig=.*/\1/p')
		[ "$hdr" = "alg=$alg, sig=$(val "$dir" signature.b64)" ] ||
			why="$why; signature-header.txt is not alg=<alg>, sig=<signature.b64>"
		cdv=$(val "$dir" content-digest.txt)
		dig=${cdv%%=*}
		[ "$cdv" = "$dig=$(digest_b64 "$dig" "$dir/body.json")" ] ||
			why="$why; content-digest.txt is not the digest of body.json"
		printf 'SPGW1\n%s\n%s\n%s\n%s\n%s\n%s' "$(val "$dir" method.txt)" \
			"$(val "$dir" path.txt)" "$(val "$dir" gateway.txt)" \
			"$(val "$dir" timestamp.txt)" "$(val "$dir" nonce.txt)" "$cdv" \
			>"$TMP/signed"
		# the record digests pair with the signature algorithm too
		rec=$(digest_name "$alg")
		[ "$(grep -c "\"digest\":\"$rec:" "$dir/body.json")" = 2 ] ||
			why="$why; body.json lacks two $rec: record digests"
		if [ "$dig" != "$(digest_name "$alg")" ]; then
			got=bad_digest
			# in the vector the pairing is the only defect
			verifies "$alg" "$dir" || why="$why; the signature does not verify either"
		elif verifies "$alg" "$dir"; then
			got=ok
		else
			got=bad_signature
		fi
	else
		alg=$(json_str "$dir/receipt.json" alg)
		[ "$(json_str "$dir/receipt.json" sig)" = "$(val "$dir" signature.b64)" ] ||
			why="$why; receipt.json's sig is not signature.b64"
		printf 'SPGW1-RECEIPT\n%s\n%s\n%s\n%s\n%s\n%s' \
			"$(json_str "$dir/receipt.json" batch_id)" \
			"$(json_str "$dir/receipt.json" received_at)" \
			"$(json_str "$dir/receipt.json" content_digest)" \
			"$(json_int "$dir/receipt.json" accepted)" \
			"$(json_int "$dir/receipt.json" duplicate)" \
			"$(json_int "$dir/receipt.json" rejected)" >"$TMP/signed"
		if verifies "$alg" "$dir"; then got=ok; else got=bad_signature; fi
	fi
	cmp -s "$TMP/signed" "$dir/signed.txt" || why="$why; signed.txt is not the string rebuilt"
	# the negative SM2 id case: the signature is good, only under the wrong (empty) id
	case $dir in
	*-empty-signer-id)
		verifies "$alg" "$dir" empty-id ||
			why="$why; it does not verify with the empty id either" ;;
	esac
	want=$(val "$dir" expect.txt)
	[ "$got" = "$want" ] || why="$why; expected $want, got $got"
	if [ -n "$why" ]; then
		echo "FAIL $dir: ${why#; }"
		return 1
	fi
	echo "ok   $dir: $got"
}

# check_sim DIR: the simulator client signs the same request with its own code.
check_sim() {
	dir=${1%/}
	"$SPGW_SIM_CLIENT" --print-headers --dir "$TMP" --gateway "$(val "$dir" gateway.txt)" \
		--key "$dir/private.pem" --method "$(val "$dir" method.txt)" \
		--path "$(val "$dir" path.txt)" --body "$dir/body.json" \
		--nonce "$(val "$dir" nonce.txt)" --timestamp "$(val "$dir" timestamp.txt)" \
		>"$TMP/sim" ||
		{ echo "FAIL $dir: spgw-sim-client --print-headers failed"; return 1; }
	grep -qxF "X-SPGW-Content-Digest: $(val "$dir" content-digest.txt)" "$TMP/sim" ||
		{ echo "FAIL $dir: the simulator's content digest differs"; return 1; }
	case $dir in
	*ed25519*)
		grep -qxF "X-SPGW-Signature: $(val "$dir" signature-header.txt)" "$TMP/sim" ||
			{ echo "FAIL $dir: the simulator's Ed25519 signature differs"; return 1; }
		echo "ok   $dir: spgw-sim-client gives the same digest and signature" ;;
	*)
		echo "ok   $dir: spgw-sim-client gives the same content digest" ;;
	esac
}

check_all() {
	n=0 failed=0
	for d in */; do
		[ -f "$d/expect.txt" ] || continue
		n=$((n + 1))
		check_case "$d" || failed=$((failed + 1))
		if [ -n "${SPGW_SIM_CLIENT:-}" ] && [ -f "$d/body.json" ] &&
			[ -f "$d/private.pem" ] && [ "$(val "$d" expect.txt)" = ok ]; then
			check_sim "$d" || failed=$((failed + 1))
		fi
	done
	[ -n "${SPGW_SIM_CLIENT:-}" ] ||
		echo "(SPGW_SIM_CLIENT not set: the simulator's cross-check was not run)"
	echo "$n cases, $failed failed"
	[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
}

if [ "${1:-}" = check ]; then
	check_all
	exit
fi

# ---- the cases ----

nonce_of() {
	case $1 in
	sm2-sm3) echo 3f9a0c7e12b845d6a0e1f2c3d4b5a697 ;;
	ecdsa-p256-sha256) echo 7d2e4b1a9c0f38e56b7a1d2c3e4f5061 ;;
	ed25519) echo c41b8e2f07d95a3e6b1c0d2f4a8e9b73 ;;
	esac
}

batch_of() {
	case $1 in
	sm2-sm3) echo 01JD3Y8M6Q0000000000000001 ;;
	ecdsa-p256-sha256) echo 01JD3Y8M6Q0000000000000002 ;;
	ed25519) echo 01JD3Y8M6Q0000000000000003 ;;
	esac
}

for alg in $ALGS; do
	# a gateway with an $alg key, and its request
	keypair "$alg" "request-$alg"
	request "request-$alg" "$alg" "$(nonce_of "$alg")" "$(batch_of "$alg")"
	expect "request-$alg" ok
	bad_signature "request-$alg" "request-$alg-bad-signature" "$alg"

	# a platform with an $alg key, and its receipt for that request's batch
	keypair "$alg" "receipt-$alg"
	receipt "receipt-$alg" "$alg" "request-$alg"
	expect "receipt-$alg" ok
done

# SM2 signed with OpenSSL's default empty signer id: good under that id, refused under
# 1234567812345678 (the mistake §5 warns of)
copy_keys request-sm2-sm3 request-sm2-sm3-empty-signer-id
request request-sm2-sm3-empty-signer-id sm2-sm3 "$(nonce_of sm2-sm3)" "$(batch_of sm2-sm3)" \
	"" empty-id
expect request-sm2-sm3-empty-signer-id bad_signature

# an sm2-sm3 request with a sha-256 content digest: the digest is right for the body and the
# signature verifies over the string holding it, but the pairing is wrong (§5: 400)
copy_keys request-sm2-sm3 request-sm2-sm3-sha256-digest
request request-sm2-sm3-sha256-digest sm2-sm3 "$(nonce_of sm2-sm3)" "$(batch_of sm2-sm3)" \
	sha-256
expect request-sm2-sm3-sha256-digest bad_digest

# receipts: one byte changed; signed with the empty SM2 id
bad_signature receipt-sm2-sm3 receipt-sm2-sm3-bad-signature sm2-sm3
copy_keys receipt-sm2-sm3 receipt-sm2-sm3-empty-signer-id
receipt receipt-sm2-sm3-empty-signer-id sm2-sm3 request-sm2-sm3 empty-id
expect receipt-sm2-sm3-empty-signer-id bad_signature

check_all
