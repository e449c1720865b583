/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BPF object lifecycle: pin dir, load, XDP/TC attach and detach, status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <net/if.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "loader.h"
#include "log.h"
#include "mwan.skel.h"

#define TC_HANDLE 0x6d77
#define TC_PRIO 1

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
int dp_prepare_pin_dir(const char *pin_dir)
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

static int set_pin_paths(struct loader *l)
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

/* The layout version the pinned maps were filled with; 0 if none. */
static __u32 pinned_layout(const struct loader *l)
{
	const char *path = bpf_map__pin_path(l->skel->maps.mwan_cfg);
	struct mwan_cfg cfg = { 0 };
	__u32 zero = 0;
	int fd = path ? bpf_obj_get(path) : -1;

	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		cfg.layout_version = 0;
	close(fd);
	return cfg.layout_version;
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
 * admin overrides survive a restart), unless they no longer fit this
 * build or config (another layout, a new flows_max): those start afresh.
 */
static void drop_unusable_pins(struct loader *l)
{
	__u32 layout = pinned_layout(l);
	bool all = layout && layout != MWAN_LAYOUT_VERSION;
	struct bpf_map *map;

	if (all)
		log_warn(
			"maps pinned under %s have layout version %u, this build uses %u: starting with fresh maps",
			l->cfg.pin_dir, layout, MWAN_LAYOUT_VERSION);
	bpf_object__for_each_map(map, l->skel->obj)
	{
		const char *path = bpf_map__pin_path(map);
		int fd = path ? bpf_obj_get(path) : -1;

		if (fd < 0)
			continue;
		if (!all && pin_compatible(map, fd)) {
			log_debug("reusing pinned map %s", path);
			reuse_devmap(map, fd);
		} else {
			if (!all)
				log_warn(
					"pinned map %s does not fit this build or config; replacing it (its contents are lost)",
					path);
			unlink(path);
		}
		close(fd);
	}
}

/* Let libxdp load the object, so that on kernels with freplace it can run
 * mwan_xdp under its dispatcher next to other XDP programs. Where it
 * cannot, fall back to loading with libbpf and handing libxdp the fd
 * (single-program mode).
 */
static int load_via_libxdp(struct loader *l)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = l->skel->obj,
			    .prog_name = "mwan_xdp");
	struct xdp_program *prog = xdp_program__create(&opts);
	long err = libxdp_get_error(prog);

	if (err)
		return (int)err;
	l->xdp = prog;
	return 0;
}

int dp_load(struct loader *l)
{
	int err;

	l->skel = mwan_bpf__open();
	if (!l->skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", strerror(errno));
		return err;
	}
	err = set_pin_paths(l);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.mwan_flows,
					       l->cfg.flows_max);
	if (err) {
		log_err("cannot configure the BPF object: %s", strerror(-err));
		return err;
	}
	drop_unusable_pins(l);
	err = load_via_libxdp(l);
	if (err) {
		log_warn(
			"libxdp cannot take the object (%s); loading it directly",
			strerror((int)-err));
		l->xdp = NULL;
	}
	/* Loading here (rather than inside the first libxdp attach) makes
	 * pinned-map incompatibilities fail before anything is attached.
	 */
	err = mwan_bpf__load(l->skel);
	if (err) {
		log_err("cannot load the BPF programs: %s (maps pinned under %s by an incompatible version? remove them with: mwan-loader --cleanup -c %s)",
			strerror(-err), l->cfg.pin_dir, l->cfg.path);
		return err;
	}
	if (!l->xdp) {
		l->xdp = xdp_program__from_fd(
			bpf_program__fd(l->skel->progs.mwan_xdp));
		err = (int)libxdp_get_error(l->xdp);
		if (err) {
			l->xdp = NULL;
			log_err("libxdp cannot use the XDP program: %s",
				strerror(-err));
			return err;
		}
		l->xdp_by_fd = true;
	}
	return 0;
}

static const char *mode_name(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? "generic" : "native";
}

