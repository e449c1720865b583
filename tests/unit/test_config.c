/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lib/config.c and lib/syscheck.c: the example's values, and exact messages for bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cfgdiff.h"
#include "lib/config.h"
#include "lib/filter.h"
#include "lib/health.h"
#include "lib/syscheck.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void assert_ip4(struct in_addr a, const char *want)
{
	char buf[INET_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET, &a, buf, sizeof(buf)));
	assert_string_equal(buf, want);
}

static void assert_ip6(const struct in6_addr *a, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET6, a, buf, sizeof(buf)));
	assert_string_equal(buf, want);
}

static int parse(const char *text, struct mwan_config *cfg, char *err)
{
	return mwan_config_parse(text, strlen(text), "t.yaml", cfg, err,
				 MWAN_ERR_LEN);
}

/* The tests run from the source tree or from build/tests/. */
static const char *example_path(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX - 32];
	ssize_t n;

	if (getenv("MWAN_SRCDIR")) {
		snprintf(path, sizeof(path), "%s/examples/mwan.yaml",
			 getenv("MWAN_SRCDIR"));
		return path;
	}
	if (!access("examples/mwan.yaml", R_OK))
		return "examples/mwan.yaml";
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(path, sizeof(path), "%s/../../examples/mwan.yaml", exe);
	return path;
}

static void test_example(void **state)
{
	const struct mwan_cfg_wan *att, *wp;
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;
	const char *path = example_path();

	(void)state;
	assert_int_equal(mwan_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.path, path);
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/mwan");
	assert_string_equal(cfg.run_dir, "/run/mwan");
	assert_true(cfg.fast_path);
	assert_int_equal(cfg.flows_max, MWAN_FLOWS_DEFAULT);

	assert_int_equal(cfg.n_lans, 1);
	assert_false(cfg.lans_list);
	assert_string_equal(cfg.lans[0].name, "lan");
	assert_string_equal(cfg.lans[0].field, "lan");
	assert_string_equal(cfg.lans[0].ifname, "eth3");
	assert_int_equal(cfg.lans[0].iface_line, 27);
	assert_ip4(cfg.lans[0].net4, "10.250.250.0");
	assert_int_equal(cfg.lans[0].plen4, 29);
	assert_true(cfg.has_lan6);
	assert_int_equal(cfg.lan6, 0);
	assert_ip6(&cfg.lan_net6, "3d06:bad:b01:fe::");
	assert_int_equal(cfg.lan_plen6, 64);

	assert_int_equal(cfg.n_wans, 2);
	att = &cfg.wans[0];
	assert_string_equal(att->name, "att");
	assert_string_equal(att->ifname, "eth1");
	assert_int_equal(att->line, 32);
	assert_int_equal(att->iface_line, 33);
	assert_true(att->has_gw4);
	assert_ip4(att->gw4, "100.64.1.1");
	assert_true(att->has_gw6);
	assert_ip6(&att->gw6, "2001:db8:a::1");
	assert_int_equal(att->weight, 3);
	assert_int_equal(att->tier, 1);
	assert_true(att->has_npt);
	assert_int_equal(att->npt_subnet, 0xfe);
	assert_true(att->has_npt_prefix);
	assert_ip6(&att->npt_prefix, "2001:db8:a0:100::");
	assert_int_equal(att->npt_plen, 56);
	assert_int_equal(att->n_probe_targets, 2);
	assert_string_equal(att->probe_targets[0].text, "192.0.2.1");
	assert_int_equal(att->probe_targets[0].family, AF_INET);
	assert_ip4(att->probe_targets[0].addr4, "192.0.2.1");
	assert_int_equal(att->probe_targets[0].port, 0);
	assert_string_equal(att->probe_targets[1].text, "2001:db8:ffff::1");
	assert_int_equal(att->probe_targets[1].family, AF_INET6);
	assert_ip6(&att->probe_targets[1].addr6, "2001:db8:ffff::1");
	assert_int_equal(att->probe_targets[1].port, 0);
	assert_int_equal(att->probe_interval_ms, 250);
	assert_int_equal(att->probe_timeout_ms, 1000);
	assert_int_equal(att->probe_window, 20);
	assert_int_equal(att->probe_down_after, 3);
	assert_int_equal(att->probe_up_after, 8);
	assert_int_equal(att->probe_quorum, 1);
	assert_int_equal(att->probe_hold_down_s, 0);
	assert_int_equal(att->probe_loss_raise_pct, 50);
	assert_int_equal(att->probe_loss_clear_pct, 25);
	assert_int_equal(att->probe_rtt_raise_ms, 0);
	assert_int_equal(att->probe_rtt_clear_ms, 0);

	wp = &cfg.wans[1];
	assert_string_equal(wp->name, "webpass");
	assert_string_equal(wp->ifname, "eth2");
	assert_int_equal(wp->line, 44);
	assert_int_equal(wp->iface_line, 45);
	assert_ip4(wp->gw4, "100.64.2.1");
	assert_false(wp->has_gw6);
	assert_int_equal(wp->weight, 1);
	assert_int_equal(wp->tier, 1);
	assert_false(wp->has_npt);
	assert_false(wp->has_npt_prefix);
	assert_int_equal(wp->n_probe_targets, 0);
	assert_int_equal(wp->probe_window, 20);

	assert_int_equal(mwan_config_wan_index(&cfg, "att"), 0);
	assert_int_equal(mwan_config_wan_index(&cfg, "webpass"), 1);
	assert_int_equal(mwan_config_wan_index(&cfg, "sprint"), -1);

	assert_int_equal(cfg.n_nat, 2);
	assert_ip4(cfg.nat[0].internal, "10.250.250.2");
	assert_int_equal(cfg.nat[0].line, 50);
	assert_true(cfg.nat[0].has_ext[0]);
	assert_ip4(cfg.nat[0].ext[0], "198.51.100.193");
	assert_int_equal(cfg.nat[0].ext_line[0], 51);
	assert_true(cfg.nat[0].has_ext[1]);
	assert_ip4(cfg.nat[0].ext[1], "203.0.113.241");
	assert_false(cfg.nat[0].has_ext[2]);
	assert_ip4(cfg.nat[1].internal, "10.250.250.3");
	assert_int_equal(cfg.nat[1].line, 52);
	assert_ip4(cfg.nat[1].ext[0], "198.51.100.194");
	assert_ip4(cfg.nat[1].ext[1], "203.0.113.242");
	assert_int_equal(cfg.nat[1].ext_line[1], 53);

	mwan_config_free(&cfg);
	assert_null(cfg.nat);
	assert_int_equal(cfg.n_wans, 0);
}

#define LAN                   \
	"lan:\n"              \
	"  interface: eth3\n" \
	"  ipv4: 10.250.250.0/29\n"

/* Lines 4..10 */
#define WANS                         \
	"wans:\n"                    \
	"  att:\n"                   \
	"    interface: eth1\n"      \
	"    gateway4: 100.64.1.1\n" \
	"  webpass:\n"               \
	"    interface: eth2\n"      \
	"    gateway4: 100.64.2.1\n"

static void assert_probe_defaults(const struct mwan_cfg_wan *w)
{
	struct mwan_health_params p;

	assert_int_equal(w->n_probe_targets, 0);
	mwan_config_health_params(w, &p);
	assert_int_equal(p.interval_ms, MWAN_PROBE_INTERVAL_MS);
	assert_int_equal(p.interval_ms, 250);
	assert_int_equal(p.timeout_ms, 1000);
	assert_int_equal(p.window, 20);
	assert_int_equal(p.down_after, 3);
	assert_int_equal(p.up_after, 8);
	assert_int_equal(p.quorum, 1);
	assert_int_equal(p.hold_down_s, 0);
	assert_int_equal(p.loss_raise_pct, 50);
	assert_int_equal(p.loss_clear_pct, 25);
	assert_int_equal(p.rtt_raise_ms, 0);
	assert_int_equal(p.rtt_clear_ms, 0);
}

static void test_defaults(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(parse(LAN WANS, &cfg, err), 0);
	assert_string_equal(cfg.path, "t.yaml");
	assert_string_equal(cfg.pin_dir, MWAN_DEFAULT_PIN_DIR);
	assert_string_equal(cfg.run_dir, MWAN_DEFAULT_RUN_DIR);
	assert_true(cfg.fast_path);
	assert_int_equal(cfg.flows_max, 262144);
	assert_false(cfg.has_lan6);
	assert_int_equal(cfg.n_wans, 2);
	assert_int_equal(cfg.wans[1].weight, 1);
	assert_int_equal(cfg.wans[1].tier, 1);
	assert_int_equal(cfg.n_nat, 0);
	assert_null(cfg.nat);
	assert_probe_defaults(&cfg.wans[1]);
	assert_string_equal(cfg.metrics_textfile, "");
	assert_int_equal(cfg.metrics_interval_s, 15);
	mwan_config_free(&cfg);
}

