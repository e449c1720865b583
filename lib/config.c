/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The mwan.yaml schema: its keys, defaults and cross-field checks, to struct mwan_config. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <yaml.h>

#include "config.h"
#include "err.h"
#include "health.h"
#include "yamlwalk.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FILE_SIZE (1 << 20)

/* The config the handlers fill: the walk's data. */
static struct mwan_config *cfg_of(const struct yw_parser *p)
{
	return p->data;
}

/* Whether a is inside prefix/plen (IPv6, 16 bytes each). */
static bool in_prefix6(const struct in6_addr *a, const struct in6_addr *prefix,
		       unsigned int plen)
{
	unsigned int i;

	for (i = 0; i < 16 && plen; i++) {
		unsigned int bits = plen >= 8 ? 8 : plen;
		unsigned char m = (unsigned char)(0xff << (8 - bits));

		if ((a->s6_addr[i] ^ prefix->s6_addr[i]) & m)
			return false;
		plen -= bits;
	}
	return true;
}

/* Link-local (fe80::/10) and multicast (ff00::/8): never a LAN's or a
 * delegated prefix.
 */
static bool ipv6_scoped(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MULTICAST(a);
}

/* ---- top level and lan ---- */

static int parse_pin_dir(struct yw_parser *p, const struct yw_item *it,
			 void *obj)
{
	struct mwan_config *cfg = obj;

	return yw_get_path(p, it, cfg->pin_dir);
}

/* The control socket RUN_DIR/control must fit a socket address. */
static int parse_run_dir(struct yw_parser *p, const struct yw_item *it,
			 void *obj)
{
	struct mwan_config *cfg = obj;
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) -
		     sizeof("/control");

	if (yw_get_path(p, it, cfg->run_dir))
		return -1;
	if (strlen(cfg->run_dir) > max)
		return yw_fail(
			p, yw_val_line(it), it->field,
			"too long for the control socket's path (at most %zu characters)",
			max);
	return 0;
}

static int parse_fast_path(struct yw_parser *p, const struct yw_item *it,
			   void *obj)
{
	struct mwan_config *cfg = obj;

	return yw_get_bool(p, it, &cfg->fast_path);
}

static int parse_flows_max(struct yw_parser *p, const struct yw_item *it,
			   void *obj)
{
	struct mwan_config *cfg = obj;

	return yw_get_uint(p, it, MWAN_FLOWS_MIN, MWAN_FLOWS_MAX,
			   &cfg->flows_max);
}

static int parse_flows_inbound_max(struct yw_parser *p,
				   const struct yw_item *it, void *obj)
{
	struct mwan_config *cfg = obj;

	return yw_get_uint(p, it, MWAN_FLOWS_MIN, MWAN_FLOWS_MAX,
			   &cfg->flows_inbound_max);
}

/* A WAN's or LAN's name: what bpfctl and the pinned maps show. */
static bool valid_wan_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	return n && n < MWAN_NAME_LEN && !s[n];
}

static int parse_lan_if(struct yw_parser *p, const struct yw_item *it,
			void *obj)
{
	struct mwan_cfg_lan *lan = obj, *o;
	struct mwan_config *cfg = cfg_of(p);

	lan->iface_line = it->line;
	if (yw_get_ifname(p, it, lan->ifname))
		return -1;
	for (o = cfg->lans; o < lan; o++)
		if (!strcmp(o->ifname, lan->ifname))
			return yw_fail(p, yw_val_line(it), it->field,
				       "interface '%s' is also %s.interface",
				       lan->ifname, o->field);
	return 0;
}

static uint32_t mask4(unsigned int plen)
{
	return plen ? ~0U << (32 - plen) : 0;
}

static void net4_text(struct in_addr net, unsigned int plen, char *buf)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &net, a, sizeof(a));
	sprintf(buf, "%s/%u", a, plen);
}

/* /31 and /32 leave no room for a host to map; two LANs never overlap
 * (an address must name one host on one LAN).
 */
static int parse_lan_ipv4(struct yw_parser *p, const struct yw_item *it,
			  void *obj)
{
	struct mwan_cfg_lan *lan = obj, *o;
	struct mwan_config *cfg = cfg_of(p);
	char other[INET_ADDRSTRLEN + 4];

	lan->ipv4_line = yw_val_line(it);
	if (yw_get_cidr(p, it, AF_INET, 30, &lan->net4, &lan->plen4))
		return -1;
	for (o = cfg->lans; o < lan; o++) {
		uint32_t m =
			mask4(o->plen4 < lan->plen4 ? o->plen4 : lan->plen4);

		if (((ntohl(o->net4.s_addr) ^ ntohl(lan->net4.s_addr)) & m))
			continue;
		net4_text(o->net4, o->plen4, other);
		return yw_fail(p, yw_val_line(it), it->field,
			       "'%s' overlaps %s.ipv4 %s", yw_str(it), o->field,
			       other);
	}
	return 0;
}

/* NPTv6 maps whole subnets, so the LAN prefix is at most a /64; and one
 * internal prefix per WAN, so one LAN at most has one.
 */
static int parse_lan_ipv6(struct yw_parser *p, const struct yw_item *it,
			  void *obj)
{
	struct mwan_cfg_lan *lan = obj;
	struct mwan_config *cfg = cfg_of(p);

	if (cfg->has_lan6)
		return yw_fail(
			p, yw_val_line(it), it->field,
			"%s.ipv6 is set already: NPTv6 maps one internal prefix per WAN, so one LAN at most has ipv6",
			cfg->lans[cfg->lan6].field);
	cfg->has_lan6 = true;
	cfg->lan6 = lan - cfg->lans;
	cfg->lan_ipv6_line = yw_val_line(it);
	if (yw_get_cidr(p, it, AF_INET6, 64, &cfg->lan_net6, &cfg->lan_plen6))
		return -1;
	if (ipv6_scoped(&cfg->lan_net6))
		return yw_fail(
			p, yw_val_line(it), it->field,
			"'%s' is link-local or multicast, no prefix to translate",
			yw_str(it));
	return 0;
}

