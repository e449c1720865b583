/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pin_dir: where the maps live across restarts; adopting a previous run's maps, removing them. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "pins.h"
#include "../lib/maptable.h"
#include "mwan.skel.h"

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/* Under `ip netns exec` /sys/fs/bpf is not mounted; give the pin dir a
 * bpffs of its own so the loader works there too.
 */
int pins_prepare_dir(const char *pin_dir)
{
	int err = mkdir_p(pin_dir);

	if (err) {
		log_err("cannot create pin_dir %s: %s", pin_dir,
			strerror(-err));
		return err;
	}
	if (!on_bpffs("/sys/fs/bpf") && !getenv("LIBXDP_BPFFS"))
		/* libxdp keeps its dispatcher state on a bpffs; without one
		 * (ip netns exec) it could only run in single-program mode.
		 */
		setenv("LIBXDP_BPFFS", pin_dir, 0);
	if (on_bpffs(pin_dir))
		return 0;
	if (mount("bpf", pin_dir, "bpf", 0, "mode=0700")) {
		err = -errno;
		log_err("pin_dir %s is not on a bpffs and mounting one failed: %s",
			pin_dir, strerror(errno));
		return err;
	}
	log_info("mounted a bpffs on %s", pin_dir);
	return 0;
}

int pins_set_paths(struct loader *l)
{
	struct bpf_map *map;
	char path[PATH_MAX];

	bpf_object__for_each_map(map, l->skel->obj)
	{
		const char *name = bpf_map__name(map);

		/* .rodata and friends belong to this build alone */
		if (bpf_map__is_internal(map))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", l->cfg.pin_dir,
			     name) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		if (bpf_map__set_pin_path(map, path))
			return -errno;
	}
	return 0;
}

/* The layout version the pinned maps were filled with; 0 if none. Read
 * through a buffer of the pinned map's own value size: another layout's
 * mwan_cfg may be larger than ours (layout_version stays its first field).
 */
/* The live slot of the pinned mwan_cfg (mwan_live; 0 before layout 4,
 * which had one slot).
 */
static __u32 pinned_live_slot(const struct loader *l)
{
	const char *path = bpf_map__pin_path(l->skel->maps.mwan_live);
	int fd = path ? bpf_obj_get(path) : -1;
	struct mwan_live live = { 0 };
	__u32 zero = 0;

	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &zero, &live))
		live.cfg_slot = 0;
	close(fd);
	return live.cfg_slot & 1;
}

static __u32 pinned_layout(const struct loader *l)
{
	const char *path = bpf_map__pin_path(l->skel->maps.mwan_cfg);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), key = pinned_live_slot(l), layout = 0;
	int fd = path ? bpf_obj_get(path) : -1;
	void *val = NULL;

	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    info.value_size >= sizeof(layout))
		val = calloc(1, info.value_size);
	if (key >= info.max_entries)
		key = 0;
	if (val && !bpf_map_lookup_elem(fd, &key, val))
		memcpy(&layout, val, sizeof(layout));
	free(val);
	close(fd);
	return layout;
}

/* Older layouts whose pinned maps this build takes over. 1 -> 2: mwan_cfg
 * grew (the loader rewrites it at start anyway) and took over from
 * mwan_ifaces; mwan_flow's pad byte became hostmask, 0 in old flows, which
 * only sends them down the slower path until sync_nat records their host's
 * WANs. 2 -> 3: mwan_cfg holds several LANs (rewritten at start) and
 * mwan_nat4's pad byte became the host's LAN, 0 in old entries: the one
 * LAN they had. A newer layout is never guessed at.
 */
static bool layout_migrates(__u32 from)
{
	return from >= 1 && from <= 3 && MWAN_LAYOUT_VERSION == 4;
}

static bool is_object_map(const struct loader *l, const char *name)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, l->skel->obj)
	{
		if (!bpf_map__is_internal(map) &&
		    !strcmp(bpf_map__name(map), name))
			return true;
	}
	return false;
}

