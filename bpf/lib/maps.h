/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BPF-side declarations of the maps, one per row of maps/mwan_map_table.h. */
#ifndef MWAN_BPF_MAPS_H
#define MWAN_BPF_MAPS_H

#include "../../maps/mwan_map_table.h"

/* Maps the programs never touch (mwan_health, mwan_attach, ...) are
 * declared too: the loader creates and pins every map from this object,
 * and bpfctl finds them all under pin_dir.
 */
#define MWAN_BPF_MAP(id_, type_, key_, value_, max_, flags_, writer_, \
		     readers_)                                        \
	struct {                                                      \
		__uint(type, BPF_MAP_TYPE_##type_);                   \
		__uint(max_entries, max_);                            \
		__uint(map_flags, flags_);                            \
		__type(key, key_);                                    \
		__type(value, value_);                                \
	} mwan_##id_ SEC(".maps");

MWAN_MAPS(MWAN_BPF_MAP)

#undef MWAN_BPF_MAP

#endif