static int parse_lan_name(struct yw_parser *p, const struct yw_item *it,
			  void *obj)
{
	struct mwan_cfg_lan *lan = obj, *o;
	struct mwan_config *cfg = cfg_of(p);
	struct yw_quoted qv;

	if (yw_get_str(p, it))
		return -1;
	if (!valid_wan_name(yw_str(it)))
		return yw_fail(
			p, yw_val_line(it), it->field,
			"invalid LAN name '%s' (1 to %d of a-z, 0-9, _ and -)",
			yw_quote(&qv, yw_str(it)), MWAN_NAME_LEN - 1);
	for (o = cfg->lans; o < lan; o++)
		if (!strcmp(o->name, yw_str(it)))
			return yw_fail(
				p, yw_val_line(it), it->field,
				"duplicate LAN name '%s' (first at line %u)",
				yw_str(it), o->line);
	strcpy(lan->name, yw_str(it));
	return 0;
}

static const struct yw_key lan_keys[] = {
	{ .key = "interface", .fn = parse_lan_if, .required = true },
	{ .key = "ipv4", .fn = parse_lan_ipv4, .required = true },
	{ .key = "ipv6", .fn = parse_lan_ipv6 },
};

static const struct yw_key lans_keys[] = {
	{ .key = "name", .fn = parse_lan_name, .required = true },
	{ .key = "interface", .fn = parse_lan_if, .required = true },
	{ .key = "ipv4", .fn = parse_lan_ipv4, .required = true },
	{ .key = "ipv6", .fn = parse_lan_ipv6 },
};

/* lan: the one-LAN spelling, a LAN named "lan". */
static int parse_lan(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_config *cfg = obj;
	struct mwan_cfg_lan *lan = &cfg->lans[0];

	strcpy(lan->name, "lan");
	strcpy(lan->field, "lan");
	lan->line = it->line;
	if (YW_PARSE_KEYS(p, it, lan_keys, lan))
		return -1;
	cfg->n_lans = 1;
	return 0;
}

static int parse_lans(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_config *cfg = obj;
	yaml_node_item_t *id;
	struct yw_item el;

	if (cfg->n_lans)
		return yw_fail(
			p, it->line, it->field,
			"lan and lans exclude each other (lan is the spelling for one LAN)");
	if (yw_expect(p, it, YAML_SEQUENCE_NODE))
		return -1;
	if (!yw_list_len(it))
		return yw_fail(p, it->line, it->field, "no LANs configured");
	if (yw_list_len(it) > MWAN_MAX_LANS)
		return yw_fail(p, it->line, it->field,
			       "too many LANs (at most %d)", MWAN_MAX_LANS);
	cfg->lans_list = true;
	for (id = it->val->data.sequence.items.start;
	     id < it->val->data.sequence.items.top; id++) {
		struct mwan_cfg_lan *lan = &cfg->lans[cfg->n_lans];

		yw_list_item(p, it, *id, cfg->n_lans, &el);
		snprintf(lan->field, sizeof(lan->field), "lans[%u]",
			 cfg->n_lans);
		lan->line = el.line;
		if (YW_PARSE_KEYS(p, &el, lans_keys, lan))
			return -1;
		cfg->n_lans++;
	}
	return 0;
}

/* ---- one WAN ---- */

static int parse_wan_if(struct yw_parser *p, const struct yw_item *it,
			void *obj)
{
	struct mwan_cfg_wan *w = obj, *o;
	struct mwan_config *cfg = cfg_of(p);
	unsigned int i;

	w->iface_line = it->line;
	if (yw_get_ifname(p, it, w->ifname))
		return -1;
	for (i = 0; i < cfg->n_lans; i++)
		if (!strcmp(w->ifname, cfg->lans[i].ifname))
			return yw_fail(p, yw_val_line(it), it->field,
				       "interface '%s' is also %s.interface",
				       w->ifname, cfg->lans[i].field);
	for (o = cfg->wans; o < w; o++)
		if (!strcmp(w->ifname, o->ifname))
			return yw_fail(
				p, yw_val_line(it), it->field,
				"interface '%s' is also wans.%s.interface",
				w->ifname, o->name);
	return 0;
}

/* A gateway is on the WAN's own link, never a LAN host. */
static int parse_gw4(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_cfg_wan *w = obj;
	int lan;

	w->has_gw4 = true;
	if (yw_get_ipv4(p, it, &w->gw4))
		return -1;
	lan = mwan_config_lan_of(cfg_of(p), w->gw4);
	if (lan >= 0)
		return yw_fail(p, yw_val_line(it), it->field,
			       "gateway '%s' is inside %s.ipv4, a LAN",
			       yw_str(it), cfg_of(p)->lans[lan].field);
	return 0;
}

static int parse_gw6(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_cfg_wan *w = obj;
	const struct mwan_config *cfg = cfg_of(p);

	w->has_gw6 = true;
	if (yw_get_ipv6(p, it, &w->gw6))
		return -1;
	if (cfg->has_lan6 &&
	    in_prefix6(&w->gw6, &cfg->lan_net6, cfg->lan_plen6))
		return yw_fail(p, yw_val_line(it), it->field,
			       "gateway '%s' is inside %s.ipv6, a LAN",
			       yw_str(it), cfg->lans[cfg->lan6].field);
	return 0;
}

static int parse_weight(struct yw_parser *p, const struct yw_item *it,
			void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return yw_get_uint(p, it, 1, 255, &w->weight);
}

static int parse_tier(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return yw_get_uint(p, it, 1, 255, &w->tier);
}

static int parse_npt_prefix(struct yw_parser *p, const struct yw_item *it,
			    void *obj)
{
	struct mwan_cfg_wan *w = obj;
	unsigned int lan_plen = cfg_of(p)->lan_plen6;

	w->has_npt_prefix = true;
	if (yw_get_cidr(p, it, AF_INET6, 64, &w->npt_prefix, &w->npt_plen))
		return -1;
	if (w->npt_plen > lan_plen)
		return yw_fail(p, yw_val_line(it), it->field,
			       "prefix '%s' longer than lan.ipv6 /%u",
			       yw_str(it), lan_plen);
	if (ipv6_scoped(&w->npt_prefix))
		return yw_fail(
			p, yw_val_line(it), it->field,
			"'%s' is link-local or multicast, no delegated prefix",
			yw_str(it));
	/* lan.ipv6 inside it would be its own external prefix */
	if (cfg_of(p)->has_lan6 &&
	    in_prefix6(&cfg_of(p)->lan_net6, &w->npt_prefix, w->npt_plen))
		return yw_fail(
			p, yw_val_line(it), it->field,
			"prefix '%s' contains lan.ipv6: the internal prefix cannot be the external one",
			yw_str(it));
	return 0;
}