static void test_all_keys(void **state)
{
	static const char text[] =
		"pin_dir: /sys/fs/bpf/lab\n"
		"run_dir: '/run/mwan-lab'\n"
		"fast_path: no\n"
		"flows_max: 0x400\n" LAN "  ipv6: 3d06:bad:b01::/48\n"
		"wans:\n"
		"  w_1-b:\n"
		"    interface: \"veth-wan1\"\n"
		"    gateway4: 100.64.1.1\n"
		"    gateway6: fe80::1\n"
		"    weight: 255\n"
		"    tier: 2\n"
		"    npt: { subnet: 0xfff, prefix: 2001:db8:a000::/36 }\n"
		"    probe:\n"
		"      targets:\n"
		"        - tcp:192.0.2.1:80\n"
		"        - tcp:[2001:db8::1]:443\n"
		"        - tcp:2001:db8::2:8080\n"
		"      interval_ms: 100\n"
		"      timeout_ms: 500\n"
		"      window: 10\n"
		"      down_after: 2\n"
		"      up_after: 10\n"
		"      quorum: 3\n"
		"      hold_down_s: 30\n"
		"      loss_raise_pct: 40\n"
		"      loss_clear_pct: 10\n"
		"      rtt_raise_ms: 150\n"
		"      rtt_clear_ms: 120\n";
	const struct mwan_cfg_probe_target *t;
	struct mwan_health_params p;
	char err[MWAN_ERR_LEN] = "";
	const struct mwan_cfg_wan *w;
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(parse(text, &cfg, err), 0);
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/lab");
	assert_string_equal(cfg.run_dir, "/run/mwan-lab");
	assert_false(cfg.fast_path);
	assert_int_equal(cfg.flows_max, 1024);
	assert_ip6(&cfg.lan_net6, "3d06:bad:b01::");
	assert_int_equal(cfg.lan_plen6, 48);
	w = &cfg.wans[0];
	assert_string_equal(w->name, "w_1-b");
	assert_string_equal(w->ifname, "veth-wan1");
	assert_ip6(&w->gw6, "fe80::1");
	assert_int_equal(w->weight, 255);
	assert_int_equal(w->tier, 2);
	assert_int_equal(w->npt_subnet, 0xfff);
	assert_ip6(&w->npt_prefix, "2001:db8:a000::");
	assert_int_equal(w->npt_plen, 36);
	assert_int_equal(w->n_probe_targets, 3);
	t = w->probe_targets;
	assert_int_equal(t[0].family, AF_INET);
	assert_ip4(t[0].addr4, "192.0.2.1");
	assert_int_equal(t[0].port, 80);
	assert_int_equal(t[0].line, 19);
	assert_string_equal(t[1].text, "tcp:[2001:db8::1]:443");
	assert_int_equal(t[1].family, AF_INET6);
	assert_ip6(&t[1].addr6, "2001:db8::1");
	assert_int_equal(t[1].port, 443);
	assert_ip6(&t[2].addr6, "2001:db8::2");
	assert_int_equal(t[2].port, 8080);
	assert_int_equal(w->probe_interval_ms, 100);
	assert_int_equal(w->probe_timeout_ms, 500);
	assert_int_equal(w->probe_window, 10);
	assert_int_equal(w->probe_down_after, 2);
	assert_int_equal(w->probe_up_after, 10);
	assert_int_equal(w->probe_quorum, 3);
	assert_int_equal(w->probe_hold_down_s, 30);
	assert_int_equal(w->probe_loss_raise_pct, 40);
	assert_int_equal(w->probe_loss_clear_pct, 10);
	assert_int_equal(w->probe_rtt_raise_ms, 150);
	assert_int_equal(w->probe_rtt_clear_ms, 120);

	mwan_config_health_params(w, &p);
	assert_int_equal(p.interval_ms, 100);
	assert_int_equal(p.timeout_ms, 500);
	assert_int_equal(p.window, 10);
	assert_int_equal(p.down_after, 2);
	assert_int_equal(p.up_after, 10);
	assert_int_equal(p.quorum, 3);
	assert_int_equal(p.hold_down_s, 30);
	assert_int_equal(p.loss_raise_pct, 40);
	assert_int_equal(p.loss_clear_pct, 10);
	assert_int_equal(p.rtt_raise_ms, 150);
	assert_int_equal(p.rtt_clear_ms, 120);
	mwan_config_free(&cfg);
}

/* A small window drags the default thresholds down instead of failing. */
static void test_window_clamps_defaults(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(
		parse(LAN WANS "    probe: { window: 2 }\n", &cfg, err), 0);
	assert_int_equal(cfg.wans[1].probe_window, 2);
	assert_int_equal(cfg.wans[1].probe_down_after, 2);
	assert_int_equal(cfg.wans[1].probe_up_after, 2);
	assert_int_equal(cfg.wans[0].probe_up_after, 8);
	mwan_config_free(&cfg);
}

/* A lower loss raise drags the default clear down; order in the file
 * does not matter.
 */
static void test_loss_thresholds(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(parse(LAN WANS "    probe: { loss_raise_pct: 20 }\n",
			       &cfg, err),
			 0);
	assert_int_equal(cfg.wans[1].probe_loss_raise_pct, 20);
	assert_int_equal(cfg.wans[1].probe_loss_clear_pct, 20);
	assert_int_equal(cfg.wans[0].probe_loss_clear_pct, 25);
	mwan_config_free(&cfg);

	assert_int_equal(parse(LAN WANS "    probe:\n"
					"      loss_clear_pct: 0\n"
					"      loss_raise_pct: 0\n",
			       &cfg, err),
			 0);
	assert_int_equal(cfg.wans[1].probe_loss_raise_pct, 0);
	assert_int_equal(cfg.wans[1].probe_loss_clear_pct, 0);
	mwan_config_free(&cfg);

	assert_int_equal(parse(LAN WANS "    probe:\n"
					"      loss_clear_pct: 10\n"
					"      loss_raise_pct: 100\n",
			       &cfg, err),
			 0);
	assert_int_equal(cfg.wans[1].probe_loss_raise_pct, 100);
	assert_int_equal(cfg.wans[1].probe_loss_clear_pct, 10);
	mwan_config_free(&cfg);
}

/* rtt_clear_ms defaults to 80 % of rtt_raise_ms, at least 1 ms. */
static void test_rtt_thresholds(void **state)
{
	static const struct {
		const char *probe;
		unsigned int raise, clear;
	} cases[] = {
		{ "{ rtt_raise_ms: 100 }", 100, 80 },
		{ "{ rtt_raise_ms: 100, rtt_clear_ms: 0 }", 100, 80 },
		{ "{ rtt_clear_ms: 100, rtt_raise_ms: 100 }", 100, 100 },
		{ "{ rtt_raise_ms: 1 }", 1, 1 },
		{ "{ rtt_raise_ms: 2 }", 2, 1 },
		{ "{ rtt_raise_ms: 60000 }", 60000, 48000 },
		{ "{ rtt_raise_ms: 0, rtt_clear_ms: 0 }", 0, 0 },
	};
	char err[MWAN_ERR_LEN] = "", text[512];
	struct mwan_config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text), "%s%s    probe: %s\n", LAN, WANS,
			 cases[i].probe);
		assert_int_equal(parse(text, &cfg, err), 0);
		assert_int_equal(cfg.wans[1].probe_rtt_raise_ms,
				 cases[i].raise);
		assert_int_equal(cfg.wans[1].probe_rtt_clear_ms,
				 cases[i].clear);
		assert_int_equal(cfg.wans[0].probe_rtt_clear_ms, 0);
		mwan_config_free(&cfg);
	}
}

struct bad_case {
	const char *name;
	const char *text;
	const char *err;
};

#define NAT_HEAD "nat:\n" /* line 11 */

