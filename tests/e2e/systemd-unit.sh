#!/bin/sh
# The systemd files as meson configured them (contrib/systemd/): the unit passes
# `systemd-analyze verify` without a warning, carries every hardening line, and keeps a low
# exposure score; the sysusers entry makes the spgw user and the tmpfiles entry gives the
# configuration directory to root:spgw 0750 (both in a scratch root, as root only).
# Exit 77 (skipped) without systemd-analyze.
#
# usage: systemd-unit.sh BUILD_SYSTEMD_DIR SOURCE_SYSTEMD_DIR
#   e.g. build/contrib/systemd contrib/systemd
# SPGW (optional): the built spgw, put into ExecStart for verify while the installed one
# does not exist yet.
set -u
build=${1:?usage: systemd-unit.sh BUILD_SYSTEMD_DIR SOURCE_SYSTEMD_DIR}
srcdir=${2:?usage: systemd-unit.sh BUILD_SYSTEMD_DIR SOURCE_SYSTEMD_DIR}
unit=$build/spgw.service
if ! command -v systemd-analyze > /dev/null 2>&1; then
	echo "skip: no systemd-analyze (Debian: apt-get install systemd)"
	exit 77
fi
[ -r "$unit" ] || { echo "not ok - $unit does not exist: configure with meson first"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/spgw-unit.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

# Each line exactly once, as a whole line.
for line in \
	'Type=notify' 'NotifyAccess=main' 'ExecReload=/bin/kill -HUP $MAINPID' \
	'WatchdogSec=60' 'TimeoutStopSec=90' 'KillMode=mixed' 'Restart=on-failure' \
	'User=spgw' 'Group=spgw' 'StateDirectory=spgw' 'StateDirectoryMode=0700' \
	'ConfigurationDirectory=spgw' 'UMask=0077' 'LimitCORE=0' \
	'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' \
	'NoNewPrivileges=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
	'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'RestrictNamespaces=yes' \
	'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' 'SystemCallArchitectures=native' \
	'CapabilityBoundingSet=' 'WantedBy=multi-user.target'; do
	n=$(grep -cxF -- "$line" "$unit")
	if [ "$n" = 1 ]; then ok "$line"; else not_ok "\"$line\" is in the unit $n times, not once"; fi
done
exec_line=$(grep '^ExecStart=' "$unit")
case $exec_line in
"ExecStart=/"*"/spgw -c /"*"/spgw/spgw.json run") ok "$exec_line" ;;
*) not_ok "ExecStart is \"$exec_line\", not \"<bindir>/spgw -c <sysconfdir>/spgw/spgw.json run\"" ;;
esac
if grep -n '@[a-z]*@' "$unit" "$build/spgw.tmpfiles"; then
	not_ok "placeholders left unsubstituted (above)"
else
	ok "every @placeholder@ substituted"
fi

# verify wants ExecStart's program to exist: before installation, the built one stands in.
bin=${exec_line#ExecStart=}
bin=${bin%% *}
mkdir -p "$T/units"
if [ -x "$bin" ]; then
	cp "$unit" "$T/units/spgw.service"
else
	stand_in=${SPGW:-/bin/true}
	sed "s|^ExecStart=$bin |ExecStart=$stand_in |" "$unit" > "$T/units/spgw.service"
	echo "# $bin is not installed: verifying with ExecStart=$stand_in"
fi
if systemd-analyze verify --man=no "$T/units/spgw.service" > "$T/verify.out" 2>&1 &&
	[ ! -s "$T/verify.out" ]; then
	ok "systemd-analyze verify: no error, no warning"
else
	not_ok "systemd-analyze verify:"
	sed 's/^/#   /' "$T/verify.out"
fi

# The exposure score (0 safe .. 10 exposed); 1.4 when written. --offline needs systemd 250.
if systemd-analyze --help 2>&1 | grep -q -- '--offline'; then
	systemd-analyze security --offline=true "$T/units/spgw.service" > "$T/security.out" 2>&1
	score=$(sed -n 's/.*Overall exposure level for spgw.service: \([0-9.]*\).*/\1/p' "$T/security.out")
	if [ -n "$score" ] && systemd-analyze security --offline=true --threshold=20 \
		"$T/units/spgw.service" > /dev/null 2>&1; then
		ok "systemd-analyze security: exposure $score (at most 2.0)"
	else
		not_ok "systemd-analyze security: exposure ${score:-unknown}, more than 2.0:"
		grep '✗' "$T/security.out" | sed 's/^/#   /'
	fi
else
	echo "# skip exposure score: systemd-analyze has no --offline (systemd < 250)"
fi

# The user and the configuration directory, made in a scratch root (chown needs root).
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers > /dev/null 2>&1 &&
	command -v systemd-tmpfiles > /dev/null 2>&1; then
	mkdir -p "$T/root/etc"
	systemd-sysusers --root="$T/root" "$srcdir/spgw.sysusers" > "$T/sysusers.out" 2>&1
	pw=$(grep '^spgw:' "$T/root/etc/passwd" | cut -d: -f1,6,7)
	if [ "$pw" = "spgw:/var/lib/spgw:/usr/sbin/nologin" ] &&
		grep -q '^spgw:' "$T/root/etc/group"; then
		ok "sysusers: user and group spgw, home /var/lib/spgw, no login shell"
	else
		not_ok "sysusers: got \"$pw\""
		sed 's/^/#   /' "$T/sysusers.out"
	fi
	cp "$build/spgw.tmpfiles" "$T/spgw-tmpfiles.conf"
	systemd-tmpfiles --root="$T/root" --create "$T/spgw-tmpfiles.conf" > "$T/tmpfiles.out" 2>&1
	dir=$(sed -n 's/^d \([^ ]*\) .*/\1/p' "$build/spgw.tmpfiles" | head -1)
	gid=$(grep '^spgw:' "$T/root/etc/group" | cut -d: -f3)
	got=$(stat -c '%a %u %g' "$T/root$dir" "$T/root$dir/sources" "$T/root$dir/mappings" 2>&1 |
		tr '\n' ' ')
	if [ "$got" = "750 0 $gid 750 0 $gid 750 0 $gid " ]; then
		ok "tmpfiles: $dir, sources/ and mappings/ are 0750 root:spgw"
	else
		not_ok "tmpfiles: $dir: got \"$got\""
		sed 's/^/#   /' "$T/tmpfiles.out"
	fi
else
	echo "# skip sysusers and tmpfiles: not root, or systemd-sysusers/systemd-tmpfiles missing"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
