/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BPF object lifecycle: pin dir, load, XDP/TC attach and detach, status. */
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
#include <net/if.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/if_link.h>

#include "loader.h"
#include "log.h"
#include "../lib/maptable.h"
#include "../lib/rundir.h"
#include "mwan.skel.h"
#include "../lib/syscheck.h"

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

/* The layout version the pinned maps were filled with; 0 if none. Read
 * through a buffer of the pinned map's own value size: another layout's
 * mwan_cfg may be larger than ours (layout_version stays its first field).
 */
static __u32 pinned_layout(const struct loader *l)
{
	const char *path = bpf_map__pin_path(l->skel->maps.mwan_cfg);
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0, layout = 0;
	int fd = path ? bpf_obj_get(path) : -1;
	void *val = NULL;

	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    info.value_size >= sizeof(layout))
		val = calloc(1, info.value_size);
	if (val && !bpf_map_lookup_elem(fd, &zero, val))
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
	return (from == 1 || from == 2) && MWAN_LAYOUT_VERSION == 3;
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
static int adopt_pins(struct loader *l)
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

/* The object next to the executable (the build tree), or where `make
 * install` puts it relative to the executable; NULL when neither exists.
 */
static const char *find_object(char *buf, size_t len)
{
	static const char *const rel[] = { "mwan.bpf.o",
					   "../lib/mwan/mwan.bpf.o" };
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	unsigned int i;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(buf, len, "%s/%s", dirname(exe), rel[i]);
		if (!access(buf, R_OK))
			return buf;
	}
	return NULL;
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long size;

	if (!f)
		return NULL;
	errno = EINVAL; /* an empty or unseekable file */
	if (!fseek(f, 0, SEEK_END) && (size = ftell(f)) > 0 &&
	    !fseek(f, 0, SEEK_SET)) {
		buf = malloc(size);
		if (buf && fread(buf, 1, size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
			errno = EIO;
		}
		*len = size;
	}
	fclose(f);
	return buf;
}

/* The map layout an object was built for: its .rodata mwan_layout. */
static __u32 object_layout(const struct mwan_bpf *skel)
{
	struct btf *btf = bpf_object__btf(skel->obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	const char *data;
	__u32 layout = 0;
	size_t size = 0;
	int id, i;

	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) :
		   -1;
	if (id < 0 || !skel->maps.rodata)
		return 0;
	data = bpf_map__initial_value(skel->maps.rodata, &size);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; data && i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (!strcmp(btf__name_by_offset(btf, v->name_off),
			    "mwan_layout") &&
		    vs->offset + sizeof(layout) <= size)
			memcpy(&layout, data + vs->offset, sizeof(layout));
	}
	return layout;
}

/* Opens the BPF object from a file (--bpf-object, else next to the
 * executable or installed) or, without one, the copy built in. An
 * upgrade is a new object file and a restart; the file must come from a
 * build with this loader's map layout.
 */
static int open_object(struct loader *l)
{
	char found[PATH_MAX];
	const char *path = l->bpf_object ? l->bpf_object :
					   find_object(found, sizeof(found));
	struct mwan_bpf *skel;
	size_t len = 0;
	int err;

	if (!path) {
		l->skel = mwan_bpf__open();
		if (!l->skel) {
			err = -errno;
			log_err("cannot open the BPF object: %s",
				strerror(-err));
			return err;
		}
		log_info("BPF object: the one built into mwan-loader");
		return 0;
	}
	l->obj_buf = read_file(path, &len);
	if (!l->obj_buf) {
		err = -errno;
		log_err("cannot read the BPF object %s: %s", path,
			strerror(errno));
		return err;
	}
	skel = calloc(1, sizeof(*skel));
	if (!skel)
		return -ENOMEM;
	err = mwan_bpf__create_skeleton(skel);
	if (!err) {
		skel->skeleton->data = l->obj_buf;
		skel->skeleton->data_sz = len;
		err = bpf_object__open_skeleton(skel->skeleton, NULL);
	}
	if (err) {
		log_err("%s: not an mwan BPF object this mwan-loader can use: %s",
			path, strerror(-err));
		mwan_bpf__destroy(skel);
		return err;
	}
	l->skel = skel;
	if (object_layout(skel) != MWAN_LAYOUT_VERSION) {
		log_err("%s: built for map layout %u, this mwan-loader uses %u; install the object of the same build",
			path, object_layout(skel), MWAN_LAYOUT_VERSION);
		return -EPROTO;
	}
	log_info("BPF object: %s", path);
	return 0;
}