static const struct bad_case bad_cases[] = {
	{ "unknown_top_key", LAN WANS "colour: red\n",
	  "t.yaml:11: colour: unknown key 'colour'" },
	{ "unknown_lan_key",
	  LAN "  mtu: 1500\n"
	      "wans:\n"
	      "  att: { interface: eth1, gateway4: 100.64.1.1 }\n",
	  "t.yaml:4: lan.mtu: unknown key 'mtu'" },
	{ "unknown_probe_key", LAN WANS "    probe:\n      bogus: 1\n",
	  "t.yaml:12: wans.webpass.probe.bogus: unknown key 'bogus'" },
	{ "bad_gateway4",
	  LAN "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.1.x\n",
	  "t.yaml:7: wans.att.gateway4: invalid IPv4 address '100.64.1.x'" },
	{ "multicast_gateway4",
	  LAN "wans:\n"
	      "  att: { interface: eth1, gateway4: 224.0.0.1 }\n",
	  "t.yaml:5: wans.att.gateway4: not a unicast address '224.0.0.1'" },
	{ "bad_gateway6", LAN WANS "    gateway6: 2001:db8::zz\n",
	  "t.yaml:11: wans.webpass.gateway6: invalid IPv6 address '2001:db8::zz'" },
	{ "bad_lan_cidr",
	  "lan:\n"
	  "  interface: eth3\n"
	  "  ipv4: 10.250.250.0/33\n" WANS,
	  "t.yaml:3: lan.ipv4: invalid IPv4 CIDR '10.250.250.0/33'" },
	{ "lan_host_bits",
	  "lan:\n"
	  "  interface: eth3\n"
	  "  ipv4: 10.250.250.1/29\n" WANS,
	  "t.yaml:3: lan.ipv4: host bits set in '10.250.250.1/29'" },
	{ "lan_too_small",
	  "lan:\n"
	  "  interface: eth3\n"
	  "  ipv4: 10.250.250.0/31\n" WANS,
	  "t.yaml:3: lan.ipv4: prefix length out of range in '10.250.250.0/31' (1..30)" },
	{ "bad_lan_ipv6", LAN "  ipv6: 3d06:bad:b01:fe::1/64\n" WANS,
	  "t.yaml:4: lan.ipv6: host bits set in '3d06:bad:b01:fe::1/64'" },
	{ "weight_zero", LAN WANS "    weight: 0\n",
	  "t.yaml:11: wans.webpass.weight: value '0' out of range 1..255" },
	{ "tier_not_number", LAN WANS "    tier: abc\n",
	  "t.yaml:11: wans.webpass.tier: invalid number 'abc'" },
	{ "weight_negative", LAN WANS "    weight: -1\n",
	  "t.yaml:11: wans.webpass.weight: invalid number '-1'" },
	{ "flows_max_small", "flows_max: 100\n" LAN WANS,
	  "t.yaml:1: flows_max: value '100' out of range 1024..16777216" },
	{ "flows_max_huge", "flows_max: 99999999999999999999999\n" LAN WANS,
	  "t.yaml:1: flows_max: value '99999999999999999999999' out of range 1024..16777216" },
	{ "fast_path_not_bool", "fast_path: maybe\n" LAN WANS,
	  "t.yaml:1: fast_path: invalid boolean 'maybe' (use true or false)" },
	{ "pin_dir_relative", "pin_dir: bpf/mwan\n" LAN WANS,
	  "t.yaml:1: pin_dir: not an absolute path 'bpf/mwan'" },
	{ "duplicate_key",
	  "lan:\n"
	  "  interface: eth3\n"
	  "  interface: eth4\n"
	  "  ipv4: 10.250.250.0/29\n" WANS,
	  "t.yaml:3: lan.interface: duplicate key 'interface'" },
	{ "duplicate_wan",
	  LAN WANS "  att: { interface: eth5, gateway4: 100.64.3.1 }\n",
	  "t.yaml:11: wans.att: duplicate key 'att'" },
	{ "missing_lan_interface",
	  "lan:\n"
	  "  ipv4: 10.250.250.0/29\n" WANS,
	  "t.yaml:1: lan.interface: missing required key" },
	{ "missing_gateway4",
	  LAN "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n",
	  "t.yaml:5: wans.att.gateway4: missing required key" },
	{ "missing_value",
	  LAN "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4:\n",
	  "t.yaml:7: wans.att.gateway4: missing value" },
	{ "missing_wans", LAN "nat: []\n",
	  "t.yaml:1: wans: missing required key" },
	{ "no_wans", LAN "wans: {}\n", "t.yaml:4: wans: no WANs configured" },
	{ "lan_not_mapping", "lan: [eth3]\n" WANS,
	  "t.yaml:1: lan: expected a mapping, got a list" },
	{ "weight_not_scalar", LAN WANS "    weight: [1]\n",
	  "t.yaml:11: wans.webpass.weight: expected a scalar, got a list" },
	{ "top_not_mapping", "- lan\n- wans\n",
	  "t.yaml:1: top level: expected a mapping, got a list" },
	{ "wan_is_lan_interface",
	  LAN "wans:\n"
	      "  att:\n"
	      "    interface: eth3\n"
	      "    gateway4: 100.64.1.1\n",
	  "t.yaml:6: wans.att.interface: interface 'eth3' is also lan.interface" },
	{ "duplicate_wan_interface",
	  LAN "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.1.1\n"
	      "  webpass:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.2.1\n",
	  "t.yaml:9: wans.webpass.interface: interface 'eth1' is also wans.att.interface" },
	{ "bad_interface_name",
	  LAN "wans:\n"
	      "  att: { interface: eth1/2, gateway4: 100.64.1.1 }\n",
	  "t.yaml:5: wans.att.interface: invalid interface name 'eth1/2'" },
	{ "bad_wan_name",
	  LAN "wans:\n"
	      "  AT&T: { interface: eth1, gateway4: 100.64.1.1 }\n",
	  "t.yaml:5: wans.AT&T: invalid WAN name 'AT&T' (1 to 15 of a-z, 0-9, _ and -)" },
	{ "npt_without_lan_ipv6", LAN WANS "    npt: { subnet: 1 }\n",
	  "t.yaml:11: wans.webpass.npt: requires lan.ipv6" },
	{ "npt_subnet_too_big",
	  LAN "  ipv6: 3d06:bad:b01:fe::/64\n"
	      "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.1.1\n"
	      "    npt:\n"
	      "      prefix: 2001:db8:a0:100::/56\n"
	      "      subnet: 0x1fe\n",
	  "t.yaml:11: wans.att.npt.subnet: subnet '0x1fe' does not fit between /56 and lan.ipv6 /64 (at most 0xff)" },
	{ "npt_prefix_longer_than_lan",
	  LAN "  ipv6: 3d06:bad:b01::/48\n"
	      "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.1.1\n"
	      "    npt: { prefix: '2001:db8:a0:100::/56' }\n",
	  "t.yaml:9: wans.att.npt.prefix: prefix '2001:db8:a0:100::/56' longer than lan.ipv6 /48" },
	{ "key_not_scalar", LAN WANS "[a]: 1\n",
	  "t.yaml:11: top level: expected a scalar key, got a list" },
	{ "npt_subnet_out_of_range",
	  LAN "  ipv6: 3d06:bad:b01:fe::/64\n"
	      "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.1.1\n"
	      "    npt: { subnet: 0x10000 }\n",
	  "t.yaml:9: wans.att.npt.subnet: value '0x10000' out of range 0..65535" },
	{ "bad_probe_target",
	  LAN WANS
	  "    probe:\n      targets: [192.0.2.1, 'tcp:192.0.2.1:99999']\n",
	  "t.yaml:12: wans.webpass.probe.targets[1]: invalid probe target 'tcp:192.0.2.1:99999' (use IPv4, IPv6 or tcp:ADDR:PORT)" },
	{ "probe_target_leading_zero",
	  LAN WANS
	  "    probe:\n      targets:\n        - 192.0.2.1\n        - 192.0.2.01\n",
	  "t.yaml:14: wans.webpass.probe.targets[1]: invalid probe target '192.0.2.01' (use IPv4, IPv6 or tcp:ADDR:PORT)" },
	{ "same_probe_target_twice",
	  LAN WANS
	  "    probe:\n      targets:\n        - 2001:db8::1\n        - 2001:db8:0::1\n",
	  "t.yaml:14: wans.webpass.probe.targets[1]: duplicate probe target '2001:db8:0::1'" },
	{ "down_after_over_window",
	  LAN WANS "    probe:\n      window: 4\n      down_after: 5\n",
	  "t.yaml:13: wans.webpass.probe.down_after: value '5' out of range 1..4" },
	{ "quorum_over_targets",
	  LAN WANS "    probe: { targets: [192.0.2.1], quorum: 2 }\n",
	  "t.yaml:11: wans.webpass.probe.quorum: value '2' out of range 1..1" },
	{ "loss_raise_over_100",
	  LAN WANS "    probe:\n      loss_raise_pct: 101\n",
	  "t.yaml:12: wans.webpass.probe.loss_raise_pct: value '101' out of range 0..100" },
	{ "loss_raise_not_number",
	  LAN WANS "    probe:\n      loss_raise_pct: 50%\n",
	  "t.yaml:12: wans.webpass.probe.loss_raise_pct: invalid number '50%'" },
	{ "loss_clear_over_100",
	  LAN WANS "    probe:\n      loss_clear_pct: 101\n",
	  "t.yaml:12: wans.webpass.probe.loss_clear_pct: value '101' out of range 0..100" },
	{ "loss_clear_over_default_raise",
	  LAN WANS "    probe:\n      loss_clear_pct: 60\n",
	  "t.yaml:12: wans.webpass.probe.loss_clear_pct: value '60' above loss_raise_pct 50" },
	{ "loss_clear_over_raise",
	  LAN WANS
	  "    probe:\n      loss_clear_pct: 40\n      loss_raise_pct: 30\n",
	  "t.yaml:12: wans.webpass.probe.loss_clear_pct: value '40' above loss_raise_pct 30" },
	{ "rtt_raise_over_max",
	  LAN WANS "    probe:\n      rtt_raise_ms: 60001\n",
	  "t.yaml:12: wans.webpass.probe.rtt_raise_ms: value '60001' out of range 0..60000" },
	{ "rtt_raise_empty", LAN WANS "    probe:\n      rtt_raise_ms:\n",
	  "t.yaml:12: wans.webpass.probe.rtt_raise_ms: missing value" },
	{ "rtt_clear_over_max",
	  LAN WANS
	  "    probe:\n      rtt_raise_ms: 100\n      rtt_clear_ms: 60001\n",
	  "t.yaml:13: wans.webpass.probe.rtt_clear_ms: value '60001' out of range 0..60000" },
	{ "rtt_clear_without_raise",
	  LAN WANS "    probe:\n      rtt_clear_ms: 50\n",
	  "t.yaml:12: wans.webpass.probe.rtt_clear_ms: requires rtt_raise_ms" },
	{ "rtt_clear_with_raise_off",
	  LAN WANS
	  "    probe:\n      rtt_raise_ms: 0\n      rtt_clear_ms: 50\n",
	  "t.yaml:13: wans.webpass.probe.rtt_clear_ms: requires rtt_raise_ms" },
	{ "rtt_clear_over_raise",
	  LAN WANS
	  "    probe:\n      rtt_raise_ms: 100\n      rtt_clear_ms: 150\n",
	  "t.yaml:13: wans.webpass.probe.rtt_clear_ms: value '150' above rtt_raise_ms 100" },
	/* what --check must not accept (issue 13) */
	{ "run_dir_too_long",
	  "run_dir: /run/mwan/0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\n" LAN
		  WANS,
	  "t.yaml:1: run_dir: too long for the control socket's path (at most 99 characters)" },
	{ "lan_ipv6_link_local", LAN "  ipv6: fe80::/64\n" WANS,
	  "t.yaml:4: lan.ipv6: 'fe80::/64' is link-local or multicast, no prefix to translate" },
	{ "lan_ipv6_multicast", LAN "  ipv6: ff05::/64\n" WANS,
	  "t.yaml:4: lan.ipv6: 'ff05::/64' is link-local or multicast, no prefix to translate" },
	{ "npt_prefix_link_local",
	  LAN "  ipv6: 3d06:bad:b01:fe::/64\n"
	      "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.1.1\n"
	      "    npt: { prefix: fe80::/56 }\n",
	  "t.yaml:9: wans.att.npt.prefix: 'fe80::/56' is link-local or multicast, no delegated prefix" },
	{ "npt_prefix_contains_lan6",
	  LAN "  ipv6: 3d06:bad:b01:fe::/64\n"
	      "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.1.1\n"
	      "    npt: { prefix: 3d06:bad:b01::/48, subnet: 0xfe }\n",
	  "t.yaml:9: wans.att.npt.prefix: prefix '3d06:bad:b01::/48' contains lan.ipv6: the internal prefix cannot be the external one" },
	{ "gateway4_lan_host",
	  LAN "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 10.250.250.4\n",
	  "t.yaml:7: wans.att.gateway4: gateway '10.250.250.4' is inside lan.ipv4, a LAN" },
	{ "gateway6_lan_host",
	  LAN "  ipv6: 3d06:bad:b01:fe::/64\n"
	      "wans:\n"
	      "  att:\n"
	      "    interface: eth1\n"
	      "    gateway4: 100.64.1.1\n"
	      "    gateway6: 3d06:bad:b01:fe::4\n",
	  "t.yaml:9: wans.att.gateway6: gateway '3d06:bad:b01:fe::4' is inside lan.ipv6, a LAN" },
	{ "gateway4_is_public_address",
	  LAN
	  "wans:\n"
	  "  att:\n"
	  "    interface: eth1\n"
	  "    gateway4: 198.51.100.193\n"
	  "nat:\n  - { internal: 10.250.250.2, external: { att: 198.51.100.193 } }\n",
	  "t.yaml:9: nat[0].external.att: public address '198.51.100.193' is wans.att.gateway4" },
	{ "probe_targets_empty", LAN WANS "    probe: { targets: [] }\n",
	  "t.yaml:11: wans.webpass.probe.targets: no targets (without probe: the WAN's health follows its link)" },
	{ "probe_target_unspecified",
	  LAN WANS "    probe: { targets: [0.0.0.0] }\n",
	  "t.yaml:11: wans.webpass.probe.targets[0]: probe target '0.0.0.0' is no unicast address beyond the gateway (unspecified, loopback, link-local, multicast or broadcast)" },
	{ "probe_target_broadcast",
	  LAN WANS "    probe: { targets: [255.255.255.255] }\n",
	  "t.yaml:11: wans.webpass.probe.targets[0]: probe target '255.255.255.255' is no unicast address beyond the gateway (unspecified, loopback, link-local, multicast or broadcast)" },
	{ "probe_target_multicast",
	  LAN WANS "    probe: { targets: [192.0.2.1, 224.0.0.1] }\n",
	  "t.yaml:11: wans.webpass.probe.targets[1]: probe target '224.0.0.1' is no unicast address beyond the gateway (unspecified, loopback, link-local, multicast or broadcast)" },
	{ "probe_target_loopback",
	  LAN WANS "    probe: { targets: [\"tcp:127.0.0.1:80\"] }\n",
	  "t.yaml:11: wans.webpass.probe.targets[0]: probe target 'tcp:127.0.0.1:80' is no unicast address beyond the gateway (unspecified, loopback, link-local, multicast or broadcast)" },
	{ "probe_target_link_local4",
	  LAN WANS "    probe: { targets: [169.254.1.1] }\n",
	  "t.yaml:11: wans.webpass.probe.targets[0]: probe target '169.254.1.1' is no unicast address beyond the gateway (unspecified, loopback, link-local, multicast or broadcast)" },
	{ "probe_target_link_local6",
	  LAN WANS "    probe: { targets: [\"fe80::1\"] }\n",
	  "t.yaml:11: wans.webpass.probe.targets[0]: probe target 'fe80::1' is no unicast address beyond the gateway (unspecified, loopback, link-local, multicast or broadcast)" },
	{ "probe_target_loopback6",
	  LAN WANS "    probe: { targets: [\"::1\"] }\n",
	  "t.yaml:11: wans.webpass.probe.targets[0]: probe target '::1' is no unicast address beyond the gateway (unspecified, loopback, link-local, multicast or broadcast)" },
	/* several LANs (lans:) */
	{ "lan_and_lans",
	  LAN
	  "lans:\n"
	  "  - { name: guest, interface: eth5, ipv4: 10.250.251.0/24 }\n" WANS,
	  "t.yaml:4: lans: lan and lans exclude each other (lan is the spelling for one LAN)" },
	{ "no_lan", WANS, "t.yaml:1: lan: missing required key" },
	{ "lans_empty", "lans: []\n" WANS,
	  "t.yaml:1: lans: no LANs configured" },
	{ "lans_not_list", "lans: { name: main }\n" WANS,
	  "t.yaml:1: lans: expected a list, got a mapping" },
	{ "lans_missing_name",
	  "lans:\n"
	  "  - { interface: eth3, ipv4: 10.250.250.0/29 }\n" WANS,
	  "t.yaml:2: lans[0].name: missing required key" },
	{ "lans_bad_name",
	  "lans:\n"
	  "  - { name: Main, interface: eth3, ipv4: 10.250.250.0/29 }\n" WANS,
	  "t.yaml:2: lans[0].name: invalid LAN name 'Main' (1 to 15 of a-z, 0-9, _ and -)" },
	{ "lans_duplicate_name",
	  "lans:\n"
	  "  - { name: main, interface: eth3, ipv4: 10.250.250.0/29 }\n"
	  "  - { name: main, interface: eth5, ipv4: 10.250.251.0/24 }\n" WANS,
	  "t.yaml:3: lans[1].name: duplicate LAN name 'main' (first at line 2)" },
	{ "lans_same_interface",
	  "lans:\n"
	  "  - { name: main, interface: eth3, ipv4: 10.250.250.0/29 }\n"
	  "  - { name: guest, interface: eth3, ipv4: 10.250.251.0/24 }\n" WANS,
	  "t.yaml:3: lans[1].interface: interface 'eth3' is also lans[0].interface" },
	{ "lans_overlap",
	  "lans:\n"
	  "  - { name: main, interface: eth3, ipv4: 10.250.250.0/29 }\n"
	  "  - { name: guest, interface: eth5, ipv4: 10.250.0.0/16 }\n" WANS,
	  "t.yaml:3: lans[1].ipv4: '10.250.0.0/16' overlaps lans[0].ipv4 10.250.250.0/29" },
	{ "lans_two_ipv6",
	  "lans:\n"
	  "  - { name: main, interface: eth3, ipv4: 10.250.250.0/29, ipv6: 3d06:bad:b01:fe::/64 }\n"
	  "  - { name: guest, interface: eth5, ipv4: 10.250.251.0/24, ipv6: 3d06:bad:b01:fd::/64 }\n" WANS,
	  "t.yaml:3: lans[1].ipv6: lans[0].ipv6 is set already: NPTv6 maps one internal prefix per WAN, so one LAN at most has ipv6" },
	{ "lans_too_many",
	  "lans:\n"
	  "  - { name: a, interface: eth3, ipv4: 10.250.250.0/29 }\n"
	  "  - { name: b, interface: eth5, ipv4: 10.250.251.0/29 }\n"
	  "  - { name: c, interface: eth6, ipv4: 10.250.252.0/29 }\n"
	  "  - { name: d, interface: eth7, ipv4: 10.250.253.0/29 }\n"
	  "  - { name: e, interface: eth8, ipv4: 10.250.254.0/29 }\n" WANS,
	  "t.yaml:1: lans: too many LANs (at most 4)" },
	{ "wan_is_lans_interface",
	  "lans:\n"
	  "  - { name: main, interface: eth3, ipv4: 10.250.250.0/29 }\n"
	  "  - { name: guest, interface: eth1, ipv4: 10.250.251.0/24 }\n" WANS,
	  "t.yaml:6: wans.att.interface: interface 'eth1' is also lans[1].interface" },
	{ "lans_nat_outside",
	  "lans:\n"
	  "  - { name: main, interface: eth3, ipv4: 10.250.250.0/29 }\n"
	  "  - { name: guest, interface: eth5, ipv4: 10.250.251.0/24 }\n" WANS
	  "nat:\n  - { internal: 10.250.252.2, external: { att: 198.51.100.193 } }\n",
	  "t.yaml:12: nat[0].internal: address '10.250.252.2' not inside any of lans[].ipv4 (10.250.250.0/29, 10.250.251.0/24)" },
	{ "lans_nat_broadcast",
	  "lans:\n"
	  "  - { name: main, interface: eth3, ipv4: 10.250.250.0/29 }\n"
	  "  - { name: guest, interface: eth5, ipv4: 10.250.251.0/24 }\n" WANS
	  "nat:\n  - { internal: 10.250.251.255, external: { att: 198.51.100.193 } }\n",
	  "t.yaml:12: nat[0].internal: address '10.250.251.255' is the broadcast address of lans[1].ipv4 10.250.251.0/24" },
	{ "lans_public_inside",
	  "lans:\n"
	  "  - { name: main, interface: eth3, ipv4: 10.250.250.0/29 }\n"
	  "  - { name: guest, interface: eth5, ipv4: 10.250.251.0/24 }\n" WANS
	  "nat:\n  - { internal: 10.250.250.2, external: { att: 10.250.251.9 } }\n",
	  "t.yaml:12: nat[0].external.att: public address '10.250.251.9' inside lans[1].ipv4 10.250.251.0/24" },
	{ "nat_internal_outside_lan",
	  LAN WANS NAT_HEAD "  - internal: 10.250.251.2\n"
			    "    external: { att: 198.51.100.193 }\n",
	  "t.yaml:12: nat[0].internal: address '10.250.251.2' not inside lan.ipv4 10.250.250.0/29" },
	{ "nat_internal_broadcast",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.7\n"
			    "    external: { att: 198.51.100.193 }\n",
	  "t.yaml:12: nat[0].internal: address '10.250.250.7' is the broadcast address of lan.ipv4 10.250.250.0/29" },
	{ "nat_internal_network",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.0\n"
			    "    external: { att: 198.51.100.193 }\n",
	  "t.yaml:12: nat[0].internal: address '10.250.250.0' is the network address of lan.ipv4 10.250.250.0/29" },
	{ "nat_duplicate_internal",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.2\n"
			    "    external: { att: 198.51.100.193 }\n"
			    "  - internal: 10.250.250.2\n"
			    "    external: { att: 198.51.100.194 }\n",
	  "t.yaml:14: nat[1].internal: duplicate internal address '10.250.250.2' (first at line 12)" },
	{ "nat_duplicate_public_across_wans",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.2\n"
			    "    external: { att: 198.51.100.193 }\n"
			    "  - internal: 10.250.250.3\n"
			    "    external:\n"
			    "      webpass: 198.51.100.193\n",
	  "t.yaml:16: nat[1].external.webpass: duplicate public address '198.51.100.193' (first at line 13)" },
	{ "nat_external_is_gateway",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.2\n"
			    "    external: { att: 100.64.2.1 }\n",
	  "t.yaml:13: nat[0].external.att: public address '100.64.2.1' is wans.webpass.gateway4" },
	{ "nat_duplicate_public_same_entry",
	  LAN WANS NAT_HEAD
	  "  - internal: 10.250.250.2\n"
	  "    external: { att: 198.51.100.193, webpass: 198.51.100.193 }\n",
	  "t.yaml:13: nat[0].external.webpass: duplicate public address '198.51.100.193' (first at line 13)" },
	{ "nat_external_in_lan",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.2\n"
			    "    external: { att: 10.250.250.5 }\n",
	  "t.yaml:13: nat[0].external.att: public address '10.250.250.5' inside lan.ipv4 10.250.250.0/29" },
	{ "nat_unknown_wan",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.2\n"
			    "    external: { sprint: 198.51.100.193 }\n",
	  "t.yaml:13: nat[0].external.sprint: unknown WAN 'sprint'" },
	{ "nat_external_empty",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.2\n"
			    "    external: {}\n",
	  "t.yaml:13: nat[0].external: no public address for any WAN" },
	{ "nat_missing_external",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.2\n",
	  "t.yaml:12: nat[0].external: missing required key" },
	{ "nat_item_not_mapping", LAN WANS NAT_HEAD "  - 10.250.250.2\n",
	  "t.yaml:12: nat[0]: expected a mapping, got a scalar" },
	{ "nat_bad_external",
	  LAN WANS NAT_HEAD "  - internal: 10.250.250.2\n"
			    "    external: { att: 198.51.100.300 }\n",
	  "t.yaml:13: nat[0].external.att: invalid IPv4 address '198.51.100.300'" },
	{ "metrics_textfile_relative",
	  LAN WANS "metrics:\n  textfile: mwan.prom\n",
	  "t.yaml:12: metrics.textfile: not an absolute path 'mwan.prom'" },
	{ "metrics_textfile_trailing_slash",
	  LAN WANS "metrics:\n  textfile: /var/lib/node-exporter/\n",
	  "t.yaml:12: metrics.textfile: names a directory '/var/lib/node-exporter/'" },
	{ "metrics_textfile_dot_dot",
	  LAN WANS "metrics:\n  textfile: /var/lib/..\n",
	  "t.yaml:12: metrics.textfile: names a directory '/var/lib/..'" },
	{ "metrics_textfile_root", LAN WANS "metrics: { textfile: / }\n",
	  "t.yaml:11: metrics.textfile: names a directory '/'" },
	{ "metrics_textfile_empty", LAN WANS "metrics:\n  textfile:\n",
	  "t.yaml:12: metrics.textfile: missing value" },
	{ "metrics_textfile_list", LAN WANS "metrics:\n  textfile: [/a]\n",
	  "t.yaml:12: metrics.textfile: expected a scalar, got a list" },
	{ "metrics_interval_zero", LAN WANS "metrics:\n  interval: 0\n",
	  "t.yaml:12: metrics.interval: value '0' out of range 1..3600" },
	{ "metrics_interval_too_long", LAN WANS "metrics:\n  interval: 3601\n",
	  "t.yaml:12: metrics.interval: value '3601' out of range 1..3600" },
	{ "metrics_interval_unit", LAN WANS "metrics:\n  interval: 15s\n",
	  "t.yaml:12: metrics.interval: invalid number '15s'" },
	{ "metrics_unknown_key",
	  LAN WANS "metrics:\n  textfile: /a.prom\n  port: 9100\n",
	  "t.yaml:13: metrics.port: unknown key 'port'" },
	{ "metrics_not_mapping", LAN WANS "metrics: /a.prom\n",
	  "t.yaml:11: metrics: expected a mapping, got a scalar" },
	{ "yaml_bad_indent",
	  "lan:\n"
	  "  interface: eth3\n"
	  " ipv4: 10.250.250.0/29\n" WANS,
	  "t.yaml:3: syntax error: did not find expected key (while parsing a block mapping)" },
	{ "yaml_tab", "lan:\n\tinterface: eth3\n" WANS,
	  "t.yaml:2: syntax error: found character that cannot start any token (while scanning for the next token)" },
	{ "yaml_unclosed_flow", LAN "wans: { att: { interface: eth1\n",
	  "t.yaml:5: syntax error: did not find expected ',' or '}' (while parsing a flow mapping)" },
	/* wans.NAME.allow_sources and ingress_filter */
	{ "allow_sources_lan",
	  LAN WANS "    allow_sources: [198.51.100.0/26, 10.250.250.0/30]\n",
	  "t.yaml:11: wans.webpass.allow_sources[1]: '10.250.250.0/30' overlaps lan.ipv4: LAN addresses leave translated, never as they are" },
	{ "allow_sources_lan6",
	  LAN "  ipv6: 3d06:bad:b01:fe::/64\n" WANS
	      "    allow_sources: [3d06:bad:b01::/48]\n",
	  "t.yaml:12: wans.webpass.allow_sources[0]: '3d06:bad:b01::/48' overlaps lan.ipv6: LAN addresses leave translated, never as they are" },
	{ "allow_sources_private",
	  LAN WANS "    allow_sources: [192.168.5.0/24]\n",
	  "t.yaml:11: wans.webpass.allow_sources[0]: '192.168.5.0/24' is private address space (RFC 1918, RFC 4193), which never leaves a WAN untranslated" },
	{ "allow_sources_covers_private",
	  LAN WANS "    allow_sources: [172.0.0.0/8]\n",
	  "t.yaml:11: wans.webpass.allow_sources[0]: '172.0.0.0/8' is private address space (RFC 1918, RFC 4193), which never leaves a WAN untranslated" },
	{ "allow_sources_ula", LAN WANS "    allow_sources: [fd00::/8]\n",
	  "t.yaml:11: wans.webpass.allow_sources[0]: 'fd00::/8' is private address space (RFC 1918, RFC 4193), which never leaves a WAN untranslated" },
	{ "allow_sources_overlap",
	  LAN WANS
	  "    allow_sources:\n      - 198.51.100.0/26\n      - 198.51.100.32/27\n",
	  "t.yaml:13: wans.webpass.allow_sources[1]: '198.51.100.32/27' overlaps 198.51.100.0/26 (line 12)" },
	{ "allow_sources_host_bits",
	  LAN WANS "    allow_sources: [198.51.100.1/26]\n",
	  "t.yaml:11: wans.webpass.allow_sources[0]: host bits set in '198.51.100.1/26'" },
	{ "allow_sources_not_cidr",
	  LAN WANS "    allow_sources: [198.51.100.1]\n",
	  "t.yaml:11: wans.webpass.allow_sources[0]: invalid IPv4 CIDR '198.51.100.1'" },
	{ "allow_sources_scalar",
	  LAN WANS "    allow_sources: 198.51.100.0/26\n",
	  "t.yaml:11: wans.webpass.allow_sources: expected a list, got a scalar" },
	{ "ingress_bogons_value", LAN WANS "ingress_filter:\n  bogons: some\n",
	  "t.yaml:12: ingress_filter.bogons: invalid value 'some' (use default or none)" },
	{ "ingress_unknown_key", LAN WANS "ingress_filter:\n  drop: []\n",
	  "t.yaml:12: ingress_filter.drop: unknown key 'drop'" },
	{ "ingress_drop_gateway",
	  LAN WANS
	  "ingress_filter:\n  drop_sources: [198.18.0.0/15, 100.64.0.0/16]\n",
	  "t.yaml:12: ingress_filter.drop_sources[1]: '100.64.0.0/16' holds wans.att.gateway4, whose packets it would drop" },
	{ "ingress_drop_gateway6",
	  LAN "wans:\n  att:\n    interface: eth1\n    gateway4: 100.64.1.1\n"
	      "    gateway6: 2001:db8:a::1\n"
	      "ingress_filter:\n  drop_sources: [2001:db8::/32]\n",
	  "t.yaml:10: ingress_filter.drop_sources[0]: '2001:db8::/32' holds wans.att.gateway6, whose packets it would drop" },
	{ "ingress_drop_probe_target",
	  LAN "wans:\n  att:\n    interface: eth1\n    gateway4: 100.64.1.1\n"
	      "    probe: { targets: [192.0.2.1] }\n"
	      "ingress_filter:\n  drop_sources: [192.0.2.0/24]\n",
	  "t.yaml:10: ingress_filter.drop_sources[0]: '192.0.2.0/24' holds probe target 192.0.2.1 of wans.att (line 8), whose answers it would drop" },
	{ "yaml_two_documents", LAN WANS "---\nlan: {}\n",
	  "t.yaml:11: syntax error: more than one YAML document" },
};

