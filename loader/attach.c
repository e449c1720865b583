/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* XDP and TC on the LANs and WANs: attach, follow re-created interfaces, detach what is stale, record it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "attach.h"
#include "loader.h"
#include "log.h"
#include "nlcache.h"
#include "../lib/maptable.h"
#include "../lib/rundir.h"
#include "../lib/syscheck.h"
#include "mwan.skel.h"

#define TC_HANDLE 0x6d77
#define TC_PRIO 1

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
int attach_all(struct loader *l)
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

bool attach_xdp_tx(const struct dp_iface *i)
{
	return i->xdp_attached && i->xdp_mode != XDP_MODE_SKB;
}

bool attach_guarded(const struct loader *l)
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

	if (i->ifindex > 0 && !nlc_link_deleted(l->nl, i->ifindex) &&
	    if_indextoname(i->ifindex, name))
		detach_iface(l, i);
	i->xdp_attached = i->tc_in = i->tc_out = false;
}

static int current_ifindex(struct loader *l, const char *name)
{
	struct nlc_link_info link;

	if (nlc_link(l->nl, name, &link) || !link.exists)
		return 0;
	return link.ifindex;
}

/* An interface deleted and created again (a USB modem replugged, a PPP or
 * VLAN device recreated, `ip link del` and add) comes back with a new
 * ifindex and none of our programs: follow it by name and attach again.
 * Returns true when some interface's index changed; the caller then
 * rewrites the maps keyed or filled by ifindex.
 */
bool attach_follow_links(struct loader *l)
{
	bool changed = false;
	unsigned int n;

	for (n = 0; n < l->n_ifaces; n++) {
		struct dp_iface *i = &l->ifaces[n];
		int now = current_ifindex(l, i->name);

		if (now == i->ifindex &&
		    !(now > 0 && nlc_link_deleted(l->nl, now)))
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
	nlc_forget_deleted(l->nl);
	if (changed)
		record_attachments(l);
	return changed;
}

#define FIELD(to, ...) snprintf(to, sizeof(to), __VA_ARGS__)

/* RUN_DIR/status (lib/rundir.h): how each interface is attached, what
 * the verifier said of each program, what each mwan_health target slot
 * probes as the config writes it (the map holds only numbers).
 */
int attach_write_status(const struct loader *l)
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

int attach_cleanup(struct loader *l)
{
	char path[PATH_MAX + 32];
	unsigned int n;
	int fd;

	for (n = 0; n < l->n_ifaces; n++)
		cleanup_iface(&l->ifaces[n]);
	snprintf(path, sizeof(path), "%s/%s", l->cfg.pin_dir,
		 MWAN_MAP(attach)->name);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		detach_recorded(l, fd);
		close(fd);
	}
	return 0;
}
