/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lib/control.c: control socket requests accepted, and every rejection's exact message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/control.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define USAGE "usage: pd WAN PREFIX/LEN VALID_SECONDS | pd WAN clear"
#define KNOWN "(known: att, webpass, backup, fixed)"

/* att and webpass take delegated prefixes (subnets 0xfe and 0), backup
 * has no NPTv6, fixed has a static prefix.
 */
static const char config[] =
	"lan:\n"
	"  interface: eth3\n"
	"  ipv4: 10.250.250.0/29\n"
	"  ipv6: 3d06:bad:b01:fe::/64\n"
	"wans:\n"
	"  att:\n"
	"    interface: eth1\n"
	"    gateway4: 100.64.1.1\n"
	"    npt: { subnet: 0xfe }\n"
	"  webpass:\n"
	"    interface: eth2\n"
	"    gateway4: 100.64.2.1\n"
	"    npt: { subnet: 0 }\n"
	"  backup:\n"
	"    interface: eth4\n"
	"    gateway4: 100.64.3.1\n"
	"  fixed:\n"
	"    interface: eth5\n"
	"    gateway4: 100.64.4.1\n"
	"    npt: { prefix: '2001:db8:c0:300::/56', subnet: 1 }\n";

static struct mwan_config cfg;

static int setup(void **state)
{
	char err[MWAN_ERR_LEN];

	(void)state;
	if (mwan_config_parse(config, strlen(config), "t.yaml", &cfg, err,
			      sizeof(err))) {
		fprintf(stderr, "test config: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mwan_config_free(&cfg);
	return 0;
}

static int parse_len(const char *buf, size_t len, struct mwan_ctl_req *req,
		     char *err)
{
	err[0] = '\0';
	return mwan_ctl_parse(buf, len, &cfg, req, err, MWAN_ERR_LEN);
}

static int parse(const char *s, struct mwan_ctl_req *req, char *err)
{
	return parse_len(s, strlen(s), req, err);
}

static void assert_ip6(const struct in6_addr *a, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET6, a, buf, sizeof(buf)));
	assert_string_equal(buf, want);
}

/* ---- accepted ---- */

static void test_set(void **state)
{
	struct mwan_ctl_req r;
	char err[MWAN_ERR_LEN];

	(void)state;
	assert_int_equal(parse("pd att 2001:db8:a0:100::/56 86400", &r, err),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(r.op, MWAN_CTL_PD_SET);
	assert_int_equal(r.wan, 0);
	assert_ip6(&r.delegated, "2001:db8:a0:100::");
	assert_int_equal(r.dlen, 56);
	/* the 0xfe-th /64 of the /56 */
	assert_ip6(&r.ext, "2001:db8:a0:1fe::");
	assert_int_equal(r.valid_s, 86400);
}

static void test_set_forms(void **state)
{
	struct mwan_ctl_req r;
	char err[MWAN_ERR_LEN];

	(void)state;
	/* repeated spaces, a trailing newline, leading zeros */
	assert_int_equal(
		parse("  pd  att   2001:db8:a0:100::/56  0060 \n", &r, err), 0);
	assert_int_equal(r.valid_s, 60);
	assert_int_equal(parse("pd att 2001:db8:a0:100::/56 infinite", &r, err),
			 0);
	assert_int_equal(r.valid_s, MWAN_VALID_INFINITE);
	assert_int_equal(
		parse("pd att 2001:db8:a0:100::/56 4294967295", &r, err), 0);
	assert_int_equal(r.valid_s, MWAN_VALID_INFINITE);
	assert_int_equal(parse("pd att 2001:db8:a0:100::/56 1", &r, err), 0);
	assert_int_equal(r.valid_s, 1);
	/* a /48: subnet 0xfe of its 65536 /64s */
	assert_int_equal(parse("pd att 2001:db8:a0::/48 60", &r, err), 0);
	assert_ip6(&r.ext, "2001:db8:a0:fe::");
	/* a /64 delegated for a /64 LAN: subnet 0 is the prefix itself */
	assert_int_equal(parse("pd webpass 2001:db8:b0:200::/64 60", &r, err),
			 0);
	assert_int_equal(r.wan, 1);
	assert_ip6(&r.ext, "2001:db8:b0:200::");
	/* the most a request may be, newline excluded */
	{
		char buf[MWAN_CONTROL_MAX + 2];
		int n = snprintf(buf, sizeof(buf), "pd att clear");

		memset(buf + n, ' ', MWAN_CONTROL_MAX - n);
		buf[MWAN_CONTROL_MAX] = '\n';
		assert_int_equal(parse_len(buf, MWAN_CONTROL_MAX + 1, &r, err),
				 0);
	}
}

static void test_clear(void **state)
{
	struct mwan_ctl_req r;
	char err[MWAN_ERR_LEN];

	(void)state;
	assert_int_equal(parse("pd webpass clear", &r, err), 0);
	assert_int_equal(r.op, MWAN_CTL_PD_CLEAR);
	assert_int_equal(r.wan, 1);
	assert_int_equal(parse("pd att clear\n", &r, err), 0);
	assert_int_equal(r.wan, 0);
}

/* "reload" alone, with the trailing newline a shell's echo adds. */
static void test_reload(void **state)
{
	static const char *const ok[] = { "reload", "reload\n", "  reload  " };
	struct mwan_ctl_req req;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		req.op = 0;
		assert_int_equal(mwan_ctl_parse(ok[i], strlen(ok[i]), &cfg,
						&req, err, sizeof(err)),
				 0);
		assert_int_equal(req.op, MWAN_CTL_RELOAD);
	}
}