static void test_bad(void **state)
{
	static const struct mwan_config zero;
	const struct bad_case *c = *state;
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(parse(c->text, &cfg, err), -1);
	assert_string_equal(err, c->err);
	assert_memory_equal(&cfg, &zero, sizeof(cfg));
}

/* The rule for prefix TEXT among r[0..n), or a failed test. */
static const struct mwan_filter_rule *rule_for(const struct mwan_filter_rule *r,
					       size_t n, const char *text)
{
	struct mwan_filter_rule want = { 0 };
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t i;

	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - text), text);
	want.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(want.family, addr, want.addr), 1);
	want.plen = atoi(slash + 1);
	for (i = 0; i < n; i++)
		if (r[i].family == want.family && r[i].plen == want.plen &&
		    !memcmp(r[i].addr, want.addr, sizeof(want.addr)))
			return &r[i];
	fail_msg("no rule for %s", text);
	return NULL;
}

/* ingress_filter and allow_sources, parsed and turned into the LPM
 * entries the loader writes (lib/filter.c).
 */
static void test_filters(void **state)
{
	static const char text[] = LAN WANS
		"    allow_sources: [198.51.100.0/25]\n" /* webpass, line 11 */
		"ingress_filter:\n"
		"  drop_sources: [10.1.0.0/16, 192.0.0.0/8, 2001:db8:dead::/48]\n";
	static struct mwan_filter_rule r[MWAN_FILTER_RULES_MAX];
	char err[MWAN_ERR_LEN] = "", t[1024];
	struct mwan_config cfg;
	size_t n;

	(void)state;
	assert_int_equal(parse(text, &cfg, err), 0);
	assert_true(cfg.bogons);
	assert_int_equal(cfg.n_drop, 3);
	assert_int_equal(cfg.drop_sources[2].family, AF_INET6);
	assert_int_equal(cfg.drop_sources[2].plen, 48);
	assert_int_equal(cfg.drop_sources[1].line, 13);
	assert_int_equal(cfg.wans[1].n_allow, 1);
	assert_int_equal(cfg.wans[1].allow_sources[0].plen, 25);

	/* the RFC 6890 list, what drop_sources adds, and a bogon inside a
	 * configured prefix dropped as configured (the longest match is
	 * the only one a lookup sees)
	 */
	n = mwan_ingress_rules(&cfg, r);
	assert_int_equal(n, 11 + 3);
	assert_int_equal(rule_for(r, n, "10.0.0.0/8")->value,
			 MWAN_INGRESS_BOGON);
	assert_int_equal(rule_for(r, n, "10.1.0.0/16")->value,
			 MWAN_INGRESS_CONFIGURED);
	assert_int_equal(rule_for(r, n, "192.168.0.0/16")->value,
			 MWAN_INGRESS_CONFIGURED);
	assert_int_equal(rule_for(r, n, "172.16.0.0/12")->value,
			 MWAN_INGRESS_BOGON);
	assert_int_equal(rule_for(r, n, "224.0.0.0/3")->value,
			 MWAN_INGRESS_BOGON);
	assert_int_equal(rule_for(r, n, "fc00::/7")->value, MWAN_INGRESS_BOGON);
	assert_int_equal(rule_for(r, n, "::1/128")->value, MWAN_INGRESS_BOGON);
	assert_int_equal(rule_for(r, n, "2001:db8:dead::/48")->value,
			 MWAN_INGRESS_CONFIGURED);
	n = mwan_egress_rules(&cfg, r);
	assert_int_equal(n, 1);
	assert_int_equal(rule_for(r, n, "198.51.100.0/25")->value, 1U << 1);
	mwan_config_free(&cfg);

	/* bogons: none leaves drop_sources alone; an allowed prefix inside
	 * another WAN's also leaves by that WAN
	 */
	snprintf(
		t, sizeof(t), "%s",
		LAN
		"wans:\n"
		"  att:\n"
		"    interface: eth1\n"
		"    gateway4: 100.64.1.1\n"
		"    allow_sources: [198.51.100.0/26, 2001:db8:a1::/48]\n"
		"  webpass:\n"
		"    interface: eth2\n"
		"    gateway4: 100.64.2.1\n"
		"    allow_sources: [198.51.100.0/25]\n"
		"ingress_filter: { bogons: none, drop_sources: [10.1.0.0/16] }\n");
	assert_int_equal(parse(t, &cfg, err), 0);
	assert_false(cfg.bogons);
	n = mwan_ingress_rules(&cfg, r);
	assert_int_equal(n, 1);
	assert_int_equal(rule_for(r, n, "10.1.0.0/16")->value,
			 MWAN_INGRESS_CONFIGURED);
	n = mwan_egress_rules(&cfg, r);
	assert_int_equal(n, 3);
	assert_int_equal(rule_for(r, n, "198.51.100.0/26")->value, 3);
	assert_int_equal(rule_for(r, n, "198.51.100.0/25")->value, 2);
	assert_int_equal(rule_for(r, n, "2001:db8:a1::/48")->value, 1);
	mwan_config_free(&cfg);
}