/* With a static prefix the subnet must fit in the bits between it and the
 * LAN prefix; a delegated one is only checked when it arrives.
 */
static int parse_npt_subnet(struct yw_parser *p, const struct yw_item *it,
			    void *obj)
{
	struct mwan_cfg_wan *w = obj;
	unsigned int bits;
	struct yw_quoted qv;

	if (yw_get_uint(p, it, 0, 0xffff, &w->npt_subnet))
		return -1;
	bits = cfg_of(p)->lan_plen6 - w->npt_plen;
	if (w->has_npt_prefix && bits < 16 && w->npt_subnet >> bits)
		return yw_fail(
			p, yw_val_line(it), it->field,
			"subnet '%s' does not fit between /%u and lan.ipv6 /%u (at most 0x%x)",
			yw_quote(&qv, yw_str(it)), w->npt_plen,
			cfg_of(p)->lan_plen6, (1U << bits) - 1);
	return 0;
}

static const struct yw_key npt_keys[] = {
	{ .key = "prefix", .fn = parse_npt_prefix },
	{ .key = "subnet", .fn = parse_npt_subnet },
};

static int parse_npt(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_cfg_wan *w = obj;

	if (!cfg_of(p)->has_lan6)
		return yw_fail(p, it->line, it->field, "requires lan.ipv6");
	w->has_npt = true;
	return YW_PARSE_KEYS(p, it, npt_keys, obj);
}

/* "ADDR" (ICMP echo) or "tcp:ADDR:PORT", an IPv6 ADDR optionally in [] */
static int parse_target(const char *s, struct mwan_cfg_probe_target *t)
{
	char addr[INET6_ADDRSTRLEN + 2], *a = addr;
	const char *colon;
	unsigned long long port;

	if (strlen(s) >= sizeof(t->text))
		return -1;
	strcpy(t->text, s);
	if (strncmp(s, "tcp:", 4)) {
		if (strlen(s) >= sizeof(addr))
			return -1;
		strcpy(addr, s);
	} else {
		s += 4;
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(addr) ||
		    yw_parse_uint(colon + 1, &port) || !port || port > 65535)
			return -1;
		t->port = port;
		memcpy(addr, s, colon - s);
		addr[colon - s] = '\0';
		if (addr[0] == '[' && colon[-1] == ']') {
			addr[colon - s - 1] = '\0';
			a++;
		}
	}
	if (inet_pton(AF_INET, a, &t->addr4) == 1)
		t->family = AF_INET;
	else if (inet_pton(AF_INET6, a, &t->addr6) == 1)
		t->family = AF_INET6;
	else
		return -1;
	return 0;
}

static bool same_target(const struct mwan_cfg_probe_target *a,
			const struct mwan_cfg_probe_target *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == AF_INET)
		return a->addr4.s_addr == b->addr4.s_addr;
	return IN6_ARE_ADDR_EQUAL(&a->addr6, &b->addr6);
}

/* What a probe through a WAN can reach: a unicast address off the
 * router, not in the link-local ranges.
 */
static bool target_reachable(const struct mwan_cfg_probe_target *t)
{
	if (t->family == AF_INET)
		return yw_ipv4_unicast(t->addr4) &&
		       (ntohl(t->addr4.s_addr) >> 16) !=
			       0xa9fe; /* 169.254/16 */
	return !IN6_IS_ADDR_UNSPECIFIED(&t->addr6) &&
	       !IN6_IS_ADDR_LOOPBACK(&t->addr6) &&
	       !IN6_IS_ADDR_MULTICAST(&t->addr6) &&
	       !IN6_IS_ADDR_LINKLOCAL(&t->addr6);
}

static int parse_one_target(struct yw_parser *p, const struct yw_item *it,
			    struct mwan_cfg_wan *w)
{
	struct mwan_cfg_probe_target *t = &w->probe_targets[w->n_probe_targets];
	struct yw_quoted qv;
	unsigned int i;

	if (yw_get_str(p, it))
		return -1;
	if (parse_target(yw_str(it), t))
		return yw_fail(
			p, yw_val_line(it), it->field,
			"invalid probe target '%s' (use IPv4, IPv6 or tcp:ADDR:PORT)",
			yw_quote(&qv, yw_str(it)));
	t->line = yw_val_line(it);
	if (!target_reachable(t))
		return yw_fail(
			p, yw_val_line(it), it->field,
			"probe target '%s' is no unicast address beyond the gateway (unspecified, loopback, link-local, multicast or broadcast)",
			yw_quote(&qv, yw_str(it)));
	for (i = 0; i < w->n_probe_targets; i++)
		if (same_target(t, &w->probe_targets[i]))
			return yw_fail(p, yw_val_line(it), it->field,
				       "duplicate probe target '%s'",
				       yw_quote(&qv, yw_str(it)));
	w->n_probe_targets++;
	return 0;
}

static int parse_targets(struct yw_parser *p, const struct yw_item *it,
			 void *obj)
{
	struct mwan_cfg_wan *w = obj;
	yaml_node_item_t *id;
	struct yw_item el;

	if (yw_expect(p, it, YAML_SEQUENCE_NODE))
		return -1;
	if (!yw_list_len(it))
		return yw_fail(
			p, it->line, it->field,
			"no targets (without probe: the WAN's health follows its link)");
	if (yw_list_len(it) > MWAN_MAX_PROBE_TARGETS)
		return yw_fail(p, it->line, it->field,
			       "too many targets (at most %d)",
			       MWAN_MAX_PROBE_TARGETS);
	for (id = it->val->data.sequence.items.start;
	     id < it->val->data.sequence.items.top; id++) {
		yw_list_item(p, it, *id, w->n_probe_targets, &el);
		if (parse_one_target(p, &el, w))
			return -1;
	}
	return 0;
}

