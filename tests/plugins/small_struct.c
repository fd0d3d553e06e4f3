/* Claims a descriptor of 16 bytes, smaller than ABI 1's. */
#include <spgw/plugin.h>

SPGW_EXPORT const struct spgw_plugin spgw_plugin = {
	.abi_version = SPGW_PLUGIN_ABI,
	.struct_size = 16,
	.name = "small_struct",
	.version = "1",
};
