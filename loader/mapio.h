/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The loader's map writes: logged on failure, skipped when nothing changes. */
#ifndef MWAN_LOADER_MAPIO_H
#define MWAN_LOADER_MAPIO_H

#include <stddef.h>

#include "../lib/maptable.h"

/* The descriptor of the loaded map mwan_<id>: MAP_FD(l, steer). The
 * object loader (object.c) fills loader.map_fd from the map table.
 */
#define MAP_FD(l, id) ((l)->map_fd[MWAN_MAPID_##id])

/* Writes key's value; logs and returns -errno on failure. */
int map_put(int fd, const void *key, const void *val, const char *what);
/* Writes key's value only when it differs, so a reload touches only what
 * changed.
 */
int map_put_new(int fd, const void *key, const void *val, size_t val_size,
		const char *what);

#endif
