/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The map descriptors, expanded from maps/mwan_map_table.h. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "err.h"
#include "maptable.h"

const struct mwan_map_desc mwan_map_table[MWAN_MAP_COUNT] = {
#define MWAN_MAP_DESC(id, type_, key_, value_, max_, flags_, writer_, \
		      readers_)                                       \
	[MWAN_MAPID_##id] = {                                         \
		.name = "mwan_" #id,                                  \
		.type = BPF_MAP_TYPE_##type_,                         \
		.key_size = sizeof(key_),                             \
		.value_size = sizeof(value_),                         \
		.max_entries = (max_),                                \
		.flags = (flags_),                                    \
		.writer = writer_,                                    \
		.readers = readers_,                                  \
	},
	MWAN_MAPS(MWAN_MAP_DESC)
#undef MWAN_MAP_DESC
};

const struct mwan_map_desc *mwan_map_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < MWAN_MAP_COUNT; i++)
		if (!strcmp(mwan_map_table[i].name, name))
			return &mwan_map_table[i];
	return NULL;
}

/* The loader may create either kind of hash (the flow tables were plain
 * hashes once): they read the same.
 */
static bool type_compatible(enum bpf_map_type want, __u32 got)
{
	if (want == BPF_MAP_TYPE_HASH || want == BPF_MAP_TYPE_LRU_HASH)
		return got == BPF_MAP_TYPE_HASH || got == BPF_MAP_TYPE_LRU_HASH;
	return got == want;
}

int mwan_map_check(int fd, const char *path, const struct mwan_map_desc *d,
		   char *err, size_t errlen)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		mwan_set_err(err, errlen, "cannot inspect %s: %s", path,
			     strerror(errno));
		return -1;
	}
	if (type_compatible(d->type, info.type) &&
	    info.key_size == d->key_size && info.value_size == d->value_size)
		return 0;
	mwan_set_err(
		err, errlen,
		"%s: map type %u key %u value %u bytes, expected %u/%u/%u (the loader and this program from different builds?)",
		path, info.type, info.key_size, info.value_size, d->type,
		d->key_size, d->value_size);
	return -1;
}
