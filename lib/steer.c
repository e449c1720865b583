/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Steering tables: which WAN new flows take, computed from WAN state. */
#include <stdio.h>
#include <string.h>

#include "steer.h"

static __u32 steer_candidates(const struct mwan_wan wans[MWAN_MAX_WANS],
			      const __u32 admin[MWAN_MAX_WANS], __u32 mask,
			      bool *failopen)
{
	__u32 cand = 0, usable = 0;
	unsigned int i;

	for (i = 0; i < MWAN_MAX_WANS; i++) {
		/* fail open is for probes that may be wrong; a WAN the
		 * kernel cannot route (blocked) carries nothing even then
		 */
		if (!(mask & (1U << i)) || !mwan_wan_configured(&wans[i]) ||
		    !wans[i].weight ||
		    (wans[i].blocked && admin[i] != MWAN_ADMIN_UP))
			continue;
		cand |= 1U << i;
		if (mwan_wan_usable(&wans[i], admin[i]))
			usable |= 1U << i;
	}
	*failopen = !usable && cand;
	return usable ? usable : cand;
}

static __u32 steer_best_tier(const struct mwan_wan wans[MWAN_MAX_WANS],
			     __u32 cand)
{
	unsigned int i, best = 256;

	for (i = 0; i < MWAN_MAX_WANS; i++)
		if ((cand & (1U << i)) && wans[i].tier < best)
			best = wans[i].tier;
	for (i = 0; i < MWAN_MAX_WANS; i++)
		if (wans[i].tier != best)
			cand &= ~(1U << i);
	return cand;
}

/* Smooth weighted round-robin (as nginx does it) interleaves the WANs
 * across the slots; each WAN ends up with weight/sum of them, to within
 * one slot.
 */
static void steer_fill(const struct mwan_wan wans[MWAN_MAX_WANS], __u32 members,
		       __u8 slot[MWAN_STEER_SLOTS])
{
	int current[MWAN_MAX_WANS] = { 0 };
	int total = 0;
	unsigned int i, s;

	for (i = 0; i < MWAN_MAX_WANS; i++)
		if (members & (1U << i))
			total += wans[i].weight;
	for (s = 0; s < MWAN_STEER_SLOTS; s++) {
		int best = -1;

		for (i = 0; i < MWAN_MAX_WANS; i++) {
			if (!(members & (1U << i)))
				continue;
			current[i] += wans[i].weight;
			if (best < 0 || current[i] > current[best])
				best = i;
		}
		current[best] -= total;
		slot[s] = best;
	}
}

void mwan_steer_compute(const struct mwan_wan wans[MWAN_MAX_WANS],
			const __u32 admin[MWAN_MAX_WANS], __u32 mask,
			struct mwan_steer *out)
{
	bool failopen;
	__u32 cand = steer_candidates(wans, admin, mask, &failopen);

	memset(out, 0, sizeof(*out));
	memset(out->slot, 0xff, sizeof(out->slot));
	out->members = steer_best_tier(wans, cand);
	out->failopen = failopen;
	if (out->members)
		steer_fill(wans, out->members, out->slot);
}

const char *mwan_wan_block_name(unsigned int bit)
{
	switch (bit) {
	case MWAN_WAN_BLOCK_NO_ADDR:
		return "no address";
	case MWAN_WAN_BLOCK_GW_OFFLINK:
		return "gateway not on-link";
	case MWAN_WAN_BLOCK_NO_ROUTE:
		return "no route";
	case MWAN_WAN_BLOCK_GW_FAILED:
		return "gateway unreachable";
	case MWAN_WAN_BLOCK_NO_FORWARDING:
		return "forwarding off";
	case MWAN_WAN_BLOCK_RP_STRICT:
		return "strict rp_filter";
	}
	return NULL;
}

void mwan_wan_block_str(__u8 blocked, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int bit;

	if (len)
		buf[0] = '\0';
	for (bit = 1; bit <= MWAN_WAN_BLOCK_ALL && off < len; bit <<= 1) {
		const char *name = mwan_wan_block_name(bit);

		if ((blocked & bit) && name)
			off += snprintf(buf + off, len - off, "%s%s",
					off ? ", " : "", name);
	}
}

const char *mwan_admin_name(__u32 admin)
{
	switch (admin) {
	case MWAN_ADMIN_UP:
		return "up";
	case MWAN_ADMIN_DOWN:
		return "down";
	default:
		/* mwan_wan_usable() treats any other value as auto */
		return "auto";
	}
}

int mwan_admin_parse(const char *s, __u32 *admin)
{
	if (!strcmp(s, "up"))
		*admin = MWAN_ADMIN_UP;
	else if (!strcmp(s, "down"))
		*admin = MWAN_ADMIN_DOWN;
	else if (!strcmp(s, "auto"))
		*admin = MWAN_ADMIN_AUTO;
	else
		return -1;
	return 0;
}
