/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl pd, reload and wan-of: requests to the loader, and which WAN an interface is. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "bpfctl.h"
#include "lib/config.h"
#include "lib/control.h"
#include "lib/print.h"
#include "lib/rundir.h"

#define WORD_MAX 64 /* longer arguments are never valid */

/* One word of the request: printable, no spaces (which would make two). */
static int check_word(const char *what, const char *s)
{
	char buf[4 * WORD_MAX + 8];
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			break;
	if (!*p && p > s && p - s <= WORD_MAX)
		return 0;
	return ctl_error(
		"invalid %s '%s' (no spaces or control characters, at most %d bytes)",
		what, ctl_shown(s, buf, sizeof(buf)), WORD_MAX);
}

struct pd_args {
	const char *wan;
	const char *prefix; /* or "clear" */
	const char *valid; /* NULL: not given */
};

static int pd_option(int argc, char **argv, int *i, struct pd_args *a)
{
	const char *arg = argv[*i];

	if (!strncmp(arg, "--valid=", 8)) {
		if (a->valid)
			return ctl_usage_error("pd: --valid given twice");
		a->valid = arg + 8;
		return 0;
	}
	if (strcmp(arg, "--valid"))
		return ctl_usage_error("pd: unknown option '%s'", arg);
	if (a->valid)
		return ctl_usage_error("pd: --valid given twice");
	if (*i + 1 >= argc)
		return ctl_usage_error("pd: --valid needs SECONDS");
	a->valid = argv[++*i];
	return 0;
}

static int pd_parse(int argc, char **argv, struct pd_args *a)
{
	int i, err;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--", 2)) {
			err = pd_option(argc, argv, &i, a);
			if (err)
				return err;
		} else if (!a->wan) {
			a->wan = argv[i];
		} else if (!a->prefix) {
			a->prefix = argv[i];
		} else {
			return ctl_usage_error("unexpected argument '%s'",
					       argv[i]);
		}
	}
	if (!a->wan)
		return ctl_usage_error(
			"pd: expected WAN PREFIX/LEN or WAN clear");
	if (!a->prefix)
		return ctl_usage_error(
			"pd: expected PREFIX/LEN or 'clear' after '%s'",
			a->wan);
	if (!strcmp(a->prefix, "clear") && a->valid)
		return ctl_usage_error("pd: 'clear' takes no --valid");
	return 0;
}

static int pd_request(const struct pd_args *a, char *req, size_t len)
{
	if (check_word("WAN name", a->wan) || check_word("prefix", a->prefix) ||
	    (a->valid && check_word("lifetime", a->valid)))
		return CTL_EXIT_FAIL;
	if (!strcmp(a->prefix, "clear"))
		snprintf(req, len, "pd %s clear", a->wan);
	else
		snprintf(req, len, "pd %s %s %s", a->wan, a->prefix,
			 a->valid ? a->valid : "infinite");
	return 0;
}

int cmd_pd(const struct ctl *ctl, int argc, char **argv)
{
	char req[MWAN_CONTROL_MAX + 1], reply[MWAN_CONTROL_REPLY_MAX + 1];
	struct pd_args a;
	int err = pd_parse(argc, argv, &a);

	if (err)
		return err;
	err = pd_request(&a, req, sizeof(req));
	if (err)
		return err;
	if (ctl_call(ctl, req, reply, sizeof(reply)))
		return CTL_EXIT_FAIL;
	return ctl_print_reply(reply);
}

/* The loader reloads its config and answers with the outcome; a refused
 * config's FILE:LINE message comes back as the error.
 */
int cmd_reload(const struct ctl *ctl, int argc, char **argv)
{
	char reply[MWAN_CONTROL_REPLY_MAX + 1];

	(void)argv;
	if (argc > 1)
		return ctl_usage_error("reload takes no arguments");
	if (ctl_call(ctl, "reload", reply, sizeof(reply)))
		return CTL_EXIT_FAIL;
	return ctl_print_reply(reply);
}

int cmd_wan_of(const struct ctl *ctl, int argc, char **argv)
{
	const char *path = ctl->config ? ctl->config : MWAN_DEFAULT_CONFIG;
	static struct mwan_config cfg;
	char err[MWAN_ERR_LEN], buf[4 * IF_NAMESIZE + 8];
	unsigned int w;

	if (argc < 2)
		return ctl_usage_error("wan-of: expected IFNAME");
	if (argc > 2)
		return ctl_usage_error("unexpected argument '%s'", argv[2]);
	if (mwan_config_load(path, &cfg, err, sizeof(err)))
		return ctl_error("%s", err);
	for (w = 0; w < cfg.n_wans; w++)
		if (!strcmp(cfg.wans[w].ifname, argv[1]))
			break;
	if (w == cfg.n_wans) {
		mwan_config_free(&cfg);
		return ctl_error("no WAN uses interface '%s' in %s",
				 ctl_shown(argv[1], buf, sizeof(buf)), path);
	}
	print_open_object(NULL);
	print_str("name", "%s\n", cfg.wans[w].name);
	print_str("interface", NULL, cfg.wans[w].ifname);
	if (!cfg.wans[w].has_npt)
		print_null("npt", NULL);
	else
		print_str("npt", NULL,
			  cfg.wans[w].has_npt_prefix ? "static" : "pd");
	print_close_object();
	mwan_config_free(&cfg);
	return 0;
}