static void test_too_many_prefixes(void **state)
{
	char text[8192] = LAN WANS "    allow_sources:\n", err[MWAN_ERR_LEN];
	struct mwan_config cfg;
	int i;

	(void)state;
	for (i = 0; i <= MWAN_MAX_PREFIX_LIST; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "      - 198.51.%d.0/24\n", i);
	assert_int_equal(parse(text, &cfg, err), -1);
	assert_string_equal(
		err,
		"t.yaml:11: wans.webpass.allow_sources: too many prefixes (at most 64)");
}

/* Nesting beyond what the schema uses is refused where it goes too deep,
 * before libyaml builds the document (100 000 levels once took a minute).
 */
static void test_too_deep(void **state)
{
	static char text[300000];
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;
	size_t n = 0;
	int i;

	(void)state;
	n += snprintf(text, sizeof(text), LAN WANS "metrics:\n  x: ");
	for (i = 0; i < 100000; i++)
		text[n++] = '[';
	text[n] = '\0';
	assert_int_equal(parse(text, &cfg, err), -1);
	assert_string_equal(
		err, "t.yaml:12: syntax error: nested deeper than 16 levels");
	/* in block style too, each level on its own line */
	n = snprintf(text, sizeof(text), LAN WANS "x:\n");
	for (i = 1; i <= 17; i++)
		n += snprintf(text + n, sizeof(text) - n, "%*sk%d:\n", i, "",
			      i);
	assert_int_equal(parse(text, &cfg, err), -1);
	assert_string_equal(
		err, "t.yaml:27: syntax error: nested deeper than 16 levels");
}

