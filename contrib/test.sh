#!/bin/sh
# Every test: the Check unit tests and the end-to-end tests, in a normal build with warnings
# as errors, then again with AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
meson setup build-test -Dwerror=true --wipe >/dev/null 2>&1 || meson setup build-test -Dwerror=true >/dev/null
meson compile -C build-test
meson test -C build-test --print-errorlogs --num-processes 2
meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
	--wipe >/dev/null 2>&1 || meson setup build-asan -Dwerror=true \
	-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
meson compile -C build-asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	meson test -C build-asan --print-errorlogs --num-processes 2
