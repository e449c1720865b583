/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The loader's map writes: logged on failure, skipped when nothing changes. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "log.h"
#include "mapio.h"

int map_put(int fd, const void *key, const void *val, const char *what)
{
	int err;

	if (!bpf_map_update_elem(fd, key, val, BPF_ANY))
		return 0;
	err = -errno;
	log_err("cannot update %s: %s", what, strerror(-err));
	return err;
}

int map_put_new(int fd, const void *key, const void *val, size_t val_size,
		const char *what)
{
	unsigned char old[64];

	if (val_size <= sizeof(old) && !bpf_map_lookup_elem(fd, key, old) &&
	    !memcmp(old, val, val_size))
		return 0;
	return map_put(fd, key, val, what);
}