static int parse_interval(struct yw_parser *p, const struct yw_item *it,
			  void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return yw_get_uint(p, it, 10, 60000, &w->probe_interval_ms);
}

static int parse_timeout(struct yw_parser *p, const struct yw_item *it,
			 void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return yw_get_uint(p, it, 10, 60000, &w->probe_timeout_ms);
}

/* A smaller window pulls the thresholds' defaults down with it, so
 * "window: 4" alone stays valid.
 */
static int parse_window(struct yw_parser *p, const struct yw_item *it,
			void *obj)
{
	struct mwan_cfg_wan *w = obj;

	if (yw_get_uint(p, it, 1, MWAN_PROBE_WINDOW_MAX, &w->probe_window))
		return -1;
	if (w->probe_down_after > w->probe_window)
		w->probe_down_after = w->probe_window;
	if (w->probe_up_after > w->probe_window)
		w->probe_up_after = w->probe_window;
	return 0;
}

static int parse_down_after(struct yw_parser *p, const struct yw_item *it,
			    void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return yw_get_uint(p, it, 1, w->probe_window, &w->probe_down_after);
}

static int parse_up_after(struct yw_parser *p, const struct yw_item *it,
			  void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return yw_get_uint(p, it, 1, w->probe_window, &w->probe_up_after);
}

static int parse_quorum(struct yw_parser *p, const struct yw_item *it,
			void *obj)
{
	struct mwan_cfg_wan *w = obj;
	unsigned int max = w->n_probe_targets;

	return yw_get_uint(p, it, 1, max ? max : MWAN_MAX_PROBE_TARGETS,
			   &w->probe_quorum);
}

static int parse_hold_down(struct yw_parser *p, const struct yw_item *it,
			   void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return yw_get_uint(p, it, 0, 3600, &w->probe_hold_down_s);
}

/* A raise below the default clear drags the clear down with it, so
 * "loss_raise_pct: 20" alone stays valid; an explicit clear is checked.
 */
static int parse_loss_raise(struct yw_parser *p, const struct yw_item *it,
			    void *obj)
{
	struct mwan_cfg_wan *w = obj;

	if (yw_get_uint(p, it, 0, 100, &w->probe_loss_raise_pct))
		return -1;
	if (w->probe_loss_clear_pct > w->probe_loss_raise_pct)
		w->probe_loss_clear_pct = w->probe_loss_raise_pct;
	return 0;
}

static int parse_loss_clear(struct yw_parser *p, const struct yw_item *it,
			    void *obj)
{
	struct mwan_cfg_wan *w = obj;
	struct yw_quoted qv;

	if (yw_get_uint(p, it, 0, 100, &w->probe_loss_clear_pct))
		return -1;
	if (w->probe_loss_clear_pct > w->probe_loss_raise_pct)
		return yw_fail(p, yw_val_line(it), it->field,
			       "value '%s' above loss_raise_pct %u",
			       yw_quote(&qv, yw_str(it)),
			       w->probe_loss_raise_pct);
	return 0;
}

static int parse_rtt_raise(struct yw_parser *p, const struct yw_item *it,
			   void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return yw_get_uint(p, it, 0, MWAN_PROBE_RTT_MAX_MS,
			   &w->probe_rtt_raise_ms);
}

/* 0 keeps the default: 80 % of rtt_raise_ms. */
static int parse_rtt_clear(struct yw_parser *p, const struct yw_item *it,
			   void *obj)
{
	struct mwan_cfg_wan *w = obj;
	struct yw_quoted qv;

	if (yw_get_uint(p, it, 0, MWAN_PROBE_RTT_MAX_MS,
			&w->probe_rtt_clear_ms))
		return -1;
	if (w->probe_rtt_clear_ms && !w->probe_rtt_raise_ms)
		return yw_fail(p, yw_val_line(it), it->field,
			       "requires rtt_raise_ms");
	if (w->probe_rtt_clear_ms > w->probe_rtt_raise_ms)
		return yw_fail(p, yw_val_line(it), it->field,
			       "value '%s' above rtt_raise_ms %u",
			       yw_quote(&qv, yw_str(it)),
			       w->probe_rtt_raise_ms);
	return 0;
}

static const struct yw_key probe_keys[] = {
	{ .key = "targets", .fn = parse_targets },
	{ .key = "interval_ms", .fn = parse_interval },
	{ .key = "timeout_ms", .fn = parse_timeout },
	{ .key = "window", .fn = parse_window },
	{ .key = "down_after", .fn = parse_down_after },
	{ .key = "up_after", .fn = parse_up_after },
	{ .key = "quorum", .fn = parse_quorum },
	{ .key = "hold_down_s", .fn = parse_hold_down },
	{ .key = "loss_raise_pct", .fn = parse_loss_raise },
	{ .key = "loss_clear_pct", .fn = parse_loss_clear },
	{ .key = "rtt_raise_ms", .fn = parse_rtt_raise },
	{ .key = "rtt_clear_ms", .fn = parse_rtt_clear },
};

/* 80 % of the raise, at least 1 ms so a WAN can always come back. */
static unsigned int rtt_clear_default(unsigned int raise_ms)
{
	unsigned int clear = raise_ms * 8 / 10;

	return clear ? clear : 1;
}

static int parse_probe(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_cfg_wan *w = obj;

	if (YW_PARSE_KEYS(p, it, probe_keys, obj))
		return -1;
	if (w->probe_rtt_raise_ms && !w->probe_rtt_clear_ms)
		w->probe_rtt_clear_ms =
			rtt_clear_default(w->probe_rtt_raise_ms);
	return 0;
}

/* ---- prefix lists: wans.NAME.allow_sources, ingress_filter ---- */

bool mwan_prefix_has(const struct mwan_cfg_prefix *pfx, const void *a)
{
	struct in_addr v;

	if (pfx->family == AF_INET6)
		return in_prefix6(a, &pfx->addr6, pfx->plen);
	memcpy(&v, a, sizeof(v));
	return !((ntohl(v.s_addr) ^ ntohl(pfx->addr4.s_addr)) &
		 mask4(pfx->plen));
}

static const void *prefix_addr(const struct mwan_cfg_prefix *pfx)
{
	return pfx->family == AF_INET ? (const void *)&pfx->addr4 :
					(const void *)&pfx->addr6;
}

