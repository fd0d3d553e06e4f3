#!/bin/sh
# The daemon end to end: `spgw run` against the national simulator on loopback, with export
# file sources, as systemd would run it (a notify socket with a watchdog), through reloads
# good and bad, stops during large uploads, a plugin that hangs, the platform down, the
# ledger locked and the state directory filling up. After each stop the simulator's store
# and the ledger are compared: everything delivered exactly once.
. "$(dirname "$0")/lib.sh"
: "${SPGW_SIM:?}" "${SPGW_TEST_PLUGINS:?}"
SIM=$SPGW_SIM
SCHEMA=$SPGW_SRC/config/schema/spgl-v3.json
sim_pid=
gw_pid=
nl_pid=
stop_sim() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	sim_pid=
}
cleanup() {
	[ -n "$gw_pid" ] && kill -9 "$gw_pid" 2>/dev/null
	[ -n "$nl_pid" ] && kill "$nl_pid" 2>/dev/null
	stop_sim
	[ -n "${MNT:-}" ] && umount "$MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...: until COMMAND succeeds; 1 when it never did.
wait_for() {
	n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

HTTP_PORT=
gateway_file() {
	cat > "$T/spgw.json" <<JSON
{ "state_dir": "${STATE:-state}", "sources_dir": "sources",
  "mappings_dir": "$SPGW_SRC/config/mappings", "schema": "$SCHEMA",
  "log": { "level": "info" },
  "daemon": { "listen": "127.0.0.1:$HTTP_PORT", "drain_seconds": ${DRAIN:-20},
    "upload_idle_seconds": 1, "halt_retry_seconds": 5,
    "alarms": { "failed_runs": 1, "plugin_restarts": 1, "disk_free_mb": ${DISK_MB:-0} } },
  "national": { "url": "https://127.0.0.1:$port/spgl/v3", "gateway_id": "220000-01",
    "national_public_key": "${NATPUB:-nat/national.pub}", "ca_file": "nat/ca.pem"
    ${CLIENT_CERT:-}, "retry_base_ms": 100, "retry_max_ms": ${RETRY_MAX:-1000}, "timeout": 5 } }
JSON
}

# start_sim [FAULTS...]: the simulator on its port (a free one the first time).
start_sim() {
	stop_sim
	rm -f "$T/port.new"
	"$SIM" serve --dir "$T/${NAT:-nat}" --listen "127.0.0.1:${port:-0}" --port-file "$T/port.new" \
		--schema "$SCHEMA" --quiet "$@" >>"$T/sim.log" 2>&1 &
	sim_pid=$!
	wait_for 10 test -s "$T/port.new" || { echo "simulator did not start"; exit 1; }
	port=$(cat "$T/port.new")
}

# a city of N projects from the generator, on a schedule of every minute
city() {
	"$SPGW_GEN" --out "$T/drops/$1" --region "$1" --projects "$2" --seed "${3:-1}" \
		--dirty 0 >/dev/null
	cat > "$T/sources/files-$1.json" <<JSON
{ "plugin": "files", "region": "$1", "mapping": "files-demo.json",
  "settings": { "dir": "$T/drops/$1", "encoding": "auto", "stable_seconds": 0 },
  "schedule": { "pull": "* * * * *", "jitter": 1 } }
JSON
}

start_gw() {
	: > "$T/gw.err"
	NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=4000000 \
		"$SPGW" -c "$T/spgw.json" run >>"$T/gw.out" 2>>"$T/gw.err" &
	gw_pid=$!
}
# stop_gw: SIGTERM and wait; sets gw_rc and gw_secs
stop_gw() {
	t0=$(date +%s)
	kill -TERM "$gw_pid"
	wait "$gw_pid"
	gw_rc=$?
	gw_secs=$(($(date +%s) - t0))
	gw_pid=
}
spgw() { "$SPGW" -c "$T/spgw.json" "$@"; }
st() { spgw status --json 2>/dev/null | jq -r "$1"; }
pending_all() { st '.totals.pending + .totals.held + .totals.in_flight'; }
all_delivered() { [ "$(pending_all)" = 0 ] && [ "$(st .totals.delivered)" -gt 0 ]; }
sim_total() { "$SIM" stats --dir "$T/${NAT:-nat}" --json | jq -r ".total.$1"; }
exactly_once() {
	check "$1: national versions = ledger delivered" \
		"$(sql "SELECT count(*) FROM outbox WHERE state = 'delivered'")" "$(sim_total versions)"
	check "$1: no version stored twice" 0 "$(sim_total stored_twice)"
}
notified() { grep -q "$1" "$T/notify.log"; }

mkdir -p "$T/sources" "$T/state"
cd "$T"
"$SIM" init --dir "$T/nat" >/dev/null
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
port=1
gateway_file
spgw keygen >/dev/null 2>&1
"$SIM" register --dir "$T/nat" --gateway 220000-01 --key "$T/state/keys/gateway.pub" \
	--regions '22*' >/dev/null
port=
start_sim
gateway_file
# systemd's side of sd_notify: a datagram socket whose messages go to notify.log
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$T/notify" "$T/notify.log" &
nl_pid=$!
wait_for 5 test -S "$T/notify"

# 1. start: READY, the first pulls at once, everything delivered, the watchdog fed
city 220100 60 1
city 220200 60 2
start_gw
wait_for 10 notified READY=1 && ok "READY=1 sent to the notify socket" || not_ok "no READY=1"
wait_for 60 all_delivered && ok "both cities pulled at start and delivered" ||
	not_ok "not delivered: $(spgw status 2>&1 | tail -3)"
exactly_once "first round"
wait_for 10 notified WATCHDOG=1 && ok "the watchdog is fed" || not_ok "no WATCHDOG=1"
notified STATUS= && ok "STATUS lines sent" || not_ok "no STATUS"
check "status: the daemon runs" running "$(st .daemon.state)"
check "status: a last pull per source" 2 \
	"$(st '[.regions[].sources[] | select(.last_run.result == "ok")] | length')"
[ "$(st '[.regions[].sources[].next_run | select(. != null)] | length')" = 2 ] &&
	ok "status: a next run per source" || not_ok "no next run: $(spgw status)"
curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null && ok "/healthz 200" || not_ok "/healthz"
curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" > "$T/metrics"
grep -q '^spgw_outbox_records{phase="delivered",region="220100",table="SPGL_XMJBXXB"} 60$' \
	"$T/metrics" && ok "/metrics: delivered by region and table" ||
	not_ok "/metrics: $(grep outbox_records "$T/metrics" | head -3)"
grep -q '^spgw_upload_request_seconds_bucket' "$T/metrics" && ok "/metrics: latency histogram" ||
	not_ok "/metrics: no latency histogram"
curl -sf "http://127.0.0.1:$HTTP_PORT/status" | jq -e '.totals.delivered > 0' >/dev/null &&
	ok "/status serves the status document" || not_ok "/status"

# 2. a reload with a broken file: refused with file:line:col, the old configuration runs on
printf '{ "plugin": "files", "region": "220300",\n  "mapping": oops }\n' > "$T/sources/broken.json"
kill -HUP "$gw_pid"
wait_for 20 grep -q "reload refused" "$T/gw.err" && ok "broken reload refused" ||
	not_ok "no refusal: $(tail -3 "$T/gw.err")"
grep -q "broken.json:2:" "$T/gw.err" && ok "the refusal names file:line" ||
	not_ok "no file:line in $(grep -i configuration "$T/gw.err" | head -2)"
wait_for 20 sh -c "\"$SPGW\" -c \"$T/spgw.json\" status --json 2>/dev/null | jq -e '.alarms[] | select(.name == \"reload_refused\")'" &&
	ok "alarm reload_refused" || not_ok "no reload_refused alarm"
kill -0 "$gw_pid" && ok "still running on the old configuration" || not_ok "daemon died"
grep -q RELOADING=1 "$T/notify.log" && ok "RELOADING=1 sent" || not_ok "no RELOADING=1"
rm "$T/sources/broken.json"

# 3. a good reload: a city added, one removed, the added one pulled and delivered
city 220300 40 3
rm "$T/sources/files-220200.json"
kill -HUP "$gw_pid"
wait_for 20 grep -q "reload: applied" "$T/gw.err" && ok "good reload applied" ||
	not_ok "reload: $(tail -3 "$T/gw.err")"
grep -q "files-220300.*source added" "$T/gw.err" && ok "reload reports the added source" ||
	not_ok "added not reported"
grep -q "files-220200.*source removed" "$T/gw.err" && ok "reload reports the removed source" ||
	not_ok "removed not reported"
wait_for 60 sh -c "[ \"\$(sqlite3 \"$T/state/spgw.db\" \"SELECT count(*) FROM outbox WHERE region = '220300' AND state = 'delivered'\")\" -gt 0 ]" &&
	ok "the added city is pulled and delivered" || not_ok "220300 not delivered"
wait_for 20 sh -c "! \"$SPGW\" -c \"$T/spgw.json\" status --json 2>/dev/null | jq -e '.alarms[] | select(.name == \"reload_refused\")'" &&
	ok "reload_refused cleared by the good reload" || not_ok "reload_refused still up"
wait_for 30 all_delivered
exactly_once "after reloads"

# 4. SIGTERM during a large upload: exit 0 within the drain time; a restart finishes it and
# nothing is stored twice
stop_sim
start_sim --slow-ms 2000
city 220400 1500 4
kill -HUP "$gw_pid"
wait_for 60 sh -c "[ \"\$(sqlite3 \"$T/state/spgw.db\" \"SELECT count(*) FROM batches WHERE state = 'done' AND region = '220400'\")\" -gt 0 ]" ||
	not_ok "the large upload did not start"
stop_gw
check "SIGTERM during an upload: exit 0" 0 "$gw_rc"
[ "$gw_secs" -le 22 ] && ok "drained within drain_seconds ($gw_secs s)" ||
	not_ok "drain took $gw_secs s"
grep -q STOPPING=1 "$T/notify.log" && ok "STOPPING=1 sent" || not_ok "no STOPPING=1"
[ "$(pending_all)" -gt 0 ] && ok "records were left to deliver ($(pending_all))" ||
	not_ok "the upload finished before the stop: the case tested nothing"
exactly_once "after the stop"
start_sim
start_gw
wait_for 120 all_delivered && ok "a restart delivers the rest" || not_ok "rest not delivered"
exactly_once "after the restart"

# 5. a second SIGTERM exits at once, losing nothing
stop_sim
start_sim --slow-ms 2000
city 220500 800 5
kill -HUP "$gw_pid"
wait_for 60 sh -c "[ \"\$(sqlite3 \"$T/state/spgw.db\" \"SELECT count(*) FROM batches WHERE region = '220500'\")\" -gt 0 ]"
t0=$(date +%s)
kill -TERM "$gw_pid"
sleep 0.3
kill -TERM "$gw_pid"
wait "$gw_pid"
check "second SIGTERM: exit 0" 0 $?
[ $(($(date +%s) - t0)) -le 3 ] && ok "second SIGTERM: out at once" || not_ok "second SIGTERM slow"
gw_pid=
sqlite3 "$T/state/spgw.db" "PRAGMA integrity_check" | grep -qx ok &&
	ok "ledger intact after the second SIGTERM" || not_ok "ledger damaged"
start_sim
start_gw
wait_for 120 all_delivered && ok "second SIGTERM: a restart delivers the rest" ||
	not_ok "rest not delivered"
exactly_once "after the second SIGTERM"

# 6. the national platform down: backoff grows to its cap, then everything goes
stop_sim
city 220600 200 6
kill -HUP "$gw_pid"
sleep 12
curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" > "$T/metrics"
tries=$(awk '/^spgw_upload_retries_total\{cause="transport"\}/ { print $2 }' "$T/metrics")
tries=${tries:-0}
# 12 s with the backoff capped at 1 s (full jitter: 0.5 s on average) and one probe at a
# time once the platform failed: about 24 attempts, not 4 transfers each time
[ "$tries" -gt 0 ] && [ "$tries" -le 40 ] && ok "platform down: $tries retries in 12 s (bounded)" ||
	not_ok "platform down: $tries retries"
start_sim
wait_for 60 all_delivered && ok "platform back: everything delivered" || not_ok "not delivered"
exactly_once "after the outage"

# 7. a plugin that hangs every run: reported with an alarm, the others go on
cat > "$T/sources/hang.json" <<JSON
{ "plugin": "$SPGW_TEST_PLUGINS/hang.so", "region": "220700", "mapping": "files-demo.json",
  "timeout": 2, "schedule": { "pull": "* * * * *" } }
JSON
city 220800 30 8
kill -HUP "$gw_pid"
wait_for 30 sh -c "\"$SPGW\" -c \"$T/spgw.json\" status --json 2>/dev/null | jq -e '.alarms[] | select(.name == \"source_failing\" and .subject == \"hang\")'" &&
	ok "a hanging plugin raises source_failing" || not_ok "no alarm for the hanging plugin"
st '.regions[] | select(.region == "220700") | .sources[0].last_run.message' | grep -qi "time\|hang\|stopped" &&
	ok "its last run says why" || not_ok "last run: $(st '.regions[] | select(.region == "220700")')"
wait_for 60 sh -c "[ \"\$(sqlite3 \"$T/state/spgw.db\" \"SELECT count(*) FROM outbox WHERE region = '220800' AND state = 'delivered'\")\" -gt 0 ]" &&
	ok "the other sources go on" || not_ok "220800 not delivered"
rm "$T/sources/hang.json"
kill -HUP "$gw_pid"

# 8. alarms from what the platform answers, certificates expiring, and the platform's key
# rotated without a restart
alarm_up() {
	"$SPGW" -c "$T/spgw.json" status --json 2>/dev/null |
		jq -e --arg n "$1" '.alarms[] | select(.name == $n)' >/dev/null
}
alarm_down() { ! alarm_up "$1"; }
start_sim --force-status 401
city 220102 20 10
kill -HUP "$gw_pid"
wait_for 40 alarm_up identity_refused && ok "401: alarm identity_refused" ||
	not_ok "no identity_refused alarm"
start_sim --clock-offset 150
kill -HUP "$gw_pid"
wait_for 40 alarm_down identity_refused && ok "identity_refused cleared once sending works" ||
	not_ok "identity_refused stays"
wait_for 40 alarm_up clock_skew && ok "clock 150 s off: alarm clock_skew" || not_ok "no clock_skew"
grep -q 'spgw_clock_skew_seconds 15[01]' "$T/metrics" 2>/dev/null || true
curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | grep -Eq '^spgw_clock_skew_seconds 1(49|50|51)$' &&
	ok "/metrics: clock skew" || not_ok "/metrics: clock skew missing"
start_sim
# a client certificate that expires in 5 days
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 \
	-subj /CN=spgw-test -keyout "$T/client.key" -out "$T/client.pem" 2>/dev/null
CLIENT_CERT=", \"client_cert\": \"client.pem\", \"client_key\": \"client.key\"" gateway_file
city 220104 5 12
kill -HUP "$gw_pid"
wait_for 40 alarm_down clock_skew && ok "clock_skew cleared" || not_ok "clock_skew stays"
wait_for 40 alarm_up expiring && ok "a certificate expiring in 5 days: alarm" ||
	not_ok "no expiring alarm"
wait_for 20 sh -c "curl -sf http://127.0.0.1:$HTTP_PORT/metrics |
	grep -q '^spgw_certificate_days_left{file=\".*client.pem\"} [45]\\.'" &&
	ok "/metrics: certificate days left" || not_ok "/metrics: no days left for client.pem"
gateway_file
kill -HUP "$gw_pid"
wait_for 40 alarm_down expiring && ok "expiring cleared with the certificate gone" ||
	not_ok "expiring stays"
# the platform signs receipts with a new key; the gateway still has the old one
mkdir -p "$T/natpub"
cp "$T/nat/national.pub" "$T/natpub/national.pub"
NATPUB=natpub/national.pub gateway_file
kill -HUP "$gw_pid"
wait_for 30 all_delivered
stop_sim
openssl genpkey -algorithm SM2 -out "$T/nat/national.key" 2>/dev/null
chmod 600 "$T/nat/national.key"
openssl pkey -in "$T/nat/national.key" -pubout -out "$T/nat/national.pub" 2>/dev/null
start_sim
city 220103 20 11
kill -HUP "$gw_pid"
wait_for 40 alarm_up receipt_unverified && ok "receipts under a new key: alarm" ||
	not_ok "no receipt_unverified alarm"
[ "$(pending_all)" -gt 0 ] && ok "their records stay pending" || not_ok "records settled"
cp "$T/nat/national.pub" "$T/natpub/national.pub"
kill -HUP "$gw_pid"
wait_for 60 all_delivered && ok "the new key after a reload: delivered" || not_ok "not delivered"
wait_for 40 alarm_down receipt_unverified && ok "receipt_unverified cleared" ||
	not_ok "receipt_unverified stays"
exactly_once "after the key rotation"
NATPUB=natpub/national.pub spgw receipts verify > "$T/verify" 2>&1
check "receipts verify after the rotation: exit 0" 0 $?
grep -q "since rotated" "$T/verify" && ok "old receipts verified with the key they came with" ||
	not_ok "verify: $(cat "$T/verify")"

# 8. the ledger locked by someone else: /healthz fails and the watchdog stops, then recovers
sleep 1
: > "$T/notify.log"
(echo "BEGIN EXCLUSIVE;"; sleep 45; echo "COMMIT;") | sqlite3 "$T/state/spgw.db" &
lock_pid=$!
wait_for 40 sh -c "! curl -sf http://127.0.0.1:$HTTP_PORT/healthz" &&
	ok "/healthz fails while the ledger does not answer" || not_ok "/healthz stayed ok"
: > "$T/notify.log"
sleep 5
notified WATCHDOG=1 && not_ok "the watchdog was fed while the ledger was stuck" ||
	ok "no WATCHDOG=1 while the ledger is stuck"
wait "$lock_pid"
wait_for 40 curl -sf "http://127.0.0.1:$HTTP_PORT/healthz" && ok "/healthz recovers" ||
	not_ok "/healthz did not recover"
wait_for 10 notified WATCHDOG=1 && ok "the watchdog is fed again" || not_ok "no WATCHDOG=1 after"
stop_gw
check "final stop: exit 0" 0 "$gw_rc"
check "status after the stop: stopped" stopped "$(st .daemon.state)"

# 9. the state directory filling up (a small tmpfs; needs root): pulls pause with an alarm
# and resume when there is room, nothing lost
MNT=$T/small
mkdir -p "$MNT"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=24m tmpfs "$MNT" 2>/dev/null; then
	# a fresh ledger and a fresh national store, the same gateway key
	mkdir -p "$MNT/keys"
	cp -a "$T/state/keys/." "$MNT/keys/"
	NAT=nat2
	"$SIM" init --dir "$T/nat2" >/dev/null
	"$SIM" register --dir "$T/nat2" --gateway 220000-01 --key "$MNT/keys/gateway.pub" \
		--regions '22*' >/dev/null
	start_sim
	rm -f "$T"/sources/*.json
	STATE=$MNT DISK_MB=8 gateway_file
	sed -i "s|nat/national.pub|nat2/national.pub|; s|nat/ca.pem|nat2/ca.pem|" "$T/spgw.json"
	sql() { sqlite3 -batch -noheader "$MNT/spgw.db" "$1"; }
	free_mb=$(($(stat -f -c '%a * %S' "$MNT" | sed 's/ //g') / 1048576))
	dd if=/dev/zero of="$MNT/filler" bs=1M count=$((free_mb - 4)) 2>/dev/null
	city 222400 100 9
	start_gw
	wait_for 30 sh -c "\"$SPGW\" -c \"$T/spgw.json\" status --json 2>/dev/null | jq -e '.alarms[] | select(.name == \"disk_low\")'" &&
		ok "disk low: alarm" || not_ok "no disk_low alarm"
	wait_for 10 grep -q "pulls paused" "$T/gw.err" && ok "disk low: pulls paused" ||
		not_ok "pulls not paused: $(tail -3 "$T/gw.err")"
	check "disk low: nothing of the new city stored" 0 \
		"$(sql "SELECT count(*) FROM outbox WHERE region = '222400'")"
	rm "$MNT/filler"
	wait_for 60 sh -c "[ \"\$(sqlite3 \"$MNT/spgw.db\" \"SELECT count(*) FROM outbox WHERE region = '222400' AND state = 'delivered'\")\" -gt 0 ]" &&
		ok "room again: pulls resume and deliver" || not_ok "did not resume"
	grep -q "pulls resumed" "$T/gw.err" && ok "room again: said so" || not_ok "no resume line"
	wait_for 30 all_delivered
	stop_gw
	exactly_once "after the disk filled"
	sqlite3 "$MNT/spgw.db" "PRAGMA integrity_check" | grep -qx ok && ok "ledger intact" ||
		not_ok "ledger damaged"
else
	echo "# skipped: the state directory filling up needs root to mount a small tmpfs"
fi
finish
