/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Every drop reason and datapath event mwan counts, with its name. */
#ifndef MWAN_REASONS_H
#define MWAN_REASONS_H

/* X(enum suffix, name shown by bpfctl). Drops come first so that
 * "is this a drop" is a single comparison.
 */
#define MWAN_DROPS(X)                             \
	X(TRUNCATED, "truncated")                 \
	X(INTERNAL_SRC, "internal_src_on_wan")    \
	X(PRIVATE_SRC, "private_src_on_wan")      \
	X(FRAG_UNMATCHED, "frag_unmatched")       \
	X(ICMP_NO_FLOW, "icmp_error_no_flow")     \
	X(ICMP_BAD_INNER, "icmp_error_bad_inner") \
	X(NO_WAN, "no_usable_wan")                \
	X(FLOW_INSERT, "flow_insert_failed")      \
	X(WRONG_WAN, "public_addr_wrong_wan")     \
	X(NPT_NO_PREFIX, "npt_no_prefix")         \
	X(NPT_UNMAPPABLE, "npt_unmappable_addr")  \
	X(SPOOFED_LAN_SRC, "spoofed_lan_src")     \
	X(SPOOFED_OWN_SRC, "spoofed_own_src")     \
	X(BOGON_SRC, "bogon_src")                 \
	X(FILTERED_SRC, "filtered_src")           \
	X(INTERNAL_DST, "internal_dst_on_wan")    \
	X(BCP38_SRC, "bcp38_src")                 \
	X(WAN_TO_WAN, "wan_to_wan")               \
	X(STORE_FAILED, "rewrite_failed")

#define MWAN_EVENTS(X)                        \
	X(XDP_FWD_OUT, "xdp_forward_out")     \
	X(XDP_FWD_IN, "xdp_forward_in")       \
	X(TC_SNAT, "tc_snat")                 \
	X(TC_DNAT, "tc_dnat")                 \
	X(TC_MARK, "tc_mark")                 \
	X(FLOW_NEW, "flow_new")               \
	X(FLOW_NEW_IN, "flow_new_inbound")    \
	X(FLOW_MOVED, "flow_moved")           \
	X(ICMP_ERR_OUT, "icmp_error_out")     \
	X(ICMP_ERR_IN, "icmp_error_in")       \
	X(FRAG_OUT, "frag_out")               \
	X(FRAG_IN, "frag_in")                 \
	X(PASS_NOT_IP, "pass_not_ip")         \
	X(PASS_CONTROL, "pass_control")       \
	X(PASS_VLAN, "pass_vlan")             \
	X(PASS_LOCAL, "pass_local")           \
	X(PASS_ROUTED, "pass_other_route")    \
	X(PASS_MARTIAN, "pass_martian_src")   \
	X(PASS_EXT_HDR, "pass_ipv6_ext_hdr")  \
	X(PASS_UNMAPPED, "pass_unmapped")     \
	X(PASS_SLOW_PATH, "pass_slow_path")   \
	X(PASS_TTL, "pass_ttl")               \
	X(PASS_IP_OPTIONS, "pass_ip_options") \
	X(PASS_MTU, "pass_mtu")               \
	X(PASS_NO_NEIGH, "pass_no_neigh")     \
	X(PASS_NOT_READY, "pass_not_ready")   \
	X(PASS_NO_XDP_TX, "pass_no_xdp_tx")

#define MWAN_ENUM_DROP(n, s) MWAN_DROP_##n,
#define MWAN_ENUM_EV(n, s) MWAN_EV_##n,
enum mwan_stat {
	MWAN_DROPS(MWAN_ENUM_DROP) MWAN_DROP_MAX_,
	MWAN_STAT_EV_FIRST_ = MWAN_DROP_MAX_ - 1,
	MWAN_EVENTS(MWAN_ENUM_EV) MWAN_STAT_MAX,
};
#undef MWAN_ENUM_DROP
#undef MWAN_ENUM_EV

#define MWAN_STAT_IS_DROP(s) ((s) < MWAN_DROP_MAX_)

#endif