bool mwan_prefix_overlaps(const struct mwan_cfg_prefix *a,
			  const struct mwan_cfg_prefix *b)
{
	const struct mwan_cfg_prefix *wide = a->plen <= b->plen ? a : b;

	return a->family == b->family &&
	       mwan_prefix_has(wide, prefix_addr(wide == a ? b : a));
}

static void prefix_text(const struct mwan_cfg_prefix *pfx, char *buf,
			size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(pfx->family, prefix_addr(pfx), a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, pfx->plen);
}

typedef int (*prefix_fn)(struct yw_parser *p, const struct yw_item *it,
			 const struct mwan_cfg_prefix *pfx, void *obj);

/* A list of prefixes of either family, no two overlapping, each one
 * also judged by `check`.
 */
static int parse_prefix_list(struct yw_parser *p, const struct yw_item *it,
			     struct mwan_cfg_prefix *list, unsigned int *n,
			     prefix_fn check, void *obj)
{
	yaml_node_item_t *id;
	struct yw_item el;
	char t[INET6_ADDRSTRLEN + 8];
	unsigned int i;

	if (yw_expect(p, it, YAML_SEQUENCE_NODE))
		return -1;
	if (yw_list_len(it) > MWAN_MAX_PREFIX_LIST)
		return yw_fail(p, it->line, it->field,
			       "too many prefixes (at most %d)",
			       MWAN_MAX_PREFIX_LIST);
	for (id = it->val->data.sequence.items.start;
	     id < it->val->data.sequence.items.top; id++) {
		struct mwan_cfg_prefix *pfx = &list[*n];

		yw_list_item(p, it, *id, *n, &el);
		if (yw_get_str(p, &el))
			return -1;
		pfx->family = strchr(yw_str(&el), ':') ? AF_INET6 : AF_INET;
		if (yw_get_cidr(p, &el, pfx->family,
				pfx->family == AF_INET ? 32 : 128,
				pfx->family == AF_INET ? (void *)&pfx->addr4 :
							 (void *)&pfx->addr6,
				&pfx->plen))
			return -1;
		pfx->line = yw_val_line(&el);
		for (i = 0; i < *n; i++) {
			if (!mwan_prefix_overlaps(pfx, &list[i]))
				continue;
			prefix_text(&list[i], t, sizeof(t));
			return yw_fail(p, pfx->line, el.field,
				       "'%s' overlaps %s (line %u)",
				       yw_str(&el), t, list[i].line);
		}
		if (check(p, &el, pfx, obj))
			return -1;
		(*n)++;
	}
	return 0;
}

/* What may leave untranslated must be neither a LAN's (those leave
 * translated) nor private (which never leaves a WAN as it is).
 */
static int check_allow(struct yw_parser *p, const struct yw_item *it,
		       const struct mwan_cfg_prefix *pfx, void *obj)
{
	const struct mwan_cfg_prefix private4[] = {
		{ .family = AF_INET, .addr4 = { htonl(0x0a000000) }, .plen = 8 },
		{ .family = AF_INET,
		  .addr4 = { htonl(0xac100000) },
		  .plen = 12 },
		{ .family = AF_INET,
		  .addr4 = { htonl(0xc0a80000) },
		  .plen = 16 },
	};
	static const struct mwan_cfg_prefix ula = { .family = AF_INET6,
						    .addr6 = { { { 0xfc } } },
						    .plen = 7 };
	const struct mwan_config *cfg = cfg_of(p);
	struct mwan_cfg_prefix lan = { .family = AF_INET };
	unsigned int i;

	(void)obj;
	for (i = 0; i < cfg->n_lans; i++) {
		lan.addr4 = cfg->lans[i].net4;
		lan.plen = cfg->lans[i].plen4;
		if (mwan_prefix_overlaps(pfx, &lan))
			return yw_fail(
				p, yw_val_line(it), it->field,
				"'%s' overlaps %s.ipv4: LAN addresses leave translated, never as they are",
				yw_str(it), cfg->lans[i].field);
	}
	lan.family = AF_INET6;
	lan.addr6 = cfg->lan_net6;
	lan.plen = cfg->lan_plen6;
	if (cfg->has_lan6 && mwan_prefix_overlaps(pfx, &lan))
		return yw_fail(
			p, yw_val_line(it), it->field,
			"'%s' overlaps %s.ipv6: LAN addresses leave translated, never as they are",
			yw_str(it), cfg->lans[cfg->lan6].field);
	for (i = 0; i < ARRAY_SIZE(private4); i++)
		if (mwan_prefix_overlaps(pfx, &private4[i]))
			break;
	if (i < ARRAY_SIZE(private4) || mwan_prefix_overlaps(pfx, &ula))
		return yw_fail(
			p, yw_val_line(it), it->field,
			"'%s' is private address space (RFC 1918, RFC 4193), which never leaves a WAN untranslated",
			yw_str(it));
	return 0;
}

static int parse_allow(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_cfg_wan *w = obj;

	return parse_prefix_list(p, it, w->allow_sources, &w->n_allow,
				 check_allow, w);
}

static const struct yw_key wan_keys[] = {
	{ .key = "interface", .fn = parse_wan_if, .required = true },
	{ .key = "gateway4", .fn = parse_gw4, .required = true },
	{ .key = "gateway6", .fn = parse_gw6 },
	{ .key = "weight", .fn = parse_weight },
	{ .key = "tier", .fn = parse_tier },
	{ .key = "npt", .fn = parse_npt },
	{ .key = "probe", .fn = parse_probe },
	{ .key = "allow_sources", .fn = parse_allow },
};

static void wan_defaults(struct mwan_cfg_wan *w)
{
	w->weight = 1;
	w->tier = 1;
	w->probe_interval_ms = MWAN_PROBE_INTERVAL_MS;
	w->probe_timeout_ms = MWAN_PROBE_TIMEOUT_MS;
	w->probe_window = MWAN_PROBE_WINDOW;
	w->probe_down_after = MWAN_PROBE_DOWN_AFTER;
	w->probe_up_after = MWAN_PROBE_UP_AFTER;
	w->probe_quorum = MWAN_PROBE_QUORUM;
	w->probe_hold_down_s = MWAN_PROBE_HOLD_DOWN_S;
	w->probe_loss_raise_pct = MWAN_PROBE_LOSS_RAISE_PCT;
	w->probe_loss_clear_pct = MWAN_PROBE_LOSS_CLEAR_PCT;
	w->probe_rtt_raise_ms = MWAN_PROBE_RTT_RAISE_MS;
	w->probe_rtt_clear_ms = MWAN_PROBE_RTT_CLEAR_MS;
}

