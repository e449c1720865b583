/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The control socket's requests (lib/control.h), each handed to the module that owns it. */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "loader.h"
#include "reload.h"
#include "prefix.h"
#include "log.h"
#include "wanstate.h"
#include "../lib/control.h"
#include "../lib/steer.h"

static bool reply_error(char *out, size_t outlen, const char *what,
			const char *msg)
{
	log_warn("control: request %s: %s", what, msg);
	snprintf(out, outlen, "error: %s", msg);
	return true;
}

static bool wan_admin(struct loader *l, const struct mwan_ctl_req *req,
		      char *out, size_t outlen)
{
	const char *name = l->cfg.wans[req->wan].name;
	int err = wanstate_set_admin(l, req->wan, req->admin);
	char msg[128];

	if (err) {
		snprintf(msg, sizeof(msg), "cannot set wan %s %s: %s", name,
			 mwan_admin_name(req->admin), strerror(-err));
		return reply_error(out, outlen, "failed", msg);
	}
	snprintf(out, outlen, "ok wan %s: admin %s", name,
		 mwan_admin_name(req->admin));
	return true;
}

bool command_handle(void *arg, const char *buf, size_t len, char *out,
		    size_t outlen)
{
	char err[MWAN_CONTROL_REPLY_MAX - 16], msg[MWAN_CONTROL_REPLY_MAX - 16];
	struct loader *l = arg;
	struct mwan_ctl_req req;

	if (mwan_ctl_parse(buf, len, &l->cfg, &req, err, sizeof(err)))
		return reply_error(out, outlen, "refused", err);
	switch (req.op) {
	case MWAN_CTL_RELOAD:
		if (!reload_start(l))
			return false;
		return reply_error(
			out, outlen, "failed",
			"cannot start a reload; the running dataplane is unchanged");
	case MWAN_CTL_WAN_ADMIN:
		return wan_admin(l, &req, out, outlen);
	case MWAN_CTL_PD_SET:
	case MWAN_CTL_PD_CLEAR:
		break;
	}
	if (prefix_apply(l, &req, msg, sizeof(msg)))
		return reply_error(out, outlen, "failed", msg);
	snprintf(out, outlen, "ok %s", msg);
	return true;
}

void command_reload_reply(const char *msg, int rc, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s%s", rc ? "error: " : "ok ", msg);
}