static int attach_xdp(struct loader *l, struct dp_iface *i)
{
	struct xdp_multiprog *mp;
	int err;

	err = xdp_program__attach(l->xdp, i->ifindex, XDP_MODE_NATIVE, 0);
	i->xdp_mode = XDP_MODE_NATIVE;
	if (err) {
		log_warn(
			"%s: native XDP not available (%s); using generic XDP, which is much slower",
			i->name, strerror(-err));
		err = xdp_program__attach(l->xdp, i->ifindex, XDP_MODE_SKB, 0);
		i->xdp_mode = XDP_MODE_SKB;
	}
	if (err) {
		log_err("%s: cannot attach XDP: %s", i->name, strerror(-err));
		return err;
	}
	i->xdp_attached = true;
	mp = xdp_multiprog__get_from_ifindex(i->ifindex);
	if (!libxdp_get_error(mp) && mp) {
		i->legacy = xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}
	log_info("%s: XDP attached (%s mode, %s)", i->name,
		 mode_name(i->xdp_mode),
		 i->legacy ? "single-program" : "libxdp dispatcher");
	return 0;
}

static int attach_tc(struct dp_iface *i, enum bpf_tc_attach_point point,
		     int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex,
			    .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
			    .priority = TC_PRIO, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		log_err("%s: cannot create clsact: %s", i->name,
			strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		log_err("%s: cannot attach TC %s: %s", i->name,
			point == BPF_TC_INGRESS ? "ingress" : "egress",
			strerror(-err));
	return err;
}

static void detach_tc(struct dp_iface *i, enum bpf_tc_attach_point point)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex,
			    .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
			    .priority = TC_PRIO);

	bpf_tc_detach(&hook, &opts);
}

static int attach_iface(struct loader *l, struct dp_iface *i)
{
	int in_fd = bpf_program__fd(l->skel->progs.mwan_tc_in);
	int out_fd = bpf_program__fd(l->skel->progs.mwan_tc_out);
	int err;

	err = attach_tc(i, BPF_TC_INGRESS, in_fd);
	if (err)
		return err;
	i->tc_in = true;
	if (i->wan >= 0) {
		err = attach_tc(i, BPF_TC_EGRESS, out_fd);
		if (err)
			return err;
		i->tc_out = true;
	}
	return attach_xdp(l, i);
}

int dp_attach(struct loader *l)
{
	unsigned int n;
	int err;

	for (n = 0; n < l->n_ifaces; n++) {
		err = attach_iface(l, &l->ifaces[n]);
		if (err)
			return err;
	}
	return 0;
}

static void detach_iface(struct loader *l, struct dp_iface *i)
{
	if (i->xdp_attached) {
		int err =
			xdp_program__detach(l->xdp, i->ifindex, i->xdp_mode, 0);
		if (err)
			log_warn("%s: XDP detach: %s", i->name, strerror(-err));
		i->xdp_attached = false;
	}
	/* Egress first: the guard must outlive the paths that need it...
	 * but both go in the same instant here, and XDP is already gone.
	 */
	if (i->tc_out)
		detach_tc(i, BPF_TC_EGRESS);
	if (i->tc_in)
		detach_tc(i, BPF_TC_INGRESS);
	i->tc_in = i->tc_out = false;
}

void dp_detach(struct loader *l)
{
	unsigned int n;

	for (n = 0; n < l->n_ifaces; n++)
		detach_iface(l, &l->ifaces[n]);
}

/* The programs went with a deleted device; a renamed one still has them
 * under its old index, and they must not stay there.
 */
static void forget_iface(struct loader *l, struct dp_iface *i)
{
	char name[IF_NAMESIZE];

	if (i->ifindex > 0 && !nlw_link_deleted(l, i->ifindex) &&
	    if_indextoname(i->ifindex, name))
		detach_iface(l, i);
	i->xdp_attached = i->tc_in = i->tc_out = false;
}

static int current_ifindex(struct loader *l, const char *name)
{
	struct nlw_link_info link;

	if (nlw_link(l, name, &link) || !link.exists)
		return 0;
	return link.ifindex;
}

/* An interface deleted and created again (a USB modem replugged, a PPP or
 * VLAN device recreated, `ip link del` and add) comes back with a new
 * ifindex and none of our programs: follow it by name and attach again.
 * Returns true when some interface's index changed; the caller then
 * rewrites the maps keyed or filled by ifindex.
 */
