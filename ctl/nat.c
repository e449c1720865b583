/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl nat: the static 1:1 IPv4 mappings as the datapath holds them. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfctl.h"
#include "lib/print.h"

struct nat_entry {
	__be32 internal;
	struct mwan_nat4 v;
};

static void nat_collect(const void *key, const void *value, void *arg)
{
	struct nat_entry *e = ctl_vec_push(arg);

	if (!e)
		return;
	memcpy(&e->internal, key, sizeof(e->internal));
	memcpy(&e->v, value, sizeof(e->v));
}

static int nat_cmp(const void *a, const void *b)
{
	__u32 x = ntohl(((const struct nat_entry *)a)->internal);
	__u32 y = ntohl(((const struct nat_entry *)b)->internal);

	return x < y ? -1 : x > y;
}

static void print_nat(const struct ctl_wans *wans, const struct nat_entry *e)
{
	char addr[INET_ADDRSTRLEN], mac[18], name[MWAN_NAME_LEN + 8];
	const char *wan;
	unsigned int id;

	print_open_object(NULL);
	print_str("internal", "%-15s ", ctl_ipv4_str(e->internal, addr));
	if (e->v.has_mac)
		print_str("mac", "%-17s", ctl_mac_str(e->v.mac, mac));
	else
		print_null("mac", "unresolved       ");
	print_open_object("external");
	for (id = 0; id < MWAN_MAX_WANS; id++) {
		if (!e->v.ext[id])
			continue;
		wan = ctl_wan_name(wans, id, name);
		print_text(" %s=", wan);
		print_str(wan, "%s", ctl_ipv4_str(e->v.ext[id], addr));
	}
	print_close_object();
	print_text("\n");
	print_close_object();
}

static int nat_read(const struct ctl *ctl, struct ctl_vec *l)
{
	int fd = ctl_map_open(ctl, MWAN_MAP(nat4), false);
	int ret;

	if (fd < 0)
		return -1;
	ret = ctl_map_walk(fd, MWAN_MAP(nat4), nat_collect, l);
	close(fd);
	if (ret || l->oom) {
		ctl_error("cannot read %s", MWAN_MAP(nat4)->name);
		return -1;
	}
	return 0;
}

int cmd_nat(const struct ctl *ctl, int argc, char **argv)
{
	struct ctl_vec l = { .size = sizeof(struct nat_entry) };
	struct ctl_wans wans;
	struct nat_entry *e;
	size_t i;

	if (argc > 1)
		return ctl_usage_error("unexpected argument '%s'", argv[1]);
	if (ctl_wans_load(ctl, &wans) || nat_read(ctl, &l)) {
		free(l.data);
		return CTL_EXIT_FAIL;
	}
	e = l.data;
	if (l.n)
		qsort(e, l.n, sizeof(*e), nat_cmp);

	print_text("%-15s %-17s %s\n", "INTERNAL", "MAC", "EXTERNAL");
	print_open_array(NULL);
	for (i = 0; i < l.n; i++)
		/* a key seen twice during a concurrent update */
		if (!i || e[i].internal != e[i - 1].internal)
			print_nat(&wans, &e[i]);
	print_close_array();
	free(l.data);
	return 0;
}