/* Once per start: how much of the verifier's budget each program took
 * on this kernel (bpfctl status shows it too).
 */
static void log_verifier(struct loader *l)
{
	int err = kernel_read_verifier(&l->kernel, l->skel->obj);
	char line[256];
	size_t used = 0;
	unsigned int n;

	if (err) {
		log_warn("cannot read the verifier's instruction counts: %s",
			 strerror(-err));
		return;
	}
	line[0] = '\0';
	for (n = 0; n < l->kernel.n_prog && used < sizeof(line); n++) {
		const struct kernel_prog *p = &l->kernel.prog[n];

		used += snprintf(line + used, sizeof(line) - used,
				 "%s%s %u (%u %%)", n ? ", " : "", p->name,
				 p->verified_insns,
				 kernel_verifier_pct(p->verified_insns));
	}
	log_info("kernel %s: the verifier processed %s of %u instructions",
		 l->kernel.release, line, MWAN_VERIFIER_LIMIT);
}

/* Every map of the table, by id (MAP_FD): the other modules need the
 * descriptors, not the skeleton.
 */
static int find_maps(struct loader *l)
{
	unsigned int i;
	int fd;

	for (i = 0; i < MWAN_MAP_COUNT; i++) {
		fd = bpf_object__find_map_fd_by_name(l->skel->obj,
						     mwan_map_table[i].name);
		if (fd < 0) {
			log_err("the BPF object has no map %s",
				mwan_map_table[i].name);
			return -ENOENT;
		}
		l->map_fd[i] = fd;
	}
	return 0;
}

int dp_load(struct loader *l)
{
	char msg[512];
	int err = open_object(l);

	if (err)
		return err;
	err = set_pin_paths(l);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.mwan_flows,
					       l->cfg.flows_max);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.mwan_flows_in,
					       l->cfg.flows_inbound_max);
	if (err) {
		log_err("cannot configure the BPF object: %s", strerror(-err));
		return err;
	}
	err = adopt_pins(l);
	if (err)
		return err;
	/* A kernel without what the object needs is refused in one line
	 * before the verifier is asked. Loading before anything is attached
	 * makes pinned-map incompatibilities fail while the interfaces are
	 * untouched.
	 */
	err = kernel_check(l->kernel.release, l->skel->obj,
			   l->skel->skeleton->data, l->skel->skeleton->data_sz,
			   &kernel_probes_libbpf, msg, sizeof(msg));
	if (err) {
		log_err("%s", msg);
		return err;
	}
	err = mwan_bpf__load(l->skel);
	if (err) {
		if (kernel_load_failure(msg, sizeof(msg)))
			log_err("kernel %s: %s", l->kernel.release, msg);
		else
			log_err("cannot load the BPF programs: %s (maps pinned under %s by an incompatible version? remove them with: mwan-loader --cleanup -c %s)",
				strerror(-err), l->cfg.pin_dir, l->cfg.path);
		return err;
	}
	log_verifier(l);
	err = find_maps(l);
	if (err)
		return err;
	l->xdp = xdp_program__from_fd(bpf_program__fd(l->skel->progs.mwan_xdp));
	err = (int)libxdp_get_error(l->xdp);
	if (err) {
		l->xdp = NULL;
		log_err("libxdp cannot use the XDP program: %s",
			strerror(-err));
		return err;
	}
	return 0;
}

static const char *mode_name(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? "generic" : "native";
}

/* A previous loader's mwan_xdp attached on its own (not under libxdp's
 * dispatcher): its fd, and its XDP_FLAGS_*_MODE in mode; or -1.
 */
static int running_mwan_xdp(int ifindex, __u32 *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), id;
	int fd;

	if (bpf_xdp_query(ifindex, 0, &q))
		return -1;
	if (q.attach_mode == XDP_ATTACHED_DRV) {
		*mode = XDP_FLAGS_DRV_MODE;
		id = q.drv_prog_id;
	} else if (q.attach_mode == XDP_ATTACHED_SKB) {
		*mode = XDP_FLAGS_SKB_MODE;
		id = q.skb_prog_id;
	} else {
		return -1;
	}
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    strcmp(info.name, "mwan_xdp")) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Restart or upgrade: swap the running mwan_xdp for ours in one step
 * (XDP_FLAGS_REPLACE), so that no packet finds the interface without
 * one. Returns 1 when there was nothing to replace.
 */
