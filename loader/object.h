/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF object: found, checked against this build's map layout and the kernel, loaded, its maps by id. */
#ifndef MWAN_LOADER_OBJECT_H
#define MWAN_LOADER_OBJECT_H

struct loader;

/* Opens (--bpf-object, next to the executable, installed, else built
 * in), adopts the pinned maps, checks the kernel, loads; fills
 * loader.map_fd.
 */
int object_load(struct loader *l);
void object_close(struct loader *l);

#endif