static int parse_wan(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_config *cfg = obj;
	const char *name = yw_scalar(it->key);
	struct mwan_cfg_wan *w;
	struct yw_quoted qk;

	if (!valid_wan_name(name))
		return yw_fail(
			p, it->line, it->field,
			"invalid WAN name '%s' (1 to %d of a-z, 0-9, _ and -)",
			yw_quote(&qk, name), MWAN_NAME_LEN - 1);
	if (cfg->n_wans == MWAN_MAX_WANS)
		return yw_fail(p, it->line, it->field,
			       "too many WANs (at most %d)", MWAN_MAX_WANS);
	w = &cfg->wans[cfg->n_wans];
	wan_defaults(w);
	strcpy(w->name, name);
	w->line = it->line;
	if (YW_PARSE_KEYS(p, it, wan_keys, w))
		return -1;
	cfg->n_wans++;
	return 0;
}

static int parse_wans(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_config *cfg = obj;

	/* lan and lans come first in top_keys: WANs and mappings need them */
	if (!cfg->n_lans)
		return yw_fail(p, p->root_line, "lan", "missing required key");

	if (yw_for_each_pair(p, it, parse_wan, cfg))
		return -1;
	if (!cfg->n_wans)
		return yw_fail(p, it->line, it->field, "no WANs configured");
	return 0;
}

/* ---- nat ---- */

int mwan_config_lan_of(const struct mwan_config *cfg, struct in_addr a)
{
	unsigned int i;

	for (i = 0; i < cfg->n_lans; i++)
		if (!((ntohl(a.s_addr) ^ ntohl(cfg->lans[i].net4.s_addr)) &
		      mask4(cfg->lans[i].plen4)))
			return i;
	return -1;
}

const struct mwan_cfg_nat *mwan_config_nat_of(const struct mwan_config *cfg,
					      __be32 internal)
{
	unsigned int i;

	for (i = 0; i < cfg->n_nat; i++)
		if (cfg->nat[i].internal.s_addr == internal)
			return &cfg->nat[i];
	return NULL;
}

bool mwan_config_in_lan6(const struct mwan_config *cfg, const void *addr)
{
	struct in6_addr a;

	if (!cfg->has_lan6)
		return false;
	memcpy(&a, addr, sizeof(a));
	return in_prefix6(&a, &cfg->lan_net6, cfg->lan_plen6);
}

/* "lan.ipv4 10.250.250.0/29" for one LAN; "any of lans[].ipv4 (A, B)". */
static void lans4_text(const struct mwan_config *cfg, char *buf, size_t len)
{
	char net[INET_ADDRSTRLEN + 4];
	size_t off;
	unsigned int i;

	if (!cfg->lans_list) {
		net4_text(cfg->lans[0].net4, cfg->lans[0].plen4, net);
		snprintf(buf, len, "lan.ipv4 %s", net);
		return;
	}
	off = snprintf(buf, len, "any of lans[].ipv4 (");
	for (i = 0; i < cfg->n_lans && off < len; i++) {
		net4_text(cfg->lans[i].net4, cfg->lans[i].plen4, net);
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				net);
	}
	if (off < len)
		snprintf(buf + off, len - off, ")");
}

static int parse_internal(struct yw_parser *p, const struct yw_item *it,
			  void *obj)
{
	struct mwan_config *cfg = cfg_of(p);
	struct mwan_cfg_nat *n = obj, *o;
	char lans[MWAN_MAX_LANS * 24 + 32], net[INET_ADDRSTRLEN + 4];
	const struct mwan_cfg_lan *lan;
	uint32_t host, mask;
	int i;

	if (yw_get_ipv4(p, it, &n->internal))
		return -1;
	n->internal_line = yw_val_line(it);
	i = mwan_config_lan_of(cfg, n->internal);
	if (i < 0) {
		lans4_text(cfg, lans, sizeof(lans));
		return yw_fail(p, yw_val_line(it), it->field,
			       "address '%s' not inside %s", yw_str(it), lans);
	}
	lan = &cfg->lans[i];
	n->lan = i;
	mask = mask4(lan->plen4);
	host = ntohl(n->internal.s_addr) & ~mask;
	net4_text(lan->net4, lan->plen4, net);
	if (host == 0 || host == ~mask)
		return yw_fail(p, yw_val_line(it), it->field,
			       "address '%s' is the %s address of %s.ipv4 %s",
			       yw_str(it), host ? "broadcast" : "network",
			       lan->field, net);
	for (o = cfg->nat; o < n; o++)
		if (o->internal.s_addr == n->internal.s_addr)
			return yw_fail(
				p, yw_val_line(it), it->field,
				"duplicate internal address '%s' (first at line %u)",
				yw_str(it), o->line);
	return 0;
}

/* Against every address so far, the current entry's other WANs included. */
static int check_public(struct yw_parser *p, const struct yw_item *it,
			struct in_addr a, const struct mwan_cfg_nat *cur)
{
	struct mwan_config *cfg = cfg_of(p);
	char lan[INET_ADDRSTRLEN + 4];
	const struct mwan_cfg_nat *o;
	unsigned int i;
	int li;

	li = mwan_config_lan_of(cfg, a);
	if (li >= 0) {
		net4_text(cfg->lans[li].net4, cfg->lans[li].plen4, lan);
		return yw_fail(p, yw_val_line(it), it->field,
			       "public address '%s' inside %s.ipv4 %s",
			       yw_str(it), cfg->lans[li].field, lan);
	}
	/* it would take the gateway's traffic, probe replies among it */
	for (i = 0; i < cfg->n_wans; i++)
		if (cfg->wans[i].has_gw4 && cfg->wans[i].gw4.s_addr == a.s_addr)
			return yw_fail(
				p, yw_val_line(it), it->field,
				"public address '%s' is wans.%s.gateway4",
				yw_str(it), cfg->wans[i].name);
	for (o = cfg->nat; o <= cur; o++)
		for (i = 0; i < MWAN_MAX_WANS; i++)
			if (o->has_ext[i] && o->ext[i].s_addr == a.s_addr)
				return yw_fail(
					p, yw_val_line(it), it->field,
					"duplicate public address '%s' (first at line %u)",
					yw_str(it), o->ext_line[i]);
	return 0;
}