static int replace_xdp(struct loader *l, struct dp_iface *i)
{
	__u32 mode = 0;
	int old = running_mwan_xdp(i->ifindex, &mode), err;
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old);

	if (old < 0)
		return 1;
	err = bpf_xdp_attach(i->ifindex,
			     bpf_program__fd(l->skel->progs.mwan_xdp),
			     XDP_FLAGS_REPLACE | mode, &opts);
	close(old);
	if (err) {
		log_err("%s: cannot replace the running mwan_xdp: %s", i->name,
			strerror(-err));
		return err;
	}
	i->xdp_mode = mode == XDP_FLAGS_SKB_MODE ? XDP_MODE_SKB :
						   XDP_MODE_NATIVE;
	i->xdp_attached = true;
	i->legacy = true;
	log_info("%s: XDP program replaced in place (%s mode)", i->name,
		 mode_name(i->xdp_mode));
	return 0;
}

/* mwan_xdp is the only XDP program on its interfaces, never under
 * libxdp's multi-program dispatcher, on every kernel (README: "XDP
 * attachment"): it must see every frame first (EAPOL, the guard, the
 * redirect), a restart swaps it in one step with XDP_FLAGS_REPLACE, and
 * the dispatcher would load it as an freplace extension, which the
 * skeleton's loaded object cannot become. libxdp's documented switch
 * for that is LIBXDP_SKIP_DISPATCHER.
 */
static int xdp_attach_single(struct loader *l, struct dp_iface *i,
			     enum xdp_attach_mode mode)
{
	setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
	return xdp_program__attach(l->xdp, i->ifindex, mode, 0);
}