/* What a reload may change, and how it is described (lib/cfgdiff.c). */
static void test_diff(void **state)
{
	static const char base[] = LAN WANS NAT_HEAD
		"  - { internal: 10.250.250.2, external: { att: 198.51.100.193 } }\n"
		"  - { internal: 10.250.250.3, external: { att: 198.51.100.194 } }\n";
	static const char next[] = LAN
		"wans:\n"
		"  att:\n"
		"    interface: eth1\n"
		"    gateway4: 100.64.1.1\n"
		"    weight: 5\n"
		"  webpass:\n"
		"    interface: eth2\n"
		"    gateway4: 100.64.2.1\n"
		"fast_path: false\n" NAT_HEAD
		"  - { internal: 10.250.250.3, external: { att: 198.51.100.195 } }\n"
		"  - { internal: 10.250.250.4, external: { att: 198.51.100.196 } }\n"
		"  - { internal: 10.250.250.5, external: { att: 198.51.100.197 } }\n";
	struct mwan_config a, b;
	char err[MWAN_ERR_LEN] = "", buf[256];

	(void)state;
	assert_int_equal(parse(base, &a, err), 0);
	assert_int_equal(parse(next, &b, err), 0);
	assert_true(mwan_config_same_interfaces(&a, &b));
	mwan_config_describe_diff(&a, &b, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"2 mapping(s) added, 1 removed, 1 changed; wan att changed; fast_path off");
	mwan_config_describe_diff(&a, &a, buf, sizeof(buf));
	assert_string_equal(buf, "0 mapping(s) added, 0 removed, 0 changed");
	/* a WAN on another interface, or renamed: a restart's business */
	strcpy(b.wans[1].ifname, "eth9");
	assert_false(mwan_config_same_interfaces(&a, &b));
	strcpy(b.wans[1].ifname, "eth2");
	strcpy(b.wans[1].name, "wp");
	assert_false(mwan_config_same_interfaces(&a, &b));
	strcpy(b.wans[1].name, "webpass");
	b.flows_max *= 2;
	assert_false(mwan_config_same_interfaces(&a, &b));
	mwan_config_free(&a);
	mwan_config_free(&b);
}

