/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a reload changes: two parsed configs compared, no I/O. */
#include <stdio.h>
#include <string.h>

#include "cfgdiff.h"

bool mwan_config_same_interfaces(const struct mwan_config *a,
				 const struct mwan_config *b)
{
	unsigned int w;

	if (a->n_lans != b->n_lans || a->n_wans != b->n_wans ||
	    strcmp(a->pin_dir, b->pin_dir) || strcmp(a->run_dir, b->run_dir) ||
	    a->flows_max != b->flows_max ||
	    a->flows_inbound_max != b->flows_inbound_max)
		return false;
	for (w = 0; w < a->n_lans; w++)
		if (strcmp(a->lans[w].name, b->lans[w].name) ||
		    strcmp(a->lans[w].ifname, b->lans[w].ifname))
			return false;
	for (w = 0; w < a->n_wans; w++)
		if (strcmp(a->wans[w].name, b->wans[w].name) ||
		    strcmp(a->wans[w].ifname, b->wans[w].ifname))
			return false;
	return true;
}

/* Everything of a WAN but its name and interface (which mwan_config_same_interfaces
 * held equal) and where in the file it stands: the parser zeroes the
 * config first, so the rest compares as bytes.
 */
static bool same_wan_settings(const struct mwan_cfg_wan *a,
			      const struct mwan_cfg_wan *b)
{
	struct mwan_cfg_wan x = *a, y = *b;
	unsigned int t;

	x.line = y.line = x.iface_line = y.iface_line = 0;
	for (t = 0; t < MWAN_MAX_PROBE_TARGETS; t++)
		x.probe_targets[t].line = y.probe_targets[t].line = 0;
	return !memcmp(&x, &y, sizeof(x));
}

static const struct mwan_cfg_nat *find_nat(const struct mwan_config *c,
					   struct in_addr internal)
{
	unsigned int i;

	for (i = 0; i < c->n_nat; i++)
		if (c->nat[i].internal.s_addr == internal.s_addr)
			return &c->nat[i];
	return NULL;
}

static bool same_nat(const struct mwan_cfg_nat *a, const struct mwan_cfg_nat *b)
{
	unsigned int w;

	for (w = 0; w < MWAN_MAX_WANS; w++)
		if (a->has_ext[w] != b->has_ext[w] ||
		    (a->has_ext[w] && a->ext[w].s_addr != b->ext[w].s_addr))
			return false;
	return true;
}

/* "2 mapping(s) added, 1 removed, 0 changed; WAN(s) changed: att" */
void mwan_config_describe_diff(const struct mwan_config *old,
			       const struct mwan_config *new, char *buf,
			       size_t len)
{
	unsigned int i, added = 0, removed = 0, changed = 0;
	int n;

	for (i = 0; i < new->n_nat; i++) {
		const struct mwan_cfg_nat *o =
			find_nat(old, new->nat[i].internal);

		if (!o)
			added++;
		else if (!same_nat(o, &new->nat[i]))
			changed++;
	}
	for (i = 0; i < old->n_nat; i++)
		if (!find_nat(new, old->nat[i].internal))
			removed++;
	n = snprintf(buf, len, "%u mapping(s) added, %u removed, %u changed",
		     added, removed, changed);
	for (i = 0; i < new->n_wans &&n > 0 && (size_t)n < len; i++)
		if (!same_wan_settings(&old->wans[i], &new->wans[i]))
			n += snprintf(buf + n, len - n, "; wan %s changed",
				      new->wans[i].name);
	if (n > 0 && (size_t)n < len && old->fast_path != new->fast_path)
		snprintf(buf + n, len - n, "; fast_path %s",
			 new->fast_path ? "on" : "off");
}
