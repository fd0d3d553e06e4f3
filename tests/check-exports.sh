#!/bin/sh
# usage: check-exports.sh NM PLUGIN.so...: each plugin must export only spgw_plugin.
nm=$1
shift
status=0
for so in "$@"; do
	# a sanitizer build adds its own bookkeeping symbols (__odr_asan.*): not ours
	syms=$("$nm" -D --defined-only "$so" | awk '{print $3}' | grep -v '^__odr_asan' |
		tr '\n' ' ')
	if [ "$syms" != "spgw_plugin " ]; then
		echo "not ok - $so exports \"$syms\", not only spgw_plugin"
		status=1
	else
		echo "ok - $so exports only spgw_plugin"
	fi
done
exit $status