bool dp_follow_links(struct loader *l)
{
	bool changed = false;
	unsigned int n;

	for (n = 0; n < l->n_ifaces; n++) {
		struct dp_iface *i = &l->ifaces[n];
		int now = current_ifindex(l, i->name);

		if (now == i->ifindex && !(now > 0 && nlw_link_deleted(l, now)))
			continue;
		changed = true;
		forget_iface(l, i);
		if (!now) {
			log_warn(
				"%s: interface gone (was ifindex %d); waiting for it to come back",
				i->name, i->ifindex);
			i->ifindex = 0;
			continue;
		}
		log_info(
			"%s: interface is back as ifindex %d (was %d); attaching again",
			i->name, now, i->ifindex);
		i->ifindex = now;
		if (attach_iface(l, i))
			log_err("%s: attaching again failed; its traffic is left to the kernel",
				i->name);
	}
	nlw_forget_deleted(l);
	return changed;
}

void dp_close(struct loader *l)
{
	if (l->xdp)
		xdp_program__close(l->xdp);
	l->xdp = NULL;
	mwan_bpf__destroy(l->skel);
	l->skel = NULL;
}

/* "target WAN INDEX TEXT": what each mwan_health target slot probes, as
 * written in the config (the map holds only numbers).
 */
static void write_targets(const struct loader *l, FILE *f)
{
	unsigned int w, t;

	for (w = 0; w < l->cfg.n_wans; w++)
		for (t = 0; t < l->cfg.wans[w].n_probe_targets; t++)
			fprintf(f, "target %s %u %s\n", l->cfg.wans[w].name, t,
				l->cfg.wans[w].probe_targets[t].text);
}

/* RUN_DIR/status: how each interface is attached and what each WAN
 * probes, for bpfctl status.
 */
int dp_write_status(const struct loader *l)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 16];
	unsigned int n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/status", l->cfg.run_dir);
	snprintf(tmp, sizeof(tmp), "%s/status.tmp", l->cfg.run_dir);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (n = 0; n < l->n_ifaces; n++) {
		const struct dp_iface *i = &l->ifaces[n];
		char role[32];

		if (i->wan < 0)
			snprintf(role, sizeof(role), "lan");
		else
			snprintf(role, sizeof(role), "wan:%s",
				 l->cfg.wans[i->wan].name);
		fprintf(f, "iface %s %s %s %s\n", i->name, role,
			i->xdp_attached ? mode_name(i->xdp_mode) : "none",
			i->legacy ? "single" : "multiprog");
	}
	write_targets(l, f);
	if (fclose(f))
		return -errno;
	return rename(tmp, path) ? -errno : 0;
}

/* ---- mwan-loader --cleanup ---- */

/* mwan_xdp, wherever libxdp put it on this interface. */
static void cleanup_xdp(const struct dp_iface *i)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(i->ifindex);
	struct xdp_program *p;
	int err = -ENOENT;

	if (!mp || libxdp_get_error(mp))
		return;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), "mwan_xdp"))
			err = xdp_multiprog__detach(mp);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (strcmp(xdp_program__name(p), "mwan_xdp"))
				continue;
			err = xdp_program__detach(
				p, i->ifindex, xdp_multiprog__attach_mode(mp),
				0);
			break;
		}
	}
	xdp_multiprog__close(mp);
	if (!err)
		log_info("%s: detached XDP left by a previous run", i->name);
}

static void cleanup_iface(struct dp_iface *i)
{
	if (i->ifindex <= 0)
		return;
	cleanup_xdp(i);
	detach_tc(i, BPF_TC_INGRESS);
	if (i->wan >= 0)
		detach_tc(i, BPF_TC_EGRESS);
}

static unsigned int unpin_all(struct loader *l)
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

int dp_cleanup(struct loader *l)
{
	char path[PATH_MAX + 8];
	unsigned int n;
	int err;

	for (n = 0; n < l->n_ifaces; n++)
		cleanup_iface(&l->ifaces[n]);
	l->skel = mwan_bpf__open();
	if (!l->skel) {
		log_err("cannot open the BPF object: %s", strerror(errno));
		return -errno;
	}
	err = set_pin_paths(l);
	if (!err) {
		n = unpin_all(l);
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
