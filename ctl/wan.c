/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl wan NAME up|down|auto: the operator's override of one WAN. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpfctl.h"
#include "lib/print.h"
#include "lib/steer.h"

static int parse_admin(const char *s, __u32 *admin)
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

/* The datapath reads only mwan_steer, so the override takes effect once
 * the steering table is recomputed; doing it here makes it immediate
 * instead of waiting for the loader's next pass.
 */
static int resteer(const struct ctl *ctl, int admin_fd)
{
	int wans_fd, steer_fd, err = 0;

	wans_fd = ctl_map_open(ctl, MWAN_MAP(wans), false);
	if (wans_fd < 0)
		return -1;
	steer_fd = ctl_map_open(ctl, MWAN_MAP(steer), true);
	if (steer_fd >= 0)
		err = mwan_steer_sync(wans_fd, admin_fd, steer_fd);
	if (err)
		ctl_error(
			"cannot update %s: %s (the override is stored but not in effect yet)",
			MWAN_MAP(steer)->name, strerror(-err));
	if (steer_fd >= 0)
		close(steer_fd);
	close(wans_fd);
	return steer_fd < 0 || err ? -1 : 0;
}

static int write_admin(const struct ctl *ctl, __u32 id, __u32 admin)
{
	int fd = ctl_map_open(ctl, MWAN_MAP(admin), true);
	int ret;

	if (fd < 0)
		return -1;
	ret = bpf_map_update_elem(fd, &id, &admin, BPF_ANY);
	if (ret)
		ctl_error("cannot write %s[%u]: %s", MWAN_MAP(admin)->name, id,
			  strerror(errno));
	else
		ret = resteer(ctl, fd);
	close(fd);
	return ret;
}

static void print_result(const struct ctl_wans *wans, const struct ctl_wan *c)
{
	print_open_object(NULL);
	print_str("name", "%s: ", c->name);
	print_str("admin", "admin %s, ", ctl_admin_name(c->admin));
	print_str("state", "state %s", c->carries ? "up" : "down");
	/* as in status: this WAN carries flows only because none is usable */
	print_bool("failopen", NULL, wans->failopen && c->carries);
	if (wans->failopen && c->carries)
		print_text(" (fail-open: no WAN is usable)");
	print_text("\n");
	print_close_object();
}

int cmd_wan(const struct ctl *ctl, int argc, char **argv)
{
	struct ctl_wans wans;
	__u32 admin;
	int id;

	if (argc < 3)
		return ctl_usage_error("wan: expected NAME up|down|auto");
	if (argc > 3)
		return ctl_usage_error("unexpected argument '%s'", argv[3]);
	if (parse_admin(argv[2], &admin))
		return ctl_usage_error(
			"invalid WAN state '%s' (expected up, down or auto)",
			argv[2]);
	if (ctl_wans_load(ctl, &wans))
		return CTL_EXIT_FAIL;
	id = ctl_wan_find(&wans, argv[1]);
	if (id < 0)
		return ctl_unknown_wan(&wans, argv[1]);
	if (write_admin(ctl, id, admin))
		return CTL_EXIT_FAIL;

	wans.wan[id].admin = admin;
	ctl_wans_decide(&wans);
	print_result(&wans, &wans.wan[id]);
	return 0;
}