/* wan NAME up|down|auto: any WAN of the config, with or without npt. */
static void test_wan_admin(void **state)
{
	static const struct {
		const char *req;
		unsigned int wan;
		__u32 admin;
	} ok[] = {
		{ "wan att down", 0, MWAN_ADMIN_DOWN },
		{ "wan webpass up\n", 1, MWAN_ADMIN_UP },
		{ "wan backup auto", 2, MWAN_ADMIN_AUTO },
	};
	struct mwan_ctl_req req;
	char err[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(&req, 0xff, sizeof(req));
		assert_int_equal(mwan_ctl_parse(ok[i].req, strlen(ok[i].req),
						&cfg, &req, err, sizeof(err)),
				 0);
		assert_int_equal(req.op, MWAN_CTL_WAN_ADMIN);
		assert_int_equal(req.wan, ok[i].wan);
		assert_int_equal(req.admin, ok[i].admin);
	}
}

static void test_prefix_str(void **state)
{
	struct in6_addr a;
	char buf[64];

	(void)state;
	inet_pton(AF_INET6, "2001:db8:a0:100::", &a);
	assert_string_equal(mwan_prefix_str(&a, 56, buf, sizeof(buf)),
			    "2001:db8:a0:100::/56");
}

/* ---- rejected: each with its exact message ---- */

struct bad {
	const char *req;
	const char *msg;
};

