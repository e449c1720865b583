/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Sources refused at a WAN's egress: a rate-limited log line per source. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include "loader.h"
#include "unmapped.h"
#include "log.h"
#include "mapio.h"
#include "../lib/clock.h"

/* From what mwan_tc_out records in mwan_unmapped (LAN sources without a
 * mapping) and mwan_spoofed (sources that may not leave): at most one
 * line per source every MWAN_UNMAPPED_LOG_S, and only when it sent more
 * since.
 */
#define MWAN_UNMAPPED_LOG_S 60
#define SEEN_SLOTS (MWAN_MAX_UNMAPPED + MWAN_MAX_SPOOFED)

struct unmapped_seen {
	struct in6_addr_raw src; /* IPv4 as ::ffff:a.b.c.d */
	__u64 packets; /* the map's count when last logged */
	__u64 logged_s; /* CLOCK_MONOTONIC seconds of that line */
};

/* Sources logged lately; the oldest line's slot is reused. */
static struct unmapped_seen seen[SEEN_SLOTS];

static struct unmapped_seen *seen_slot(const struct in6_addr_raw *src)
{
	struct unmapped_seen *oldest = &seen[0];
	unsigned int i;

	for (i = 0; i < SEEN_SLOTS; i++) {
		if (!memcmp(&seen[i].src, src, sizeof(*src)))
			return &seen[i];
		if (seen[i].logged_s < oldest->logged_s)
			oldest = &seen[i];
	}
	oldest->src = *src;
	oldest->packets = 0;
	oldest->logged_s = 0;
	return oldest;
}

/* Whether a source's count calls for a line now; if so, remembered. */
static bool due(const struct in6_addr_raw *src, __u64 packets, __u64 now)
{
	struct unmapped_seen *s = seen_slot(src);

	if (packets <= s->packets ||
	    (s->logged_s && now < s->logged_s + MWAN_UNMAPPED_LOG_S))
		return false;
	s->packets = packets;
	s->logged_s = now;
	return true;
}

static const char *wan_name(const struct loader *l, __u32 wan)
{
	return wan < l->cfg.n_wans ? l->cfg.wans[wan].name : "?";
}

static void report_unmapped(struct loader *l, __be32 src,
			    const struct mwan_unmapped *u, __u64 now)
{
	struct in6_addr_raw key = { { 0 } };
	char a[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	key.a[10] = key.a[11] = 0xff;
	memcpy(&key.a[12], &src, 4);
	if (!due(&key, u->packets, now))
		return;
	log_warn(
		"lan source %s has no public address on wan %s (no nat: mapping for it there): %llu packet(s) dropped so far, the last to %s; see mwan.yaml(5), UNMAPPED HOSTS",
		inet_ntop(AF_INET, &src, a, sizeof(a)), wan_name(l, u->wan),
		(unsigned long long)u->packets,
		inet_ntop(AF_INET, &u->dst, d, sizeof(d)));
}

/* An address as mwan_spoofed keeps it: IPv4 mapped, or IPv6. */
static const char *spoofed_addr(const __u8 *a, char *buf, size_t len)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(a, mapped, sizeof(mapped)))
		return inet_ntop(AF_INET, a + 12, buf, len);
	return inet_ntop(AF_INET6, a, buf, len);
}

static void report_spoofed(struct loader *l, const struct in6_addr_raw *src,
			   const struct mwan_spoofed *v, __u64 now)
{
	char a[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], in[IF_NAMESIZE] = "?";

	if (!due(src, v->packets, now))
		return;
	if (v->in_ifindex)
		if_indextoname(v->in_ifindex, in);
	if (v->reason == MWAN_DROP_WAN_TO_WAN)
		log_warn(
			"%s came in on %s and was routed out of wan %s (to %s): dropped as transit between WANs (wan_to_wan), %llu packet(s) so far; see mwan.yaml(5), SECURITY MODEL",
			spoofed_addr(src->a, a, sizeof(a)), in,
			wan_name(l, v->wan), spoofed_addr(v->dst, d, sizeof(d)),
			(unsigned long long)v->packets);
	else
		log_warn(
			"source %s from %s may not leave wan %s untranslated (BCP 38; not in wans.%s.allow_sources): %llu packet(s) dropped so far, the last to %s",
			spoofed_addr(src->a, a, sizeof(a)), in,
			wan_name(l, v->wan), wan_name(l, v->wan),
			(unsigned long long)v->packets,
			spoofed_addr(v->dst, d, sizeof(d)));
}

void unmapped_tick(struct loader *l)
{
	int fd = MAP_FD(l, unmapped);
	struct in6_addr_raw k6, next6;
	__be32 key, next;
	bool first = true;
	__u64 now = (mwan_mono_ms() / 1000);

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		struct mwan_unmapped u;

		first = false;
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &u))
			report_unmapped(l, key, &u, now);
	}
	fd = MAP_FD(l, spoofed);
	first = true;
	while (!bpf_map_get_next_key(fd, first ? NULL : &k6, &next6)) {
		struct mwan_spoofed v;

		first = false;
		k6 = next6;
		if (!bpf_map_lookup_elem(fd, &k6, &v))
			report_spoofed(l, &k6, &v, now);
	}
}
