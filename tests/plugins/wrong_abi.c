/* Claims plugin ABI 99. */
#include <spgw/plugin.h>

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = 99,
	.struct_size = sizeof(struct spgw_plugin),
	.name = "wrong_abi",
	.version = "1",
};
