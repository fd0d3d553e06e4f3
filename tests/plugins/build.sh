#!/bin/sh
# Build spgw-plugin-runner, the test plugins and test_plugin_host into a scratch folder, then
# run the test. Usage: tests/plugins/build.sh [out-dir]   (default /tmp/spgw-plugin-host)
#
# The runner is built with UndefinedBehaviorSanitizer only: AddressSanitizer cannot run under
# the address-space limit the runner applies (it skips the limit when built with it, and then
# the leak test fails on purpose). The host and the test get both sanitizers.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/spgw-plugin-host}
mkdir -p "$out/plugins"
cd "$top"
warn="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Wall -Wextra -Wshadow
 -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Werror"

gcc $warn -fsanitize=undefined -Iinclude -Igateway \
	gateway/plugin_runner.c gateway/frame.c gateway/mem.c \
	$(pkg-config --cflags --libs jansson) -ldl -o "$out/spgw-plugin-runner"

for src in tests/plugins/*.c; do
	name=$(basename "$src" .c)
	gcc $warn -shared -fPIC -fvisibility=hidden -Iinclude "$src" -o "$out/plugins/$name.so"
	# a plugin exports exactly one symbol (include/spgw/plugin.h)
	syms=$(nm -D --defined-only "$out/plugins/$name.so" | awk '{print $3}' | tr '\n' ' ')
	if [ "$syms" != "spgw_plugin " ]; then
		echo "$name.so exports \"$syms\", not only spgw_plugin" >&2
		exit 1
	fi
done

gcc $warn -fsanitize=address,undefined -Iinclude -Igateway \
	gateway/error.c gateway/mem.c gateway/buf.c gateway/frame.c gateway/plugin_child.c \
	gateway/plugin_host.c tests/unit/test_plugin_host.c \
	$(pkg-config --cflags --libs jansson check) -o "$out/test_plugin_host"

SPGW_PLUGIN_RUNNER="$out/spgw-plugin-runner" SPGW_TEST_PLUGINS="$out/plugins" \
	"$out/test_plugin_host"
