/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The loader's side of the flow tables: flows whose mapping or prefix went away are removed, and counted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flows.h"
#include "loader.h"
#include "log.h"
#include "mapio.h"

/* What a walk over mwan_flows does with one flow. */
enum flow_fate {
	FLOW_KEEP,
	FLOW_DELETE,
	FLOW_HOSTMASK, /* the callback set f->hostmask: store it in place */
};

typedef enum flow_fate (*flow_judge)(const struct loader *l,
				     const struct mwan_flow_key *k,
				     struct mwan_flow *f, __u32 arg);

static __u8 host_wan_mask(const struct loader *l, const struct mwan_cfg_nat *n)
{
	__u8 mask = 0;
	unsigned int w;

	for (w = 0; w < l->cfg.n_wans; w++)
		if (n->has_ext[w])
			mask |= 1U << w;
	return mask;
}

/* A flow whose host lost its mapping, or whose public address changed,
 * must not keep translating with the old one. A host that only gained or
 * lost other WANs keeps its flows, with the new set of WANs recorded for
 * the datapath's steering check.
 */
static enum flow_fate flow4_judge(const struct loader *l,
				  const struct mwan_flow_key *k,
				  struct mwan_flow *f)
{
	const struct mwan_cfg_nat *n = mwan_config_nat_of(&l->cfg, k->inner4);
	__u8 mask;

	if (!n || f->wan >= l->cfg.n_wans || !n->has_ext[f->wan] ||
	    n->ext[f->wan].s_addr != f->ext4)
		return FLOW_DELETE;
	mask = host_wan_mask(l, n);
	if (f->origin != MWAN_ORIGIN_LAN || f->hostmask == mask)
		return FLOW_KEEP;
	f->hostmask = mask;
	return FLOW_HOSTMASK;
}

/* Nor an IPv6 flow of a host outside lan.ipv6 or on a WAN without NPTv6. */
static bool flow6_stale(const struct loader *l, const struct mwan_flow_key *k,
			const struct mwan_flow *f)
{
	return !l->cfg.has_lan6 || f->wan >= l->cfg.n_wans ||
	       !l->cfg.wans[f->wan].has_npt ||
	       !mwan_config_in_lan6(&l->cfg, k->inner6);
}

struct flow_change {
	struct mwan_flow_key key;
	struct mwan_flow val;
	bool hostmask;
};

/* Adds the flows removed by origin to mwan_flowstat. */
static void count_removed(const struct loader *l, const __u64 removed[2])
{
	int fd = MAP_FD(l, flowstat);
	struct mwan_flowstat v;
	__u32 o;

	for (o = 0; o < 2; o++) {
		if (!removed[o] || bpf_map_lookup_elem(fd, &o, &v))
			continue;
		v.removed += removed[o];
		bpf_map_update_elem(fd, &o, &v, BPF_ANY);
	}
}

/* A flow's hostmask stored in place by mwan_hostmask: the value is
 * never rewritten whole, so no packet the programs count meanwhile is
 * lost. A flow gone since the walk is not an error.
 */
static void store_hostmask(const struct loader *l,
			   const struct mwan_flow_key *key, __u8 mask)
{
	struct mwan_hostmask_req req = { .key = *key, .mask = mask };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &req,
		    .ctx_size_in = sizeof(req));
	int err = bpf_prog_test_run_opts(l->hostmask_fd, &opts);

	if (err || opts.retval)
		log_warn("cannot update a flow's WANs: %s",
			 strerror(err ? errno : EINVAL));
}

/* Applies `judge` to every flow of one table. Changes are collected
 * first: deleting during the walk would restart it.
 */
static void table_walk(const struct loader *l, int fd, flow_judge judge,
		       __u32 arg)
{
	struct mwan_flow_key key, next;
	__u64 removed[2] = { 0, 0 };
	struct flow_change *chg = NULL, *tmp;
	size_t n = 0, cap = 0, i;
	struct mwan_flow f;
	enum flow_fate fate;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &f))
			continue;
		fate = judge(l, &key, &f, arg);
		if (fate == FLOW_KEEP)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			tmp = reallocarray(chg, cap, sizeof(*chg));
			if (!tmp)
				break;
			chg = tmp;
		}
		chg[n++] =
			(struct flow_change){ key, f, fate == FLOW_HOSTMASK };
	}
	for (i = 0; i < n; i++) {
		if (chg[i].hostmask)
			store_hostmask(l, &chg[i].key, chg[i].val.hostmask);
		else if (!bpf_map_delete_elem(fd, &chg[i].key))
			removed[chg[i].val.origin & 1]++;
	}
	free(chg);
	count_removed(l, removed);
}

/* Both tables: flows opened from a LAN, and from outside. */
static void flows_walk(const struct loader *l, flow_judge judge, __u32 arg)
{
	table_walk(l, MAP_FD(l, flows), judge, arg);
	table_walk(l, MAP_FD(l, flows_in), judge, arg);
}

static enum flow_fate flow_judge_cfg(const struct loader *l,
				     const struct mwan_flow_key *k,
				     struct mwan_flow *f, __u32 unused)
{
	(void)unused;
	if (k->family == AF_INET)
		return flow4_judge(l, k, f);
	if (k->family == AF_INET6 && flow6_stale(l, k, f))
		return FLOW_DELETE;
	return FLOW_KEEP;
}

void flows_prune(const struct loader *l)
{
	flows_walk(l, flow_judge_cfg, 0);
}

static enum flow_fate flow6_on(const struct loader *l,
			       const struct mwan_flow_key *k,
			       struct mwan_flow *f, __u32 wan_mask)
{
	(void)l;
	if (k->family == AF_INET6 && f->wan < 32 && (wan_mask & (1U << f->wan)))
		return FLOW_DELETE;
	return FLOW_KEEP;
}

void flows_drop6(const struct loader *l, __u32 wan_mask)
{
	if (wan_mask)
		flows_walk(l, flow6_on, wan_mask);
}