static const struct bad bad[] = {
	{ "", "empty request" },
	{ "\n", "empty request" },
	{ "   ", "empty request" },
	{ "pd att\tclear",
	  "invalid byte 0x09 at offset 6 (requests are printable ASCII)" },
	{ "pd att clear\r\n",
	  "invalid byte 0x0d at offset 12 (requests are printable ASCII)" },
	{ "pd att clear\n\n",
	  "invalid byte 0x0a at offset 12 (requests are printable ASCII)" },
	{ "pd att 2001:db8:a0:100::/56 86400\x1b[2J",
	  "invalid byte 0x1b at offset 33 (requests are printable ASCII)" },
	{ "\xff\xfe",
	  "invalid byte 0xff at offset 0 (requests are printable ASCII)" },
	{ "status",
	  "unknown command 'status' (expected 'pd', 'wan' or 'reload')" },
	{ "PD att clear",
	  "unknown command 'PD' (expected 'pd', 'wan' or 'reload')" },
	{ "reload now", "unexpected 'now' after 'reload'" },
	{ "wan", "missing WAN (wan WAN up|down|auto)" },
	{ "wan nope down", "unknown WAN 'nope' " KNOWN },
	{ "wan att",
	  "missing up, down or auto after 'att' (wan WAN up|down|auto)" },
	{ "wan att DOWN",
	  "invalid WAN state 'DOWN' (expected up, down or auto)" },
	{ "wan att off",
	  "invalid WAN state 'off' (expected up, down or auto)" },
	{ "wan att down now", "unexpected 'now' after 'down'" },
	{ "RELOAD",
	  "unknown command 'RELOAD' (expected 'pd', 'wan' or 'reload')" },
	{ "pd", "missing WAN (" USAGE ")" },
	{ "pd nope clear", "unknown WAN 'nope' " KNOWN },
	{ "pd ATT clear", "unknown WAN 'ATT' " KNOWN },
	{ "pd att;reboot clear", "unknown WAN 'att;reboot' " KNOWN },
	{ "pd $(touch${IFS}/tmp/x) clear",
	  "unknown WAN '$(touch${IFS}/tmp/x)' " KNOWN },
	{ "pd backup 2001:db8:a0:100::/56 60",
	  "WAN 'backup' has no npt configured" },
	{ "pd backup clear", "WAN 'backup' has no npt configured" },
	{ "pd fixed 2001:db8:a0:100::/56 60",
	  "WAN 'fixed' has a static npt.prefix (2001:db8:c0:300::/56); delegated prefixes are not accepted for it" },
	{ "pd fixed clear",
	  "WAN 'fixed' has a static npt.prefix (2001:db8:c0:300::/56); delegated prefixes are not accepted for it" },
	{ "pd att", "missing PREFIX/LEN or 'clear' after 'att' (" USAGE ")" },
	{ "pd att clear now", "unexpected 'now' after 'clear'" },
	{ "pd att garbage 60",
	  "invalid prefix 'garbage' (expected ADDRESS/LENGTH)" },
	{ "pd att 2001:db8:a0:100:: 60",
	  "invalid prefix '2001:db8:a0:100::' (expected ADDRESS/LENGTH)" },
	{ "pd att 2001:db8:a0:100::/ 60",
	  "invalid prefix '2001:db8:a0:100::/' (expected ADDRESS/LENGTH)" },
	{ "pd att /56 60", "invalid prefix '/56' (expected ADDRESS/LENGTH)" },
	{ "pd att 2001:db8:a0:100::/-1 60",
	  "invalid prefix '2001:db8:a0:100::/-1' (expected ADDRESS/LENGTH)" },
	{ "pd att 2001:db8:a0:100::/+56 60",
	  "invalid prefix '2001:db8:a0:100::/+56' (expected ADDRESS/LENGTH)" },
	{ "pd att 2001:db8:a0:100::/0056 60",
	  "invalid prefix '2001:db8:a0:100::/0056' (expected ADDRESS/LENGTH)" },
	{ "pd att 2001:db8:a0:100::/129 60",
	  "invalid prefix '2001:db8:a0:100::/129' (expected ADDRESS/LENGTH)" },
	{ "pd att 2001:db8:a0:100::/56/56 60",
	  "invalid prefix '2001:db8:a0:100::/56/56' (expected ADDRESS/LENGTH)" },
	{ "pd att 10.0.0.0/8 60",
	  "invalid prefix '10.0.0.0/8' (expected ADDRESS/LENGTH)" },
	{ "pd att 2001:db8:g::/48 60",
	  "invalid prefix '2001:db8:g::/48' (expected ADDRESS/LENGTH)" },
	{ "pd att ::/0 60", "prefix length out of range in '::/0' (1..64)" },
	{ "pd att 2001:db8:a0:100::/72 60",
	  "prefix '2001:db8:a0:100::/72' is longer than lan.ipv6 /64" },
	{ "pd att 2001:db8:a0:100::1/128 60",
	  "prefix '2001:db8:a0:100::1/128' is longer than lan.ipv6 /64" },
	{ "pd att 2001:db8:a0:101::/56 60",
	  "host bits set in '2001:db8:a0:101::/56'" },
	{ "pd att 2001:db8:a0:100::1/56 60",
	  "host bits set in '2001:db8:a0:100::1/56'" },
	{ "pd att fe80::/56 60", "'fe80::/56' is not a global unicast prefix" },
	{ "pd att ff02::/56 60", "'ff02::/56' is not a global unicast prefix" },
	{ "pd att ::/56 60", "'::/56' is not a global unicast prefix" },
	{ "pd att 2001:db8:a0:100::/60 60",
	  "npt.subnet 0xfe of WAN 'att' does not fit in '2001:db8:a0:100::/60' (at most 0xf)" },
	{ "pd att 2001:db8:a0:100::/64 60",
	  "npt.subnet 0xfe of WAN 'att' does not fit in '2001:db8:a0:100::/64' (at most 0x0)" },
	{ "pd att 2001:db8:a0:100::/56",
	  "missing lifetime after '2001:db8:a0:100::/56' (" USAGE ")" },
	{ "pd att 2001:db8:a0:100::/56 abc",
	  "invalid lifetime 'abc' (seconds 1..4294967295, or 'infinite')" },
	{ "pd att 2001:db8:a0:100::/56 -5",
	  "invalid lifetime '-5' (seconds 1..4294967295, or 'infinite')" },
	{ "pd att 2001:db8:a0:100::/56 +5",
	  "invalid lifetime '+5' (seconds 1..4294967295, or 'infinite')" },
	{ "pd att 2001:db8:a0:100::/56 1.5",
	  "invalid lifetime '1.5' (seconds 1..4294967295, or 'infinite')" },
	{ "pd att 2001:db8:a0:100::/56 0x10",
	  "invalid lifetime '0x10' (seconds 1..4294967295, or 'infinite')" },
	{ "pd att 2001:db8:a0:100::/56 Infinite",
	  "invalid lifetime 'Infinite' (seconds 1..4294967295, or 'infinite')" },
	{ "pd att 2001:db8:a0:100::/56 4294967296",
	  "lifetime '4294967296' out of range (1..4294967295 seconds, or 'infinite')" },
	{ "pd att 2001:db8:a0:100::/56 99999999999999999999999",
	  "lifetime '99999999999999999999999' out of range (1..4294967295 seconds, or 'infinite')" },
	{ "pd att 2001:db8:a0:100::/56 0",
	  "lifetime '0' would expire at once; use 'pd att clear' to withdraw a prefix" },
	{ "pd att 2001:db8:a0:100::/56 60 extra",
	  "unexpected 'extra' after the lifetime" },
	{ "pd att 2001:db8:a0:100::/56 60 ;reboot",
	  "unexpected ';reboot' after the lifetime" },
	{ "pd att 2001:db8:a0:100::/56 60 a b c d e f g h",
	  "unexpected 'a' after the lifetime" },
};