static int attach_xdp(struct loader *l, struct dp_iface *i)
{
	struct xdp_multiprog *mp;
	int err;

	err = replace_xdp(l, i);
	if (err <= 0)
		return err;
	err = xdp_attach_single(l, i, XDP_MODE_NATIVE);
	i->xdp_mode = XDP_MODE_NATIVE;
	/* another program there: generic mode would be refused as well */
	if (err && err != -EEXIST && err != -EBUSY) {
		log_warn(
			"%s: native XDP not available (%s); using generic XDP, which is much slower",
			i->name, strerror(-err));
		err = xdp_attach_single(l, i, XDP_MODE_SKB);
		i->xdp_mode = XDP_MODE_SKB;
	}
	if (err) {
		log_err("%s: cannot attach XDP: %s%s", i->name, strerror(-err),
			err == -EEXIST || err == -EBUSY ?
				" (another XDP program is attached: mwan runs alone on its interfaces)" :
				"");
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

/* A WAN's egress program: the slow path's translation and the guard
 * that drops whatever would leave with an internal source.
 */
static int attach_guard(struct loader *l, struct dp_iface *i)
{
	int err = 0;

	if (i->wan >= 0 && !i->tc_out) {
		err = attach_tc(i, BPF_TC_EGRESS,
				bpf_program__fd(l->skel->progs.mwan_tc_out));
		i->tc_out = !err;
	}
	return err;
}

/* An L3 WAN (WireGuard, GRE, PPP) gets the TC programs only: XDP there
 * would read an Ethernet header that is not there, and the TC programs
 * learn from MWAN_WAN_L3 where the IP header starts.
 */
static int attach_iface(struct loader *l, struct dp_iface *i)
{
	int err = attach_guard(l, i);

	if (err)
		return err;
	err = attach_tc(i, BPF_TC_INGRESS,
			bpf_program__fd(l->skel->progs.mwan_tc_in));
	if (err)
		return err;
	i->tc_in = true;
	if (i->l3) {
		log_info("%s: no Ethernet header: TC only, no XDP", i->name);
		return 0;
	}
	return attach_xdp(l, i);
}

/* mwan_attach: every interface with a program of ours, as the next run
 * or --cleanup will need to know it. An interface followed to a new
 * index keeps its slot (n), so nothing is lost in between.
 */
static void record_attachments(struct loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.mwan_attach);
	__u32 n;

	for (n = 0; n < MWAN_MAX_ATTACH; n++) {
		struct mwan_attach v = { 0 };
		const struct dp_iface *i = n < l->n_ifaces ? &l->ifaces[n] :
							     NULL;

		if (i && i->ifindex > 0 &&
		    (i->xdp_attached || i->tc_in || i->tc_out)) {
			v.ifindex = i->ifindex;
			snprintf(v.name, sizeof(v.name), "%s", i->name);
			v.xdp = i->xdp_attached;
			v.tc_in = i->tc_in;
			v.tc_out = i->tc_out;
		}
		if (bpf_map_update_elem(fd, &n, &v, BPF_ANY))
			log_warn("cannot record the attachments in %s: %s",
				 MWAN_MAP(attach)->name, strerror(errno));
	}
}

static struct dp_iface *in_config(struct loader *l, int ifindex)
{
	unsigned int n;

	for (n = 0; n < l->n_ifaces; n++)
		if (l->ifaces[n].ifindex == ifindex)
			return &l->ifaces[n];
	return NULL;
}

/* What a previous run recorded (fd: its mwan_attach) on interfaces this
 * config does not use comes off: a WAN removed from the config, a LAN
 * moved to a bridge; so does the egress program of a WAN that is the
 * LAN now. Only mwan's own programs are touched, whatever now has that
 * index.
 */
static void detach_recorded(struct loader *l, int fd)
{
	__u32 n;

	for (n = 0; n < MWAN_MAX_ATTACH; n++) {
		struct dp_iface i = { .wan = -1 }, *now_i;
		struct mwan_attach v;
		char now[IF_NAMESIZE];

		if (bpf_map_lookup_elem(fd, &n, &v) || !v.ifindex ||
		    !if_indextoname(v.ifindex, now))
			continue; /* gone, and our programs with it */
		snprintf(i.name, sizeof(i.name), "%s", now);
		i.ifindex = v.ifindex;
		now_i = in_config(l, v.ifindex);
		if (now_i) {
			if (v.tc_out && now_i->wan < 0)
				detach_tc(&i, BPF_TC_EGRESS);
			continue;
		}
		/* cleanup_iface detaches egress from WANs only */
		i.wan = v.tc_out ? 0 : -1;
		log_info(
			"%s: not in this config; removing the%s%s%s a previous run attached",
			now, v.xdp ? " XDP" : "", v.tc_in ? " TC-in" : "",
			v.tc_out ? " TC-out" : "");
		cleanup_iface(&i);
	}
}

static void detach_stale(struct loader *l)
{
	detach_recorded(l, bpf_map__fd(l->skel->maps.mwan_attach));
}

/* Once per start, what this kernel gave us. tc_mode is "clsact" on every
 * kernel: tcx (6.6+) would be a second attach path to test, and Debian
 * 12's libbpf has no API for it (README: "XDP and TC attachment").
 */
static void log_attach_modes(const struct loader *l)
{
	char native[128] = "", generic[128] = "", l3[128] = "";
	size_t nn = 0, ng = 0, nl = 0;
	unsigned int n;

	for (n = 0; n < l->n_ifaces; n++) {
		const struct dp_iface *i = &l->ifaces[n];

		if (!i->xdp_attached)
			continue;
		if (i->xdp_mode == XDP_MODE_SKB && ng < sizeof(generic))
			ng += snprintf(generic + ng, sizeof(generic) - ng,
				       " %s", i->name);
		else if (i->xdp_mode != XDP_MODE_SKB && nn < sizeof(native))
			nn += snprintf(native + nn, sizeof(native) - nn, " %s",
				       i->name);
	}
	for (n = 0; n < l->n_ifaces; n++)
		if (l->ifaces[n].l3 && nl < sizeof(l3))
			nl += snprintf(l3 + nl, sizeof(l3) - nl, " %s",
				       l->ifaces[n].name);
	log_info(
		"kernel %s: XDP single-program, native on%s, generic on%s; TC %s on every interface%s%s",
		l->kernel.release, nn ? native : " none",
		ng ? generic : " none", MWAN_TC_MODE,
		nl ? "; no XDP on L3" : "", l3);
}

/* Every WAN's guard first: a start that fails after them (an interface
 * that refuses XDP) leaves no path out of a WAN for an internal source
 * (fail closed; see dp_guarded).
 */
int dp_attach(struct loader *l)
{
	unsigned int n;
	int err;

	for (n = 0; n < l->n_ifaces; n++)
		l->ifaces[n].l3 =
			l->ifaces[n].wan >= 0 &&
			mwan_link_l3(mwan_link_type(l->ifaces[n].name));
	detach_stale(l);
	for (n = 0; n < l->n_ifaces; n++) {
		err = attach_guard(l, &l->ifaces[n]);
		record_attachments(l);
		if (err)
			return err;
	}
	for (n = 0; n < l->n_ifaces; n++) {
		err = attach_iface(l, &l->ifaces[n]);
		record_attachments(l);
		if (err)
			return err;
	}
	log_attach_modes(l);
	return 0;
}

bool dp_xdp_tx(const struct dp_iface *i)
{
	return i->xdp_attached && i->xdp_mode != XDP_MODE_SKB;
}

bool dp_guarded(const struct loader *l)
{
	unsigned int n;

	for (n = 0; n < l->n_ifaces; n++)
		if (l->ifaces[n].wan >= 0 && !l->ifaces[n].tc_out)
			return false;
	return l->n_ifaces > 1;
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
		i->l3 = i->wan >= 0 && mwan_link_l3(mwan_link_type(i->name));
		if (attach_iface(l, i))
			log_err("%s: attaching again failed; its traffic is left to the kernel",
				i->name);
	}
	nlw_forget_deleted(l);
	if (changed)
		record_attachments(l);
	return changed;
}