static int parse_ext_one(struct yw_parser *p, const struct yw_item *it,
			 void *obj)
{
	struct mwan_cfg_nat *n = obj;
	struct yw_quoted qk;
	struct in_addr a;
	int i;

	i = mwan_config_wan_index(cfg_of(p), yw_scalar(it->key));
	if (i < 0)
		return yw_fail(p, it->line, it->field, "unknown WAN '%s'",
			       yw_quote(&qk, yw_scalar(it->key)));
	if (yw_get_ipv4(p, it, &a) || check_public(p, it, a, n))
		return -1;
	n->ext[i] = a;
	n->has_ext[i] = true;
	n->ext_line[i] = yw_val_line(it);
	return 0;
}

static int parse_external(struct yw_parser *p, const struct yw_item *it,
			  void *obj)
{
	if (yw_expect(p, it, YAML_MAPPING_NODE))
		return -1;
	if (it->val->data.mapping.pairs.top ==
	    it->val->data.mapping.pairs.start)
		return yw_fail(p, it->line, it->field,
			       "no public address for any WAN");
	return yw_for_each_pair(p, it, parse_ext_one, obj);
}

static const struct yw_key nat_keys[] = {
	{ .key = "internal", .fn = parse_internal, .required = true },
	{ .key = "external", .fn = parse_external, .required = true },
};

/* Entries count as parsed one by one, so the duplicate checks of entry i
 * see exactly the entries before it.
 */
static int parse_nat(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct mwan_config *cfg = obj;
	yaml_node_item_t *id;
	struct yw_item el;
	size_t n;

	if (yw_expect(p, it, YAML_SEQUENCE_NODE))
		return -1;
	n = yw_list_len(it);
	if (n > MWAN_MAX_HOSTS)
		return yw_fail(p, it->line, it->field,
			       "too many entries (at most %d)", MWAN_MAX_HOSTS);
	if (!n)
		return 0;
	cfg->nat = calloc(n, sizeof(*cfg->nat));
	if (!cfg->nat)
		return yw_fail(p, it->line, it->field, "out of memory");
	for (id = it->val->data.sequence.items.start;
	     id < it->val->data.sequence.items.top; id++) {
		yw_list_item(p, it, *id, cfg->n_nat, &el);
		cfg->nat[cfg->n_nat].line = el.line;
		if (YW_PARSE_KEYS(p, &el, nat_keys, &cfg->nat[cfg->n_nat]))
			return -1;
		cfg->n_nat++;
	}
	return 0;
}

/* ---- metrics ---- */

/* Whether a path can only name a directory, whatever exists there. */
static bool dir_syntax(const char *s)
{
	const char *base = strrchr(s, '/') + 1;

	return !*base || !strcmp(base, ".") || !strcmp(base, "..");
}

/* Written by the loader as PATH.tmp.PID next to it, then renamed: the
 * name must leave room for the suffix and be a file's.
 */
static int parse_textfile(struct yw_parser *p, const struct yw_item *it,
			  void *obj)
{
	struct mwan_config *cfg = obj;
	struct yw_quoted qv;

	if (yw_get_path_max(p, it, cfg->metrics_textfile,
			    MWAN_METRICS_PATH_MAX))
		return -1;
	if (dir_syntax(yw_str(it))) {
		cfg->metrics_textfile[0] = '\0';
		return yw_fail(p, yw_val_line(it), it->field,
			       "names a directory '%s'",
			       yw_quote(&qv, yw_str(it)));
	}
	cfg->metrics_textfile_line = yw_val_line(it);
	return 0;
}

static int parse_metrics_interval(struct yw_parser *p, const struct yw_item *it,
				  void *obj)
{
	struct mwan_config *cfg = obj;

	return yw_get_uint(p, it, 1, MWAN_METRICS_INTERVAL_MAX_S,
			   &cfg->metrics_interval_s);
}

static const struct yw_key metrics_keys[] = {
	{ .key = "textfile", .fn = parse_textfile },
	{ .key = "interval", .fn = parse_metrics_interval },
};

static int parse_metrics(struct yw_parser *p, const struct yw_item *it,
			 void *obj)
{
	return YW_PARSE_KEYS(p, it, metrics_keys, obj);
}

/* ---- ingress_filter ---- */

static int parse_bogons(struct yw_parser *p, const struct yw_item *it,
			void *obj)
{
	struct mwan_config *cfg = obj;
	struct yw_quoted qv;

	if (yw_get_str(p, it))
		return -1;
	if (strcmp(yw_str(it), "default") && strcmp(yw_str(it), "none"))
		return yw_fail(p, yw_val_line(it), it->field,
			       "invalid value '%s' (use default or none)",
			       yw_quote(&qv, yw_str(it)));
	cfg->bogons = !strcmp(yw_str(it), "default");
	return 0;
}

/* A source dropped on every WAN must not be one the WANs need: a
 * gateway or a probe target (their answers would be dropped too).
 */
static int check_drop(struct yw_parser *p, const struct yw_item *it,
		      const struct mwan_cfg_prefix *pfx, void *obj)
{
	const struct mwan_config *cfg = obj;
	const struct mwan_cfg_wan *w;
	unsigned int i;

	for (w = cfg->wans; w < cfg->wans + cfg->n_wans; w++) {
		if (w->has_gw4 && pfx->family == AF_INET &&
		    mwan_prefix_has(pfx, &w->gw4))
			return yw_fail(
				p, yw_val_line(it), it->field,
				"'%s' holds wans.%s.gateway4, whose packets it would drop",
				yw_str(it), w->name);
		if (w->has_gw6 && pfx->family == AF_INET6 &&
		    mwan_prefix_has(pfx, &w->gw6))
			return yw_fail(
				p, yw_val_line(it), it->field,
				"'%s' holds wans.%s.gateway6, whose packets it would drop",
				yw_str(it), w->name);
		for (i = 0; i < w->n_probe_targets; i++) {
			const struct mwan_cfg_probe_target *t =
				&w->probe_targets[i];

			if (t->family == pfx->family &&
			    mwan_prefix_has(pfx,
					    t->family == AF_INET ?
						    (const void *)&t->addr4 :
						    (const void *)&t->addr6))
				return yw_fail(
					p, yw_val_line(it), it->field,
					"'%s' holds probe target %s of wans.%s (line %u), whose answers it would drop",
					yw_str(it), t->text, w->name, t->line);
		}
	}
	return 0;
}

