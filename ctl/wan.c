/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl wan NAME up|down|auto: the operator's override of one WAN, through the loader. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpfctl.h"
#include "lib/control.h"
#include "lib/print.h"
#include "lib/rundir.h"
#include "lib/steer.h"
#include "lib/steermap.h"

/* A running loader is the one writer of mwan_admin and mwan_steer
 * (maps/mwan_map_table.h): it gets the request over its control socket,
 * logs it and applies it at once.
 */
static int ask_loader(const struct ctl *ctl, const char *name, __u32 admin)
{
	char req[MWAN_CONTROL_MAX + 1], reply[MWAN_CONTROL_REPLY_MAX + 1];
	char buf[4 * MWAN_CONTROL_REPLY_MAX + 8];

	snprintf(req, sizeof(req), "wan %s %s", name, mwan_admin_name(admin));
	if (ctl_call(ctl, req, reply, sizeof(reply)))
		return -1;
	if (!strncmp(reply, "ok", 2))
		return 0;
	if (!strncmp(reply, "error: ", 7))
		ctl_error("%s", ctl_shown(reply + 7, buf, sizeof(buf)));
	else
		ctl_error("unexpected reply from the loader: '%s'",
			  ctl_shown(reply, buf, sizeof(buf)));
	return -1;
}

/* The steering tables again, the way the loader would: the half not live
 * filled, then made live through a new config slot (lib/steermap.h).
 */
static int resteer(int wans_fd, int admin_fd, int steer_fd, int cfg_fd,
		   int live_fd)
{
	struct mwan_cfg c;
	__u64 flipped = 0;
	bool changed;
	__u32 slot;
	int err;

	err = mwan_cfg_read_live(live_fd, cfg_fd, &slot, &c);
	if (err)
		return err;
	/* when the last flip was is not known here: wait the whole grace */
	mwan_slot_grace(0);
	err = mwan_steer_prepare(wans_fd, admin_fd, steer_fd, c.steer_half,
				 &changed);
	if (err || !changed)
		return err;
	c.steer_half ^= 1;
	return mwan_cfg_publish(live_fd, cfg_fd, &c, &flipped);
}

/* Without a loader (stopped, the dataplane left forwarding) nobody else
 * writes the maps: bpfctl writes mwan_admin and the steering tables the
 * way the loader would, and the next loader keeps the override. Said on
 * stderr, never silently.
 */
static int write_direct(const struct ctl *ctl, __u32 id, __u32 admin)
{
	static const struct mwan_map_desc *const need[] = {
		MWAN_MAP(wans), MWAN_MAP(steer), MWAN_MAP(cfg), MWAN_MAP(live)
	};
	int fd[4] = { -1, -1, -1, -1 }, admin_fd, err = 0;
	unsigned int i;

	admin_fd = ctl_map_open(ctl, MWAN_MAP(admin), true);
	if (admin_fd < 0)
		return -1;
	if (bpf_map_update_elem(admin_fd, &id, &admin, BPF_ANY)) {
		ctl_error("cannot write %s[%u]: %s", MWAN_MAP(admin)->name, id,
			  strerror(errno));
		close(admin_fd);
		return -1;
	}
	fprintf(stderr,
		"bpfctl: mwan-loader is not running: wrote %s directly (the next loader keeps it)\n",
		MWAN_MAP(admin)->name);
	for (i = 0; i < 4 && !err; i++) {
		fd[i] = ctl_map_open(ctl, need[i], i > 0);
		err = fd[i] < 0;
	}
	if (!err) {
		err = resteer(fd[0], admin_fd, fd[1], fd[2], fd[3]);
		if (err)
			ctl_error(
				"cannot update %s: %s (the override is stored but not in effect yet)",
				MWAN_MAP(steer)->name, strerror(-err));
	}
	for (i = 0; i < 4; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	close(admin_fd);
	return err ? -1 : 0;
}

static void print_result(const struct ctl_wans *wans, const struct ctl_wan *c)
{
	print_open_object(NULL);
	print_str("name", "%s: ", c->name);
	print_str("admin", "admin %s, ", mwan_admin_name(c->admin));
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
	pid_t pid;
	int id, err;

	if (argc < 3)
		return ctl_usage_error("wan: expected NAME up|down|auto");
	if (argc > 3)
		return ctl_usage_error("unexpected argument '%s'", argv[3]);
	if (mwan_admin_parse(argv[2], &admin))
		return ctl_usage_error(
			"invalid WAN state '%s' (expected up, down or auto)",
			argv[2]);
	if (ctl_wans_load(ctl, &wans))
		return CTL_EXIT_FAIL;
	id = ctl_wan_find(&wans, argv[1]);
	if (id < 0)
		return ctl_unknown_wan(&wans, argv[1]);
	if (mwan_run_loader(ctl->run_dir, &pid))
		err = ask_loader(ctl, wans.wan[id].name, admin);
	else
		err = write_direct(ctl, id, admin);
	if (err)
		return CTL_EXIT_FAIL;
	/* what the dataplane now has, as status shows it */
	if (ctl_wans_load(ctl, &wans))
		return CTL_EXIT_FAIL;
	print_result(&wans, &wans.wan[id]);
	return 0;
}
