/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* User space's view of maps/mwan_map_table.h: one descriptor per map. */
#ifndef MWAN_LIB_MAPTABLE_H
#define MWAN_LIB_MAPTABLE_H

#include <stddef.h>
#include <linux/bpf.h>

#include "../maps/mwan_map_table.h"

enum mwan_map_id {
#define MWAN_MAP_ENUM(id, ...) MWAN_MAPID_##id,
	MWAN_MAPS(MWAN_MAP_ENUM)
#undef MWAN_MAP_ENUM
		MWAN_MAP_COUNT
};

struct mwan_map_desc {
	const char *name; /* as in the object and under pin_dir */
	enum bpf_map_type type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries; /* the object's; the loader sizes the flow tables */
	__u32 flags;
	const char *writer; /* the one module that changes its contents */
	const char *readers;
};

extern const struct mwan_map_desc mwan_map_table[MWAN_MAP_COUNT];

/* The descriptor of map mwan_<id>: MWAN_MAP(cfg)->name is "mwan_cfg". */
#define MWAN_MAP(id) (&mwan_map_table[MWAN_MAPID_##id])

/* The descriptor named name, or NULL. */
const struct mwan_map_desc *mwan_map_find(const char *name);
/* Whether the map open on fd (found at path) is the one d describes: a
 * loader or bpfctl from another build is reported, not misread.
 */
int mwan_map_check(int fd, const char *path, const struct mwan_map_desc *d,
		   char *err, size_t errlen);

#endif
