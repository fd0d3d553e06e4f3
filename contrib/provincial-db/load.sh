#!/bin/sh
# Load a provincial dataset (DIR/<table>.csv, PostgreSQL COPY CSV with a header line, as the
# generator writes it) into the server pg.sh runs, then ANALYZE. See README.md.
#
#   load.sh [-d PGDIR] [-p PORT] [--replace | --upsert] DIR
#
# Each CSV's header names its columns, so a file may list them in any order and leave out
# those it has no values for (they load as NULL, or their default). Bytes are loaded as
# they are (client encoding SQL_ASCII): GBK text stays GBK, as on the real platform.
# Without an option rows are added (a row_id already present stops the load with the
# duplicate named, and nothing is loaded); --replace empties the tables it loads first;
# --upsert replaces the rows whose row_id is already there and adds the others (the
# generator's changes/: corrections and withdrawals of rows read before, with a newer
# upd_time). All files load in one transaction.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
pgargs=""
mode=add
while [ $# -gt 0 ]; do
	case $1 in
	-d | -p)
		[ $# -ge 2 ] || { echo "load.sh: $1 needs a value" >&2; exit 2; }
		pgargs="$pgargs $1 $2"
		shift 2
		;;
	--replace | --upsert)
		mode=${1#--}
		shift
		;;
	-h | --help)
		echo "usage: load.sh [-d PGDIR] [-p PORT] [--replace | --upsert] DIR"
		exit 0
		;;
	-*)
		echo "load.sh: unknown option $1" >&2
		exit 2
		;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: load.sh [-d PGDIR] [-p PORT] [--replace | --upsert] DIR" >&2; exit 2; }
src=$(cd "$1" && pwd) || { echo "load.sh: $1 is not a directory" >&2; exit 2; }

# shellcheck disable=SC2086 # pgargs are option pairs without spaces
pg() { "$here/pg.sh" $pgargs psql "$@"; }

tables="t_project t_unit t_case t_step t_doc t_tbcx t_material t_opinion"
script=$(mktemp "${TMPDIR:-/tmp}/spgw-load.XXXXXX")
trap 'rm -f "$script"' EXIT
loaded=""
{
	# printf, not echo: dash's echo would take "\\e" and "\\c" for escapes
	printf '%s\n' '\set ON_ERROR_STOP on' 'BEGIN;'
	for t in $tables; do
		f=$src/$t.csv
		[ -f "$f" ] || continue
		case $f in
		*\'*) echo "load.sh: $f: a file name with a quote is not supported" >&2; exit 2 ;;
		esac
		# The header gives the column list; it must be plain column names.
		cols=$(head -n 1 "$f" | tr -d '\r')
		case $cols in
		'' | *[!a-z0-9_,]*)
			echo "load.sh: $f: the first line must name the columns (a-z 0-9 _ separated by commas), got \"$(printf '%.80s' "$cols")\"" >&2
			exit 2
			;;
		esac
		printf '\\echo load.sh: %s\n' "$t"
		case $mode in
		add)
			printf '%s\n' "\\copy jlsp.$t ($cols) FROM '$f' WITH (FORMAT csv, HEADER true)"
			;;
		replace)
			printf 'TRUNCATE jlsp.%s;\n' "$t"
			printf '%s\n' "\\copy jlsp.$t ($cols) FROM '$f' WITH (FORMAT csv, HEADER true)"
			;;
		upsert)
			# through a scratch copy of the table: the rows it replaces are deleted
			# and the newest version of each row_id inserted, in the one transaction
			printf 'CREATE TEMP TABLE load_%s (LIKE jlsp.%s INCLUDING DEFAULTS) ON COMMIT DROP;\n' "$t" "$t"
			printf '%s\n' "\\copy load_$t ($cols) FROM '$f' WITH (FORMAT csv, HEADER true)"
			printf 'DELETE FROM jlsp.%s o USING load_%s n WHERE o.row_id = n.row_id;\n' "$t" "$t"
			printf 'INSERT INTO jlsp.%s (%s) SELECT %s FROM (SELECT DISTINCT ON (row_id) * FROM load_%s ORDER BY row_id, upd_time DESC) n;\n' "$t" "$cols" "$cols" "$t"
			;;
		esac
		loaded="$loaded $t"
	done
	printf 'COMMIT;\n'
} > "$script"
[ -n "$loaded" ] || { echo "load.sh: no t_*.csv in $src" >&2; exit 2; }
pg -f "$script"
for t in $loaded; do
	pg -c "ANALYZE jlsp.$t"
	echo "load.sh: jlsp.$t now holds $(pg -tA -c "SELECT count(*) FROM jlsp.$t") rows"
done
