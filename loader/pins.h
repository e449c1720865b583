/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pin_dir: where the maps live across restarts; adopting a previous run's maps, removing them. */
#ifndef MWAN_LOADER_PINS_H
#define MWAN_LOADER_PINS_H

struct loader;

/* pin_dir exists on a bpffs (mounted when /sys/fs/bpf is not). */
int pins_prepare_dir(const char *pin_dir);
/* Every map of the opened object pinned under pin_dir by its name. */
int pins_set_paths(struct loader *l);
/* Maps a previous run pinned are reused when compatible (flows, counters
 * and health survive a restart); migrated or refused when their layout
 * differs; pins no map of this object has are removed.
 */
int pins_adopt(struct loader *l);
/* --cleanup: every pinned map of ours, then pin_dir itself. */
int pins_cleanup(struct loader *l);

#endif