void dp_close(struct loader *l)
{
	if (l->xdp)
		xdp_program__close(l->xdp);
	l->xdp = NULL;
	mwan_bpf__destroy(l->skel);
	l->skel = NULL;
	free(l->obj_buf);
	l->obj_buf = NULL;
}

#define FIELD(to, ...) snprintf(to, sizeof(to), __VA_ARGS__)

/* RUN_DIR/status (lib/rundir.h): how each interface is attached, what
 * the verifier said of each program, what each mwan_health target slot
 * probes as the config writes it (the map holds only numbers).
 */
int dp_write_status(const struct loader *l)
{
	static struct mwan_status st;
	unsigned int n, w, t;

	memset(&st, 0, sizeof(st));
	FIELD(st.kernel, "%s", l->kernel.release);
	for (n = 0; n < l->kernel.n_prog && n < MWAN_STATUS_PROGS; n++) {
		struct mwan_status_prog *p = &st.prog[st.n_prog++];

		FIELD(p->name, "%s", l->kernel.prog[n].name);
		p->verified_insns = l->kernel.prog[n].verified_insns;
		p->limit_pct = kernel_verifier_pct(p->verified_insns);
	}
	for (n = 0; n < l->n_ifaces && n < MWAN_STATUS_IFACES; n++) {
		const struct dp_iface *i = &l->ifaces[n];
		struct mwan_status_iface *s = &st.iface[st.n_iface++];

		FIELD(s->name, "%s", i->name);
		/* "lan" for the one-LAN spelling, "lan:NAME" for lans: */
		if (i->wan < 0 && !l->cfg.lans_list)
			FIELD(s->role, "lan");
		else if (i->wan < 0)
			FIELD(s->role, "lan:%s", l->cfg.lans[n].name);
		else
			FIELD(s->role, "wan:%s", l->cfg.wans[i->wan].name);
		FIELD(s->xdp_mode, "%s",
		      i->xdp_attached ? mode_name(i->xdp_mode) : "none");
		FIELD(s->dispatcher, "%s", i->legacy ? "single" : "multiprog");
		FIELD(s->tc_mode, "%s", i->tc_in ? MWAN_TC_MODE : "none");
	}
	for (w = 0; w < l->cfg.n_wans; w++)
		for (t = 0; t < l->cfg.wans[w].n_probe_targets &&
			    st.n_target < MWAN_STATUS_TARGETS;
		     t++) {
			struct mwan_status_target *s =
				&st.target[st.n_target++];

			FIELD(s->wan, "%s", l->cfg.wans[w].name);
			s->index = t;
			FIELD(s->text, "%s",
			      l->cfg.wans[w].probe_targets[t].text);
		}
	return mwan_status_write(l->cfg.run_dir, &st);
}

/* ---- mwan-loader --cleanup ---- */

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
	char path[PATH_MAX + 32];
	unsigned int n;
	int err, fd;

	for (n = 0; n < l->n_ifaces; n++)
		cleanup_iface(&l->ifaces[n]);
	snprintf(path, sizeof(path), "%s/%s", l->cfg.pin_dir,
		 MWAN_MAP(attach)->name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		detach_recorded(l, fd);
		close(fd);
	}
	l->skel = mwan_bpf__open();
	if (!l->skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", strerror(-err));
		return err;
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