/* After a migration: maps the old layout had and this one does not. */
static void unpin_unknown(const struct loader *l)
{
	DIR *d = opendir(l->cfg.pin_dir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "mwan_", 5) ||
		    is_object_map(l, e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", l->cfg.pin_dir,
			 e->d_name);
		if (!unlink(path))
			log_info("removed %s, which layout %u no longer has",
				 path, MWAN_LAYOUT_VERSION);
	}
	closedir(d);
}

static bool pin_compatible(const struct bpf_map *map, int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	/* the kernel makes devmaps read-only to programs by itself */
	if (info.type == BPF_MAP_TYPE_DEVMAP ||
	    info.type == BPF_MAP_TYPE_DEVMAP_HASH)
		info.map_flags &= ~BPF_F_RDONLY_PROG;
	return info.type == bpf_map__type(map) &&
	       info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.max_entries == bpf_map__max_entries(map) &&
	       info.map_flags == bpf_map__map_flags(map);
}

/* libbpf 1.1 cannot reuse a pinned devmap itself (the kernel adds
 * BPF_F_RDONLY_PROG to its flags, which libbpf then finds different), so
 * it gets the fd and no pin path; the pin stays as it is.
 */
static void reuse_devmap(struct bpf_map *map, int fd)
{
	enum bpf_map_type t = bpf_map__type(map);

	if (t != BPF_MAP_TYPE_DEVMAP && t != BPF_MAP_TYPE_DEVMAP_HASH)
		return;
	if (!bpf_map__reuse_fd(map, fd))
		bpf_map__set_pin_path(map, NULL);
}

/* Maps pinned by a previous run are reused (delegated prefixes, flows and
 * admin overrides survive a restart); one that no longer fits this config
 * (a new flows_max) starts afresh. Maps of another layout version are
 * migrated when this build knows how, and refused otherwise, before
 * anything is touched: never misread.
 */
int pins_adopt(struct loader *l)
{
	__u32 layout = pinned_layout(l);
	bool migrate = layout && layout != MWAN_LAYOUT_VERSION;
	struct bpf_map *map;

	if (migrate && !layout_migrates(layout)) {
		log_err("maps pinned under %s have layout version %u, which this mwan-loader (layout %u) can neither read nor migrate; nothing was changed. Run the mwan-loader that pinned them, or remove them first with: mwan-loader --cleanup -c %s (flows, delegated prefixes and admin overrides are then lost)",
			l->cfg.pin_dir, layout, MWAN_LAYOUT_VERSION,
			l->cfg.path);
		return -EPROTO;
	}
	if (migrate)
		log_info(
			"migrating the maps pinned under %s from layout %u to %u",
			l->cfg.pin_dir, layout, MWAN_LAYOUT_VERSION);
	bpf_object__for_each_map(map, l->skel->obj)
	{
		const char *path = bpf_map__pin_path(map);
		int fd = path ? bpf_obj_get(path) : -1;

		if (fd < 0)
			continue;
		if (pin_compatible(map, fd)) {
			log_debug("reusing pinned map %s", path);
			reuse_devmap(map, fd);
		} else {
			log_warn(
				"pinned map %s does not fit this build or config; replacing it (its contents are lost)",
				path);
			unlink(path);
		}
		close(fd);
	}
	if (migrate)
		unpin_unknown(l);
	return 0;
}

static unsigned int pins_unpin_all(struct loader *l)
{
	struct bpf_map *map;
	unsigned int n = 0;

	bpf_object__for_each_map(map, l->skel->obj)
	{
		const char *path = bpf_map__pin_path(map);

		if (path && !unlink(path))
			n++;
	}
	return n;
}

int pins_cleanup(struct loader *l)
{
	char path[PATH_MAX + 32];
	unsigned int n;
	int err;

	l->skel = mwan_bpf__open();
	if (!l->skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	err = pins_set_paths(l);
	if (!err) {
		n = pins_unpin_all(l);
		log_info("removed %u pinned map(s) from %s", n, l->cfg.pin_dir);
		/* libxdp's own state, when it kept it there */
		snprintf(path, sizeof(path), "%s/xdp", l->cfg.pin_dir);
		rmdir(path);
		rmdir(l->cfg.pin_dir);
	}
	mwan_bpf__destroy(l->skel);
	l->skel = NULL;
	return err;
}
