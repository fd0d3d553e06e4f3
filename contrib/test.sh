#!/bin/sh
# Every test: the Check unit tests and the end-to-end tests, in a normal build with warnings
# as errors, then again with AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
meson setup build-test -Dwerror=true --wipe >/dev/null 2>&1 || meson setup build-test -Dwerror=true >/dev/null
meson compile -C build-test
{ meson test -C build-test --print-errorlogs --num-processes 2; echo $? > build-test/status; } |
	tee build-test/summary.txt
meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
	--wipe >/dev/null 2>&1 || meson setup build-asan -Dwerror=true \
	-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
meson compile -C build-asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	sh -c 'meson test -C build-asan --print-errorlogs --num-processes 2; echo $? > build-asan/status' |
	tee build-asan/summary.txt
# one closing line for both runs (each meson test line is a Check suite, an ABI check or an
# end-to-end script)
cat build-test/summary.txt build-asan/summary.txt | awk '
	/^Ok:/ { ok += $2 } /^Fail:/ { fail += $2 } /^Timeout:/ { fail += $2 }
	END { printf "tests: %d passed, %d failed\n", ok, fail }'
[ "$(cat build-test/status)" = 0 ] && [ "$(cat build-asan/status)" = 0 ]
