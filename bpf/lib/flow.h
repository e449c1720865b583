/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow stage: flow keys of both families, the flow tables, accounting. */
#ifndef MWAN_BPF_FLOW_H
#define MWAN_BPF_FLOW_H

#include "maps.h"
#include "stats.h"
#include "parse6.h"

#ifndef AF_INET
#define AF_INET 2
#endif

static __always_inline void flow_key4(struct mwan_flow_key *k, __u8 proto,
				      __be32 inner, __be16 iport, __be32 remote,
				      __be16 rport)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->family = AF_INET;
	k->proto = proto;
	k->sport = iport;
	k->dport = rport;
	k->inner4 = inner;
	k->remote4 = remote;
}

/* Flow times need no precision (bpfctl shows them in tenths of a second)
 * and the coarse clock costs half as much per packet.
 */
static __always_inline void flow_account(struct mwan_flow *f, bool out,
					 __u32 bytes)
{
	f->seen_ns = bpf_ktime_get_coarse_ns();
	if (out) {
		__sync_fetch_and_add(&f->pkts_out, 1);
		__sync_fetch_and_add(&f->bytes_out, bytes);
	} else {
		__sync_fetch_and_add(&f->pkts_in, 1);
		__sync_fetch_and_add(&f->bytes_in, bytes);
	}
}

/* A flow, in whichever table its origin put it: a flow opened from the
 * LAN is found by the first lookup, one opened from outside by the
 * second (maps/mwan_maps.h says why they are apart).
 */
static __always_inline struct mwan_flow *
flow_lookup(const struct mwan_flow_key *k)
{
	struct mwan_flow *f = bpf_map_lookup_elem(&mwan_flows, k);

	return f ? f : bpf_map_lookup_elem(&mwan_flows_in, k);
}

static __always_inline struct mwan_flow *
flow_create(const struct mwan_flow_key *k, __u32 wan, __be32 ext, __u8 origin,
	    __u32 hostmask)
{
	struct mwan_flow f = {};

	f.created_ns = bpf_ktime_get_coarse_ns();
	f.seen_ns = f.created_ns;
	f.wan = wan;
	f.ext4 = ext;
	f.origin = origin;
	f.hostmask = hostmask;
	/* NOEXIST: when two CPUs race on a new flow, the first one wins and
	 * the other adopts its choice.
	 */
	if (origin == MWAN_ORIGIN_WAN) {
		if (!bpf_map_update_elem(&mwan_flows_in, k, &f, BPF_NOEXIST)) {
			stat_inc(MWAN_EV_FLOW_NEW);
			stat_inc(MWAN_EV_FLOW_NEW_IN);
		}
		return bpf_map_lookup_elem(&mwan_flows_in, k);
	}
	if (!bpf_map_update_elem(&mwan_flows, k, &f, BPF_NOEXIST))
		stat_inc(MWAN_EV_FLOW_NEW);
	return bpf_map_lookup_elem(&mwan_flows, k);
}

/* The flow key of a packet seen from the internal host, whose address is
 * `inner`. `outbound`: the packet travels from the host to the remote.
 */
static __always_inline void flow_key_of(struct mwan_flow_key *k,
					const struct pkt4 *p, __be32 inner,
					bool outbound)
{
	__be32 remote = outbound ? p->daddr : p->saddr;
	__be16 iport = outbound ? p->sport : p->dport;
	__be16 rport = outbound ? p->dport : p->sport;

	if (p->proto == IPPROTO_ICMP) {
		iport = p->sport; /* echo identifier, either direction */
		rport = 0;
	}
	flow_key4(k, p->proto, inner, iport, remote, rport);
}

/* As flow_key_of, for IPv6. */
static __always_inline void flow_key_of6(struct mwan_flow_key *k,
					 const struct pkt6 *p,
					 const struct addr6 *inner,
					 bool outbound)
{
	const struct addr6 *remote = outbound ? &p->daddr : &p->saddr;
	__be16 iport = outbound ? p->sport : p->dport;
	__be16 rport = outbound ? p->dport : p->sport;

	if (p->proto == NEXTHDR_ICMPV6) {
		iport = p->sport;
		rport = 0;
	}
	__builtin_memset(k, 0, sizeof(*k));
	k->family = AF_INET6;
	k->proto = p->proto;
	k->sport = iport;
	k->dport = rport;
	__builtin_memcpy(k->inner6, inner, 16);
	__builtin_memcpy(k->remote6, remote, 16);
}

#endif
