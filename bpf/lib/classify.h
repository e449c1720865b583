/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Classify stage: whose interface, what the frame carries, where L3 starts. */
#ifndef MWAN_BPF_CLASSIFY_H
#define MWAN_BPF_CLASSIFY_H

#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>

#include "cfg.h"
#include "maps.h"
#include "ctx.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

enum l2_class {
	L2_IPV4, /* untagged IPv4: ours to look at */
	L2_IPV6, /* untagged IPv6 */
	L2_CONTROL, /* EAPOL, bridge-group addresses: never touched */
	L2_VLAN, /* tagged data: the kernel's VLAN devices own it */
	L2_OTHER, /* ARP, anything else */
	L2_SHORT,
};

/* Link-local control frames (01:80:c2:00:00:00-0f: STP, LLDP, EAPOL's
 * PAE group) go to the kernel whatever their EtherType.
 */
static __always_inline bool eth_is_control_dst(const struct ethhdr *eth)
{
	return eth->h_dest[0] == 0x01 && eth->h_dest[1] == 0x80 &&
	       eth->h_dest[2] == 0xc2 && eth->h_dest[3] == 0 &&
	       eth->h_dest[4] == 0 && (eth->h_dest[5] & 0xf0) == 0;
}

static __always_inline bool eth_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) ||
	       proto == bpf_htons(ETH_P_8021AD);
}

/* EAPOL must be recognised under up to two tags (802.1ad + 802.1Q,
 * including priority-only VLAN 0) so the supplicant keeps working on
 * tagged ISP links.
 */
static __always_inline enum l2_class parse_l2(void *ctx, bool xdp)
{
	struct ethhdr eth;
	__be16 proto;
	__u32 off = sizeof(eth);
	int i;

	if (ctx_load(ctx, xdp, 0, &eth, sizeof(eth)))
		return L2_SHORT;
	if (eth_is_control_dst(&eth))
		return L2_CONTROL;
	proto = eth.h_proto;
	if (proto == bpf_htons(ETH_P_IP))
		return L2_IPV4;
	if (proto == bpf_htons(ETH_P_IPV6))
		return L2_IPV6;
#pragma clang loop unroll(full)
	for (i = 0; i < 2; i++) {
		if (!eth_is_vlan(proto))
			break;
		/* The inner EtherType sits in the last 2 bytes of the tag. */
		if (ctx_load(ctx, xdp, off + 2, &proto, sizeof(proto)))
			return L2_SHORT;
		off += 4;
	}
	if (proto == bpf_htons(ETH_P_PAE))
		return L2_CONTROL;
	if (off != sizeof(eth))
		return L2_VLAN;
	return L2_OTHER;
}

#define IFACE_LAN MWAN_MAX_WANS /* iface_of(): a LAN */
#define IFACE_NONE (MWAN_MAX_WANS + 1) /* not an interface of ours */

/* The interface a packet is on: IFACE_LAN (whichever LAN), a WAN id, or
 * IFACE_NONE.
 */
static __always_inline __u32 iface_of(const struct mwan_cfg *cfg, __u32 ifindex)
{
	__u32 i;

#pragma clang loop unroll(full)
	for (i = 0; i < MWAN_MAX_LANS; i++)
		if (cfg->lan[i].ifindex == ifindex)
			return IFACE_LAN;
#pragma clang loop unroll(full)
	for (i = 0; i < MWAN_MAX_WANS; i++)
		if (cfg->wan_ifindex[i] == ifindex)
			return i;
	return IFACE_NONE;
}

/* LAN i of the config, for what goes out to it; NULL: none. */
static __always_inline const struct mwan_lan *lan_at(const struct mwan_cfg *cfg,
						     __u32 i)
{
	return i < MWAN_MAX_LANS && cfg->lan[i].ifindex ? &cfg->lan[i] : NULL;
}

static __always_inline int l2_pass(enum l2_class c)
{
	if (c == L2_CONTROL)
		return MWAN_EV_PASS_CONTROL;
	if (c == L2_VLAN)
		return MWAN_EV_PASS_VLAN;
	return MWAN_EV_PASS_NOT_IP;
}

/* What a TC program sees on interface ifc, and where its IP header
 * starts (*l3): after the Ethernet header, or at 0 on an L3 WAN, whose
 * skb->protocol says what it carries.
 */
static __always_inline enum l2_class tc_classify(struct __sk_buff *skb,
						 __u32 ifc, __u32 *l3)
{
	const struct mwan_wan *w = NULL;

	*l3 = sizeof(struct ethhdr);
	if (ifc < MWAN_MAX_WANS)
		w = bpf_map_lookup_elem(&mwan_wans, &ifc);
	if (!w || !(w->flags & MWAN_WAN_L3))
		return parse_l2(skb, false);
	*l3 = 0;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		return L2_IPV4;
	if (skb->protocol == bpf_htons(ETH_P_IPV6))
		return L2_IPV6;
	return L2_OTHER;
}

#endif
