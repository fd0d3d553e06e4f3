#!/bin/sh
# A real PostgreSQL 15 server holding the provincial platform's database (jlsp), for the
# provincial adapter's tests, the demo and benchmarks. See README.md.
#
#   pg.sh [-d DIR] [-p PORT] [-w PASSWORD_FILE] start|stop|status|psql [PSQL ARGS...]
#
# DIR (default $SPGW_PG_DIR, else ${TMPDIR:-/tmp}/spgw-provincial-pg) holds everything:
# data/ (the cluster), sock/ (its Unix socket), postgres.log, port. The server listens on
# 127.0.0.1:PORT only (default $SPGW_PG_PORT, else 18432) and on the socket. It runs as an
# unprivileged user: the caller, or when the caller is root the `postgres` system user (else
# `nobody`). The gateway's role spgw_reader logs in over TCP with scram-sha-256; its password
# is PASSWORD_FILE (default DIR/reader.password), made at random on first start if absent.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${SPGW_PG_DIR:-${TMPDIR:-/tmp}/spgw-provincial-pg}
port=${SPGW_PG_PORT:-}
pwfile=${SPGW_PG_PASSWORD_FILE:-}
admin=spgw_admin
db=jlsp

die() {
	echo "pg.sh: $*" >&2
	exit 2
}
usage() {
	echo "usage: pg.sh [-d DIR] [-p PORT] [-w PASSWORD_FILE] start|stop|status|psql [ARGS...]" >&2
	exit 2
}

while getopts d:p:w:h opt; do
	case $opt in
	d) dir=$OPTARG ;;
	p) port=$OPTARG ;;
	w) pwfile=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
cmd=$1
shift

case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac
case $dir in
*[!A-Za-z0-9/._-]*) die "DIR \"$dir\" holds characters other than A-Z a-z 0-9 / . _ -: choose a plainer path (it goes into the server's options)" ;;
esac
data=$dir/data
sock=$dir/sock
log=$dir/postgres.log
[ -n "$pwfile" ] || pwfile=$dir/reader.password

# The server binaries: SPGW_PG_BIN, else Debian's PostgreSQL 15, else pg_config's.
bin=${SPGW_PG_BIN:-}
if [ -z "$bin" ]; then
	bin=/usr/lib/postgresql/15/bin
	if [ ! -x "$bin/postgres" ] && command -v pg_config >/dev/null 2>&1; then
		bin=$(pg_config --bindir)
	fi
fi
for b in initdb pg_ctl postgres; do
	[ -x "$bin/$b" ] ||
		die "no $bin/$b: install PostgreSQL 15 (Debian: apt-get install postgresql) or set SPGW_PG_BIN to the directory holding initdb, pg_ctl and postgres"
done
command -v psql >/dev/null 2>&1 || die "no psql: install postgresql-client (Debian: apt-get install postgresql)"

# Who runs the server: PostgreSQL refuses to run as root.
if [ "$(id -u)" = 0 ]; then
	if id postgres >/dev/null 2>&1; then runas=postgres; else runas=nobody; fi
	rungroup=$(id -gn "$runas")
	if command -v runuser >/dev/null 2>&1; then
		as_pg() { runuser -u "$runas" -- "$@"; }
	else
		as_pg() { setpriv --reuid="$runas" --regid="$rungroup" --init-groups -- "$@"; }
	fi
else
	runas=$(id -un)
	as_pg() { "$@"; }
fi

# The port: -p, else the one of the last start in this DIR, else 18432.
if [ -z "$port" ]; then
	if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=18432; fi
fi
case $port in
'' | *[!0-9]*) die "port \"$port\" is not a number" ;;
esac
[ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "port $port is outside 1..65535"

running() {
	[ -f "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# psql as the administrator over the socket (trust: only the server's user and root can
# open the socket directory).
admin_psql() {
	PGCLIENTENCODING=SQL_ASCII psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U "$admin" "$@"
}

init_cluster() {
	mkdir -p "$dir"
	mkdir -p "$data" "$sock"
	touch "$log"
	chmod 700 "$data" "$sock"
	chmod 600 "$log"
	if [ "$(id -u)" = 0 ]; then
		chown "$runas:$rungroup" "$data" "$sock" "$log"
	fi
	as_pg test -w "$data" ||
		die "user $runas cannot write $data: let it search every parent of $dir (e.g. chmod o+x on them) or choose another DIR"
	[ -f "$data/PG_VERSION" ] && return 0
	echo "pg.sh: creating a cluster in $data (as $runas)"
	# SQL_ASCII and the C locale: the provincial platform stores raw bytes (UTF-8 and
	# legacy GBK) and sorts them bytewise.
	as_pg "$bin/initdb" -D "$data" -U "$admin" -E SQL_ASCII --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
		die "initdb failed; see $dir/initdb.log"
	as_pg sh -c "cat > '$data/pg_hba.conf'" <<EOF
# spgw test server (contrib/provincial-db/pg.sh): the administrator over the Unix socket
# only (its directory is 0700), everyone else with a password, TCP on 127.0.0.1 only.
local   all   $admin                     trust
local   all   all                        scram-sha-256
host    all   all        127.0.0.1/32    scram-sha-256
EOF
	as_pg sh -c "cat >> '$data/postgresql.conf'" <<EOF

# spgw test server (contrib/provincial-db/pg.sh)
password_encryption = 'scram-sha-256'
unix_socket_permissions = 0700
lc_messages = 'C'
# the platform's timestamps (upd_time, blsj) are Beijing time without a zone
timezone = 'Asia/Shanghai'
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = on
log_disconnections = on
EOF
}

start() {
	init_cluster
	if running; then
		echo "pg.sh: already running ($data)"
	else
		as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o \
			"-c listen_addresses=127.0.0.1 -p $port -k $sock" start >/dev/null ||
			die "the server did not start; see $log (is port $port taken?)"
	fi
	echo "$port" > "$dir/port"
	if [ "$(admin_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
		admin_psql -d postgres -c "CREATE DATABASE $db ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
		admin_psql -d "$db" -f "$here/schema.sql"
	fi
	# The reader's password: kept in a 0600 file for the gateway's source files, set on the
	# server through stdin so it shows in no process list and no log.
	if [ ! -s "$pwfile" ]; then
		mkdir -p "$(dirname "$pwfile")"
		(umask 077 && tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 32 > "$pwfile")
	fi
	pw=$(head -n 1 "$pwfile")
	case $pw in
	'' | *[!A-Za-z0-9._~+/=-]*) die "$pwfile: the password must be one line of A-Z a-z 0-9 . _ ~ + / = -" ;;
	esac
	printf "ALTER ROLE spgw_reader PASSWORD '%s';\n" "$pw" | admin_psql -d "$db"
	echo "pg.sh: database $db on 127.0.0.1:$port (socket $sock), user spgw_reader, password in $pwfile"
}

stop() {
	if running; then
		as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
		echo "pg.sh: stopped ($data)"
	else
		echo "pg.sh: not running ($data)"
	fi
}

case $cmd in
start) start ;;
stop) stop ;;
status)
	if running; then
		echo "pg.sh: running on 127.0.0.1:$port, data $data"
	else
		echo "pg.sh: not running ($data)"
		exit 3
	fi
	;;
psql)
	running || die "not running ($data): run pg.sh start first"
	admin_psql -d "$db" "$@"
	;;
*) usage ;;
esac
