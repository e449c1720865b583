/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* LAN sources no mapping covers: a rate-limited log line per source. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <time.h>

#include "loader.h"
#include "log.h"
#include "mwan.skel.h"

/* From what mwan_tc_out records in mwan_unmapped: at most one line per
 * source every MWAN_UNMAPPED_LOG_S, and only when it sent more since.
 */
#define MWAN_UNMAPPED_LOG_S 60

struct unmapped_seen {
	__be32 src;
	__u64 packets; /* the map's count when last logged */
	__u64 logged_s; /* CLOCK_MONOTONIC seconds of that line */
};

/* Sources logged lately; the oldest line's slot is reused. */
static struct unmapped_seen seen[MWAN_MAX_UNMAPPED];

static __u64 now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec;
}

static struct unmapped_seen *seen_slot(__be32 src)
{
	struct unmapped_seen *oldest = &seen[0];
	unsigned int i;

	for (i = 0; i < MWAN_MAX_UNMAPPED; i++) {
		if (seen[i].src == src)
			return &seen[i];
		if (seen[i].logged_s < oldest->logged_s)
			oldest = &seen[i];
	}
	oldest->src = src;
	oldest->packets = 0;
	oldest->logged_s = 0;
	return oldest;
}

static void report(struct loader *l, __be32 src, const struct mwan_unmapped *u,
		   __u64 now)
{
	struct unmapped_seen *s = seen_slot(src);
	char a[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	if (u->packets <= s->packets ||
	    (s->logged_s && now < s->logged_s + MWAN_UNMAPPED_LOG_S))
		return;
	log_warn(
		"lan source %s has no public address on wan %s (no nat: mapping for it there): %llu packet(s) dropped so far, the last to %s; see mwan.yaml(5), UNMAPPED HOSTS",
		inet_ntop(AF_INET, &src, a, sizeof(a)),
		u->wan < l->cfg.n_wans ? l->cfg.wans[u->wan].name : "?",
		(unsigned long long)u->packets,
		inet_ntop(AF_INET, &u->dst, d, sizeof(d)));
	s->packets = u->packets;
	s->logged_s = now;
}

void unmapped_tick(struct loader *l)
{
	int fd = bpf_map__fd(l->skel->maps.mwan_unmapped);
	__be32 key, next;
	bool first = true;
	__u64 now = now_s();

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		struct mwan_unmapped u;

		first = false;
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &u))
			report(l, key, &u, now);
	}
}