static void test_too_many_wans(void **state)
{
	char text[2048] = LAN "wans:\n", err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;
	int i;

	(void)state;
	for (i = 0; i <= MWAN_MAX_WANS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "  w%d: { interface: eth%d, gateway4: 100.64.%d.1 }\n",
			 i, i + 10, i);
	assert_int_equal(parse(text, &cfg, err), -1);
	assert_string_equal(err,
			    "t.yaml:13: wans.w8: too many WANs (at most 8)");
}

static void test_too_many_targets(void **state)
{
	char text[2048] = LAN WANS "    probe:\n      targets:\n";
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;
	int i;

	(void)state;
	for (i = 0; i <= MWAN_MAX_PROBE_TARGETS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "        - 192.0.2.%d\n", i + 1);
	assert_int_equal(parse(text, &cfg, err), -1);
	assert_string_equal(
		err,
		"t.yaml:12: wans.webpass.probe.targets: too many targets (at most 8)");
}

static void test_load_missing_file(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(mwan_config_load("/nonexistent/mwan.yaml", &cfg, err,
					  sizeof(err)),
			 -1);
	assert_string_equal(err, "/nonexistent/mwan.yaml: cannot read: "
				 "No such file or directory");
	assert_null(cfg.nat);
}

static void test_load_directory(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(mwan_config_load("/", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/: cannot read: Is a directory");
}

/* A temporary file of `size` zero bytes loaded: refused with `want`
 * (after "PATH:").
 */
static void expect_load_refused(off_t size, const char *want)
{
	char path[] = "/tmp/mwan-test-XXXXXX", full[MWAN_ERR_LEN];
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
	assert_int_equal(mwan_config_load(path, &cfg, err, sizeof(err)), -1);
	unlink(path);
	snprintf(full, sizeof(full), "%s:%s", path, want);
	assert_string_equal(err, full);
}

static void test_load_empty_file(void **state)
{
	(void)state;
	expect_load_refused(0, "1: top level: the file is empty");
}

/* Over the size cap: refused at line 1, before any parsing. */
static void test_load_too_large(void **state)
{
	(void)state;
	expect_load_refused(
		(1 << 20) + 1,
		"1: top level: larger than 1048576 bytes, no mwan.yaml");
}

static void test_comments_only(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(parse("# nothing yet\n", &cfg, err), -1);
	assert_string_equal(
		err,
		"t.yaml:1: top level: no YAML document (empty or comments only)");
}

static void set_sysctl(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(value, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void set_addr(const char *ifname, const char *addr)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	assert_int_equal(ioctl(fd, SIOCSIFADDR, &ifr), 0);
	close(fd);
}

/* Root only: this process moves to a network namespace of its own with
 * two tap devices (Ethernet) and a tun device (no link-layer header, as
 * WireGuard), the kinds mwan_config_check_interfaces tells apart. False:
 * not root, the test skips.
 */
static bool netns_with_devices(void)
{
	static const struct {
		const char *name;
		short flags;
	} dev[] = { { "mwan-tap0", IFF_TAP },
		    { "mwan-tap1", IFF_TAP },
		    { "mwan-tun0", IFF_TUN } };
	static int state; /* 0: not yet, 1: made */
	struct ifreq ifr;
	unsigned int i;
	int fd;

	if (state)
		return true;
	if (geteuid() != 0) {
		print_message(
			"skipped: needs root (a network namespace with tap and tun devices)\n");
		return false;
	}
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	for (i = 0; i < sizeof(dev) / sizeof(dev[0]); i++) {
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		assert_true(fd >= 0);
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = dev[i].flags | IFF_NO_PI;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev[i].name);
		assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
		/* the device lives while fd is open: until the test exits */
	}
	/* a router forwards (test_check_forwarding turns it off) */
	set_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	set_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	/* the router's own addresses: its LAN address, one of its WAN */
	set_addr("mwan-tap0", "10.250.250.1");
	set_addr("mwan-tap1", "198.51.100.200");
	state = 1;
	return true;
}

/* The config of the tests in netns_with_devices(): LAN mwan-tap0 (lines
 * 1..3), WAN att on mwan-tap1 (its interface on line 6 after TAP_LAN).
 */
#define TAP_LAN                    \
	"lan:\n"                   \
	"  interface: mwan-tap0\n" \
	"  ipv4: 10.250.250.0/29\n"
#define TAP_WAN                      \
	"wans:\n"                    \
	"  att:\n"                   \
	"    interface: mwan-tap1\n" \
	"    gateway4: 100.64.1.1\n"

/* lans: each LAN with its name, interface and prefixes; mappings on any
 * of them know theirs; ipv6 on the one LAN that has it.
 */
static void test_lans(void **state)
{
	static const char text[] =
		"lans:\n"
		"  - name: main\n"
		"    interface: br-lan\n"
		"    ipv4: 10.250.250.0/29\n"
		"  - name: guest\n"
		"    interface: eth5\n"
		"    ipv4: 10.250.251.0/24\n"
		"    ipv6: 3d06:bad:b01:fd::/64\n"
		"wans:\n"
		"  att: { interface: eth1, gateway4: 100.64.1.1 }\n"
		"nat:\n"
		"  - { internal: 10.250.250.2, external: { att: 198.51.100.193 } }\n"
		"  - { internal: 10.250.251.2, external: { att: 198.51.100.194 } }\n";
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;
	struct in_addr a;

	(void)state;
	assert_int_equal(parse(text, &cfg, err), 0);
	assert_int_equal(cfg.n_lans, 2);
	assert_true(cfg.lans_list);
	assert_string_equal(cfg.lans[0].name, "main");
	assert_string_equal(cfg.lans[0].field, "lans[0]");
	assert_string_equal(cfg.lans[0].ifname, "br-lan");
	assert_int_equal(cfg.lans[0].iface_line, 3);
	assert_string_equal(cfg.lans[1].name, "guest");
	assert_string_equal(cfg.lans[1].ifname, "eth5");
	assert_ip4(cfg.lans[1].net4, "10.250.251.0");
	assert_int_equal(cfg.lans[1].plen4, 24);
	assert_int_equal(cfg.lans[1].ipv4_line, 7);
	assert_true(cfg.has_lan6);
	assert_int_equal(cfg.lan6, 1);
	assert_int_equal(cfg.lan_ipv6_line, 8);
	assert_ip6(&cfg.lan_net6, "3d06:bad:b01:fd::");
	assert_int_equal(cfg.n_nat, 2);
	assert_int_equal(cfg.nat[0].lan, 0);
	assert_int_equal(cfg.nat[1].lan, 1);
	inet_pton(AF_INET, "10.250.251.200", &a);
	assert_int_equal(mwan_config_lan_of(&cfg, a), 1);
	inet_pton(AF_INET, "10.250.250.7", &a);
	assert_int_equal(mwan_config_lan_of(&cfg, a), 0);
	inet_pton(AF_INET, "10.250.250.8", &a);
	assert_int_equal(mwan_config_lan_of(&cfg, a), -1);
	mwan_config_free(&cfg);
}

static void test_check_interfaces(void **state)
{
	static const char text[] = "lan:\n"
				   "  interface: lo\n"
				   "  ipv4: 10.250.250.0/29\n"
				   "wans:\n"
				   "  att:\n"
				   "    interface: mwan-none0\n"
				   "    gateway4: 100.64.1.1\n";
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(parse(text, &cfg, err), 0);
	/* lo exists everywhere, and is no Ethernet interface */
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"t.yaml:2: lan.interface: 'lo' is the loopback device; mwan supports Ethernet and, as WANs, L3 tunnel and PPP interfaces (README: Interfaces)");

	strcpy(cfg.lans[0].ifname, "mwan-none1");
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err, "t.yaml:2: lan.interface: no such interface 'mwan-none1'");
	mwan_config_free(&cfg);
}

/* The TAP_LAN TAP_WAN config, parsed, inside netns_with_devices();
 * skips the test when not root.
 */
static void parse_tap(struct mwan_config *cfg, char *err)
{
	if (!netns_with_devices())
		skip();
	assert_int_equal(parse(TAP_LAN TAP_WAN, cfg, err), 0);
}

/* Ethernet devices pass in either role; a device without an Ethernet
 * header (tun here, as WireGuard, GRE or PPP) may be a WAN, never a LAN:
 * the LAN's programs read an Ethernet header.
 */