static void test_rejected(void **state)
{
	struct mwan_ctl_req r;
	char err[MWAN_ERR_LEN];
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = parse(bad[i].req, &r, err);

		if (ret != -1 || strcmp(err, bad[i].msg))
			fail_msg("request #%u \"%s\": returned %d, message\n"
				 "  \"%s\", expected\n  \"%s\"",
				 i, bad[i].req, ret, err, bad[i].msg);
	}
}

/* Bytes a C string cannot hold, and lengths. */
static void test_rejected_raw(void **state)
{
	char buf[MWAN_CONTROL_MAX + 8], err[MWAN_ERR_LEN];
	struct mwan_ctl_req r;

	(void)state;
	assert_int_equal(parse_len("pd\0att clear", 12, &r, err), -1);
	assert_string_equal(
		err,
		"invalid byte 0x00 at offset 2 (requests are printable ASCII)");
	assert_int_equal(parse_len("", 0, &r, err), -1);
	assert_string_equal(err, "empty request");

	memset(buf, 'a', sizeof(buf));
	assert_int_equal(parse_len(buf, MWAN_CONTROL_MAX + 1, &r, err), -1);
	assert_string_equal(err, "request too long (257 bytes, at most 256)");
	/* a newline does not make room for more */
	buf[MWAN_CONTROL_MAX + 1] = '\n';
	assert_int_equal(parse_len(buf, MWAN_CONTROL_MAX + 2, &r, err), -1);
	assert_string_equal(err, "request too long (257 bytes, at most 256)");
}

/* Long values are cut in messages. */
static void test_quote_cut(void **state)
{
	char req[200], want[300], x[101];
	struct mwan_ctl_req r;
	char err[MWAN_ERR_LEN];

	(void)state;
	memset(x, 'x', 100);
	x[100] = '\0';
	snprintf(req, sizeof(req), "pd %s clear", x);
	assert_int_equal(parse(req, &r, err), -1);
	snprintf(want, sizeof(want), "unknown WAN '%.64s...' " KNOWN, x);
	assert_string_equal(err, want);
}

/* A message never overflows a small buffer. */
static void test_small_err(void **state)
{
	struct mwan_ctl_req r;
	char err[16];

	(void)state;
	assert_int_equal(mwan_ctl_parse("pd nope clear", 13, &cfg, &r, err,
					sizeof(err)),
			 -1);
	assert_string_equal(err, "unknown WAN 'no");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_forms),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_wan_admin),
		cmocka_unit_test(test_prefix_str),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_rejected_raw),
		cmocka_unit_test(test_quote_cut),
		cmocka_unit_test(test_small_err),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
