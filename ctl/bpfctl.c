/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl: inspect and steer a running mwan dataplane via its pinned maps. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfctl.h"
#include "lib/config.h"
#include "lib/print.h"

static int cmd_help(const struct ctl *ctl, int argc, char **argv);

static const struct ctl_cmd commands[] = {
	{ "status", cmd_status, "", "loader, WAN states and XDP attachments" },
	{ "nat", cmd_nat, "", "static 1:1 IPv4 mappings" },
	{ "flows", cmd_flows, "[wan NAME]",
	  "tracked flows, like conntrack -L" },
	{ "stats", cmd_stats, "[--prometheus]",
	  "per-WAN traffic, drops and events (or Prometheus text)" },
	{ "wan", cmd_wan, "NAME up|down|auto",
	  "force a WAN up or down, or back to health checks" },
	{ "pd", cmd_pd, "WAN PREFIX/LEN [--valid S]",
	  "hand the loader WAN's delegated IPv6 prefix (default: no expiry)" },
	{ "pd", cmd_pd, "WAN clear", "withdraw WAN's delegated prefix" },
	{ "reload", cmd_reload, "",
	  "make the loader reload its config (refused whole if bad)" },
	{ "wan-of", cmd_wan_of, "IFNAME",
	  "the WAN the config (-c) gives an interface" },
	{ "help", cmd_help, "", "show this help" },
};

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"Usage: bpfctl [-j] [-c FILE] [-p PIN_DIR] [-r RUN_DIR] COMMAND [ARGS]\n"
		"  -j, --json         print JSON (compact, one line)\n"
		"  -c, --config FILE  take pin_dir and run_dir from FILE\n"
		"  -p, --pin-dir DIR  pinned maps (default %s)\n"
		"  -r, --run-dir DIR  loader state (default %s)\n"
		"Commands:\n",
		MWAN_DEFAULT_PIN_DIR, MWAN_DEFAULT_RUN_DIR);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-6s %-26s %s\n", commands[i].name,
			commands[i].args, commands[i].help);
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("bpfctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return CTL_EXIT_USAGE;
}

static int cmd_help(const struct ctl *ctl, int argc, char **argv)
{
	(void)ctl;
	(void)argv;
	if (argc > 1)
		return ctl_usage_error("unexpected argument '%s'", argv[1]);
	usage(stdout);
	return 0;
}

/* Only the two directories matter here, so the parsed config is copied
 * out and freed at once.
 */
static int load_dirs(const char *path, char *pin_dir, char *run_dir)
{
	static struct mwan_config cfg;
	char err[MWAN_ERR_LEN];

	if (mwan_config_load(path, &cfg, err, sizeof(err)))
		return ctl_error("%s", err);
	if (cfg.pin_dir[0])
		snprintf(pin_dir, PATH_MAX, "%s", cfg.pin_dir);
	if (cfg.run_dir[0])
		snprintf(run_dir, PATH_MAX, "%s", cfg.run_dir);
	mwan_config_free(&cfg);
	return 0;
}

static const struct ctl_cmd *find_command(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "config", required_argument, NULL, 'c' },
	{ "pin-dir", required_argument, NULL, 'p' },
	{ "run-dir", required_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	static char pin_dir[PATH_MAX] = MWAN_DEFAULT_PIN_DIR;
	static char run_dir[PATH_MAX] = MWAN_DEFAULT_RUN_DIR;
	const char *config = NULL, *pin_override = NULL, *run_override = NULL;
	struct ctl ctl = { pin_dir, run_dir, NULL };
	const struct ctl_cmd *cmd;
	bool json = false;
	int opt, ret;

	/* '+': options end at the command, whose own arguments follow */
	while ((opt = getopt_long(argc, argv, "+jc:p:r:h", long_opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'c':
			config = optarg;
			break;
		case 'p':
			pin_override = optarg;
			break;
		case 'r':
			run_override = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	/* like wg(8): no command shows the status */
	cmd = optind < argc ? find_command(argv[optind]) : &commands[0];
	if (!cmd)
		return ctl_usage_error("unknown command '%s'", argv[optind]);
	if (config && load_dirs(config, pin_dir, run_dir))
		return CTL_EXIT_FAIL;
	ctl.config = config;
	if (pin_override)
		ctl.pin_dir = pin_override;
	if (run_override)
		ctl.run_dir = run_override;

	print_start(stdout, json);
	if (optind < argc)
		ret = cmd->run(&ctl, argc - optind, argv + optind);
	else
		ret = cmd->run(&ctl, 1, (char *[]){ "status", NULL });
	if (print_end() && !ret)
		ret = ctl_error("writing output failed");
	return ret;
}