static void test_check_interface_kinds(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	parse_tap(&cfg, err);
	strcpy(cfg.wans[0].ifname, "mwan-none0");
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "t.yaml:6: wans.att.interface: "
				 "no such interface 'mwan-none0'");

	strcpy(cfg.wans[0].ifname, "mwan-tun0");
	err[0] = '\0';
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	assert_true(mwan_link_l3(mwan_link_type("mwan-tun0")));
	assert_false(mwan_link_l3(mwan_link_type("mwan-tap1")));
	assert_true(mwan_link_type("mwan-none0") < 0);

	strcpy(cfg.wans[0].ifname, "mwan-tap1");
	strcpy(cfg.lans[0].ifname, "mwan-tun0");
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"t.yaml:2: lan.interface: 'mwan-tun0' has no link-layer header (WireGuard, GRE, tun, PPP); a LAN must be Ethernet (README: Interfaces)");
	mwan_config_free(&cfg);
}

/* A mapping onto an address the router owns would hijack its own
 * traffic: refused, naming the interface that has it.
 */
static void test_check_router_addresses(void **state)
{
	static const char text[] = TAP_LAN TAP_WAN
		"nat:\n"
		"  - internal: 10.250.250.2\n"
		"    external: { att: 198.51.100.193 }\n"
		"  - internal: 10.250.250.1\n"
		"    external: { att: 198.51.100.194 }\n";
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	if (!netns_with_devices())
		skip();
	assert_int_equal(parse(text, &cfg, err), 0);
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"t.yaml:11: nat[1].internal: address '10.250.250.1' is the router's own (mwan-tap0)");

	cfg.nat[1].internal.s_addr = htonl(0x0afafa03); /* 10.250.250.3 */
	cfg.nat[0].ext[0].s_addr = htonl(0xc63364c8); /* 198.51.100.200 */
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"t.yaml:10: nat[0].external.att: public address '198.51.100.200' is the router's own (mwan-tap1)");

	cfg.nat[0].ext[0].s_addr = htonl(0xc63364c1); /* 198.51.100.193 */
	err[0] = '\0';
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	mwan_config_free(&cfg);
}

/* Without forwarding the kernel's path drops what XDP forwards: refused
 * at the line that needs it, with the command that fixes it.
 */
static void test_check_forwarding(void **state)
{
	static const char text[] = TAP_LAN
		"  ipv6: 3d06:bad:b01:fe::/64\n" TAP_WAN;
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	if (!netns_with_devices())
		skip();
	assert_int_equal(parse(text, &cfg, err), 0);
	set_sysctl("/proc/sys/net/ipv4/ip_forward", "0");
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"t.yaml:3: lan.ipv4: the kernel does not forward (net.ipv4.ip_forward is 0), so its path would drop what XDP forwards; run: sysctl -w net.ipv4.ip_forward=1 (and keep it in /etc/sysctl.d)");
	set_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	set_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "0");
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"t.yaml:4: lan.ipv6: the kernel does not forward (net.ipv6.conf.all.forwarding is 0), so its path would drop what XDP forwards; run: sysctl -w net.ipv6.conf.all.forwarding=1 (and keep it in /etc/sysctl.d)");
	/* IPv6 forwarding only matters with lan.ipv6 */
	cfg.has_lan6 = false;
	err[0] = '\0';
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	set_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	mwan_config_free(&cfg);
}

/* Strict reverse-path filtering on a WAN (its own or all's) would make
 * the kernel's path drop what XDP forwards: refused at the WAN's
 * interface line with the command that fixes both; loose mode passes.
 */
static void test_check_rp_filter(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	parse_tap(&cfg, err);
	set_sysctl("/proc/sys/net/ipv4/conf/mwan-tap1/rp_filter", "1");
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err,
		"t.yaml:6: wans.att.interface: 'mwan-tap1' filters by reverse path strictly (net.ipv4.conf.all.rp_filter is 0, net.ipv4.conf.mwan-tap1.rp_filter is 1), so the kernel's path would drop the replies this WAN brings in while XDP forwards them; run: sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.mwan-tap1.rp_filter=2 (loose; keep it in /etc/sysctl.d)");
	/* the kernel takes the larger of all's and the interface's */
	set_sysctl("/proc/sys/net/ipv4/conf/mwan-tap1/rp_filter", "0");
	set_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "1");
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(
		err,
		"(net.ipv4.conf.all.rp_filter is 1, net.ipv4.conf.mwan-tap1.rp_filter is 0), so the kernel's path would drop the replies this WAN brings in while XDP forwards them; run: sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.mwan-tap1.rp_filter=2 (loose;"));
	/* loose wins over strict (2 > 1); the LAN's own setting is its
	 * business
	 */
	set_sysctl("/proc/sys/net/ipv4/conf/mwan-tap1/rp_filter", "2");
	err[0] = '\0';
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 0);
	set_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "2");
	set_sysctl("/proc/sys/net/ipv4/conf/mwan-tap1/rp_filter", "0");
	set_sysctl("/proc/sys/net/ipv4/conf/mwan-tap0/rp_filter", "1");
	err[0] = '\0';
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	set_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	set_sysctl("/proc/sys/net/ipv4/conf/mwan-tap0/rp_filter", "0");
	set_sysctl("/proc/sys/net/ipv4/conf/mwan-tap1/rp_filter", "0");
	mwan_config_free(&cfg);
}

static void test_metrics(void **state)
{
	static const char text[] = LAN WANS
		"metrics:\n"
		"  interval: 3600\n"
		"  textfile: /var/lib/prometheus/node-exporter/mwan.prom\n";
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	assert_int_equal(parse(text, &cfg, err), 0);
	assert_string_equal(cfg.metrics_textfile,
			    "/var/lib/prometheus/node-exporter/mwan.prom");
	assert_int_equal(cfg.metrics_textfile_line, 13);
	assert_int_equal(cfg.metrics_interval_s, 3600);
	mwan_config_free(&cfg);

	/* an interval alone: no file, nothing written */
	assert_int_equal(
		parse(LAN WANS "metrics: { interval: 1 }\n", &cfg, err), 0);
	assert_string_equal(cfg.metrics_textfile, "");
	assert_int_equal(cfg.metrics_interval_s, 1);
	mwan_config_free(&cfg);
}

/* The loader writes PATH.tmp.PID, so the path leaves room for that. */
static void test_metrics_path_too_long(void **state)
{
	char text[PATH_MAX + 512] = LAN WANS "metrics:\n  textfile: /";
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;
	size_t n = strlen(text);

	(void)state;
	memset(text + n, 'a', MWAN_METRICS_PATH_MAX - 2);
	strcpy(text + n + MWAN_METRICS_PATH_MAX - 2, "\n");
	assert_int_equal(parse(text, &cfg, err), 0);
	assert_int_equal(strlen(cfg.metrics_textfile),
			 MWAN_METRICS_PATH_MAX - 1);
	mwan_config_free(&cfg);
	strcpy(text + n + MWAN_METRICS_PATH_MAX - 2, "a\n");
	assert_int_equal(parse(text, &cfg, err), -1);
	/* the quote is cut short, like every long value */
	assert_string_equal(
		err,
		"t.yaml:12: metrics.textfile: path too long "
		"'/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
}

/* Only the system knows that an existing path is a directory. */
static void test_metrics_textfile_is_directory(void **state)
{
	char err[MWAN_ERR_LEN] = "";
	struct mwan_config cfg;

	(void)state;
	if (!netns_with_devices())
		skip();
	assert_int_equal(parse(TAP_LAN TAP_WAN "metrics:\n  textfile: /tmp\n",
			       &cfg, err),
			 0);
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 -1);
	assert_string_equal(
		err, "t.yaml:9: metrics.textfile: names a directory '/tmp'");
	/* a file that does not exist yet is fine */
	strcpy(cfg.metrics_textfile, "/tmp/mwan-test-none/mwan.prom");
	err[0] = '\0';
	assert_int_equal(mwan_config_check_interfaces(&cfg, err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	mwan_config_free(&cfg);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_window_clamps_defaults),
		cmocka_unit_test(test_loss_thresholds),
		cmocka_unit_test(test_rtt_thresholds),
		cmocka_unit_test(test_too_many_wans),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_too_many_prefixes),
		cmocka_unit_test(test_too_many_targets),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_load_empty_file),
		cmocka_unit_test(test_load_too_large),
		cmocka_unit_test(test_comments_only),
		cmocka_unit_test(test_check_interfaces),
		cmocka_unit_test(test_check_interface_kinds),
		cmocka_unit_test(test_check_router_addresses),
		cmocka_unit_test(test_lans),
		cmocka_unit_test(test_check_forwarding),
		cmocka_unit_test(test_check_rp_filter),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_metrics_path_too_long),
		cmocka_unit_test(test_metrics_textfile_is_directory),
	};
	struct CMUnitTest tests[ARRAY_SIZE(fixed) + ARRAY_SIZE(bad_cases)];
	size_t i, n = ARRAY_SIZE(fixed);

	memcpy(tests, fixed, sizeof(fixed));
	/* One named test per bad config, so a failure says which one. */
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		tests[n + i] = (struct CMUnitTest){
			.name = bad_cases[i].name,
			.test_func = test_bad,
			.initial_state = (void *)&bad_cases[i],
		};
	}
	return _cmocka_run_group_tests("config", tests, ARRAY_SIZE(tests), NULL,
				       NULL);
}