static int parse_drop_sources(struct yw_parser *p, const struct yw_item *it,
			      void *obj)
{
	struct mwan_config *cfg = obj;

	return parse_prefix_list(p, it, cfg->drop_sources, &cfg->n_drop,
				 check_drop, cfg);
}

static const struct yw_key ingress_keys[] = {
	{ .key = "bogons", .fn = parse_bogons },
	{ .key = "drop_sources", .fn = parse_drop_sources },
};

static int parse_ingress(struct yw_parser *p, const struct yw_item *it,
			 void *obj)
{
	return YW_PARSE_KEYS(p, it, ingress_keys, obj);
}

static const struct yw_key top_keys[] = {
	{ .key = "pin_dir", .fn = parse_pin_dir },
	{ .key = "run_dir", .fn = parse_run_dir },
	{ .key = "fast_path", .fn = parse_fast_path },
	{ .key = "flows_max", .fn = parse_flows_max },
	{ .key = "flows_inbound_max", .fn = parse_flows_inbound_max },
	{ .key = "lan", .fn = parse_lan },
	{ .key = "lans", .fn = parse_lans },
	{ .key = "wans", .fn = parse_wans, .required = true },
	{ .key = "nat", .fn = parse_nat },
	{ .key = "ingress_filter", .fn = parse_ingress },
	{ .key = "metrics", .fn = parse_metrics },
};

static void config_defaults(struct mwan_config *cfg, const char *name)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	strcpy(cfg->pin_dir, MWAN_DEFAULT_PIN_DIR);
	strcpy(cfg->run_dir, MWAN_DEFAULT_RUN_DIR);
	cfg->fast_path = true;
	cfg->flows_max = MWAN_FLOWS_DEFAULT;
	cfg->bogons = true;
	cfg->metrics_interval_s = MWAN_METRICS_INTERVAL_S;
}

static int parse_root(struct yw_parser *p, yaml_node_t *root)
{
	struct yw_item it = { .field = "", .val = root };

	it.line = yw_node_line(root);
	if (root->type != YAML_MAPPING_NODE)
		return yw_fail(p, it.line, "top level",
			       "expected a mapping, got %s", yw_kind(root));
	p->root_line = it.line;
	if (YW_PARSE_KEYS(p, &it, top_keys, cfg_of(p)))
		return -1;
	if (!cfg_of(p)->flows_inbound_max)
		cfg_of(p)->flows_inbound_max =
			cfg_of(p)->flows_max / 4 > MWAN_FLOWS_MIN ?
				cfg_of(p)->flows_max / 4 :
				MWAN_FLOWS_MIN;
	return 0;
}

int mwan_config_parse(const char *buf, size_t len, const char *name,
		      struct mwan_config *cfg, char *err, size_t errlen)
{
	struct yw_parser p = {
		.name = name, .data = cfg, .err = err, .errlen = errlen
	};
	int ret;

	config_defaults(cfg, name);
	ret = yw_parse(&p, buf, len, parse_root);
	if (ret)
		mwan_config_free(cfg);
	return ret;
}

/* The only I/O: the whole file into memory, so parsing stays pure. */
static int read_file(const char *path, char **out, size_t *len)
{
	char *buf;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	buf = malloc(MAX_FILE_SIZE + 1);
	if (!buf) {
		ret = -ENOMEM;
	} else {
		errno = 0;
		*len = fread(buf, 1, MAX_FILE_SIZE + 1, f);
		if (ferror(f))
			ret = errno ? -errno : -EIO;
		else if (*len > MAX_FILE_SIZE)
			ret = -EFBIG;
	}
	fclose(f);
	if (ret)
		free(buf);
	else
		*out = buf;
	return ret;
}

int mwan_config_load(const char *path, struct mwan_config *cfg, char *err,
		     size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = read_file(path, &buf, &len);
	if (ret == -EFBIG) {
		memset(cfg, 0, sizeof(*cfg));
		mwan_set_err(
			err, errlen,
			"%s:1: top level: larger than %d bytes, no mwan.yaml",
			path, MAX_FILE_SIZE);
		return -1;
	}
	if (ret) {
		memset(cfg, 0, sizeof(*cfg));
		mwan_set_err(err, errlen, "%s: cannot read: %s", path,
			     strerror(-ret));
		return -1;
	}
	ret = mwan_config_parse(buf, len, path, cfg, err, errlen);
	free(buf);
	return ret;
}

void mwan_config_health_params(const struct mwan_cfg_wan *w,
			       struct mwan_health_params *p)
{
	memset(p, 0, sizeof(*p));
	p->interval_ms = w->probe_interval_ms;
	p->timeout_ms = w->probe_timeout_ms;
	p->window = w->probe_window;
	p->down_after = w->probe_down_after;
	p->up_after = w->probe_up_after;
	p->quorum = w->probe_quorum;
	p->hold_down_s = w->probe_hold_down_s;
	p->loss_raise_pct = w->probe_loss_raise_pct;
	p->loss_clear_pct = w->probe_loss_clear_pct;
	p->rtt_raise_ms = w->probe_rtt_raise_ms;
	p->rtt_clear_ms = w->probe_rtt_clear_ms;
}

int mwan_config_wan_index(const struct mwan_config *cfg, const char *name)
{
	unsigned int i;

	for (i = 0; i < cfg->n_wans; i++)
		if (!strcmp(cfg->wans[i].name, name))
			return i;
	return -1;
}

void mwan_config_free(struct mwan_config *cfg)
{
	free(cfg->nat);
	memset(cfg, 0, sizeof(*cfg));
}
