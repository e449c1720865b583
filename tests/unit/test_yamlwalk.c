/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* lib/yamlwalk.c through a toy schema: the walker serves any schema, not only mwan.yaml's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <limits.h>
#include <net/if.h>
#include <string.h>

#include "lib/err.h"
#include "lib/yamlwalk.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The toy schema: a shelf with a required name, a size, a flag, an
 * address, a network, a path and a list of interface names, and an
 * owner mapping.
 */
struct shelf {
	char name[32];
	unsigned int size;
	bool open;
	struct in_addr host;
	struct in6_addr net;
	unsigned int plen;
	char path[PATH_MAX];
	char ifs[4][IF_NAMESIZE];
	size_t n_ifs;
	unsigned int owner_id;
};

static int get_name(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct shelf *s = obj;

	if (yw_get_str(p, it))
		return -1;
	if (strlen(yw_str(it)) >= sizeof(s->name))
		return yw_fail(p, yw_val_line(it), it->field, "too long");
	strcpy(s->name, yw_str(it));
	return 0;
}

static int get_size(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	return yw_get_uint(p, it, 1, 100, &((struct shelf *)obj)->size);
}

static int get_open(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	return yw_get_bool(p, it, &((struct shelf *)obj)->open);
}

static int get_host(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	return yw_get_ipv4(p, it, &((struct shelf *)obj)->host);
}

static int get_net(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct shelf *s = obj;

	return yw_get_cidr(p, it, AF_INET6, 64, &s->net, &s->plen);
}

static int get_path(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	return yw_get_path(p, it, ((struct shelf *)obj)->path);
}

static int get_ifs(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct shelf *s = obj;
	struct yw_item el;
	size_t i;

	if (yw_expect(p, it, YAML_SEQUENCE_NODE))
		return -1;
	if (yw_list_len(it) > ARRAY_SIZE(s->ifs))
		return yw_fail(p, it->line, it->field, "too many");
	for (i = 0; i < yw_list_len(it); i++) {
		yw_list_item(p, it, it->val->data.sequence.items.start[i], i,
			     &el);
		if (yw_get_ifname(p, &el, s->ifs[i]))
			return -1;
		s->n_ifs++;
	}
	return 0;
}

static int get_owner_id(struct yw_parser *p, const struct yw_item *it,
			void *obj)
{
	return yw_get_uint(p, it, 0, 0xffff, obj);
}

static const struct yw_key owner_keys[] = {
	{ .key = "id", .fn = get_owner_id, .required = true },
};

static int get_owner(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	return YW_PARSE_KEYS(p, it, owner_keys,
			     &((struct shelf *)obj)->owner_id);
}

static const struct yw_key shelf_keys[] = {
	{ .key = "name", .fn = get_name, .required = true },
	{ .key = "size", .fn = get_size },
	{ .key = "open", .fn = get_open },
	{ .key = "host", .fn = get_host },
	{ .key = "net", .fn = get_net },
	{ .key = "path", .fn = get_path },
	{ .key = "ifs", .fn = get_ifs },
	{ .key = "owner", .fn = get_owner },
};

static int root(struct yw_parser *p, yaml_node_t *node)
{
	struct yw_item it = { .field = "", .val = node };

	it.line = yw_node_line(node);
	if (node->type != YAML_MAPPING_NODE)
		return yw_fail(p, it.line, "top level",
			       "expected a mapping, got %s", yw_kind(node));
	p->root_line = it.line;
	return YW_PARSE_KEYS(p, &it, shelf_keys, p->data);
}

static int walk(const char *text, struct shelf *s, char *err)
{
	struct yw_parser p = {
		.name = "s.yaml", .data = s, .err = err, .errlen = MWAN_ERR_LEN
	};
	int ret;

	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	ret = yw_parse(&p, text, strlen(text), root);
	assert_null(p.doc);
	return ret;
}

static void test_good(void **state)
{
	struct shelf s;
	char err[MWAN_ERR_LEN], a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(walk("name: top\n"
			      "size: 0x10\n"
			      "open: yes\n"
			      "host: 192.0.2.7\n"
			      "net: 2001:db8:1::/48\n"
			      "path: /srv/shelf\n"
			      "ifs: [eth0, wg0]\n"
			      "owner: { id: 7 }\n",
			      &s, err),
			 0);
	assert_string_equal(err, "");
	assert_string_equal(s.name, "top");
	assert_int_equal(s.size, 16);
	assert_true(s.open);
	assert_string_equal(inet_ntoa(s.host), "192.0.2.7");
	assert_non_null(inet_ntop(AF_INET6, &s.net, a, sizeof(a)));
	assert_string_equal(a, "2001:db8:1::");
	assert_int_equal(s.plen, 48);
	assert_string_equal(s.path, "/srv/shelf");
	assert_int_equal(s.n_ifs, 2);
	assert_string_equal(s.ifs[1], "wg0");
	assert_int_equal(s.owner_id, 7);
}

/* Each bad document and the one message it gets. */
static const struct {
	const char *text, *err;
} bad[] = {
	{ "", "s.yaml:1: top level: the file is empty" },
	{ "# nothing\n",
	  "s.yaml:1: top level: no YAML document (empty or comments only)" },
	{ "- a\n", "s.yaml:1: top level: expected a mapping, got a list" },
	{ "name: a\nsize: 1\n---\nname: b\n",
	  "s.yaml:3: syntax error: more than one YAML document" },
	{ "name: [\n", "s.yaml:2: syntax error: did not find expected node "
		       "content (while parsing a flow node)" },
	{ "size: 1\n", "s.yaml:1: name: missing required key" },
	{ "name: a\ncolour: red\n", "s.yaml:2: colour: unknown key 'colour'" },
	{ "name: a\nname: b\n", "s.yaml:2: name: duplicate key 'name'" },
	{ "name: a\nsize: 101\n",
	  "s.yaml:2: size: value '101' out of range 1..100" },
	{ "name: a\nsize: -1\n", "s.yaml:2: size: invalid number '-1'" },
	{ "name: a\nsize:\n", "s.yaml:2: size: missing value" },
	{ "name: a\nsize: [1]\n",
	  "s.yaml:2: size: expected a scalar, got a list" },
	{ "name: \"a\\0b\"\n", "s.yaml:1: name: NUL character in 'a'" },
	{ "name: a\nopen: maybe\n",
	  "s.yaml:2: open: invalid boolean 'maybe' (use true or false)" },
	{ "name: a\nhost: 127.0.0.1\n",
	  "s.yaml:2: host: not a unicast address '127.0.0.1'" },
	{ "name: a\nnet: 2001:db8::1/48\n",
	  "s.yaml:2: net: host bits set in '2001:db8::1/48'" },
	{ "name: a\nnet: 2001:db8::/96\n",
	  "s.yaml:2: net: prefix length out of range in '2001:db8::/96' (1..64)" },
	{ "name: a\npath: srv\n",
	  "s.yaml:2: path: not an absolute path 'srv'" },
	{ "name: a\nifs:\n  - eth0\n  - a/b\n",
	  "s.yaml:4: ifs[1]: invalid interface name 'a/b'" },
	{ "name: a\nowner: {}\n", "s.yaml:2: owner.id: missing required key" },
	{ "name: a\nowner: { id: x }\n",
	  "s.yaml:2: owner.id: invalid number 'x'" },
	{ "name: a\n[1]: b\n",
	  "s.yaml:2: top level: expected a scalar key, got a list" },
	{ "name: [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]\n",
	  "s.yaml:1: syntax error: nested deeper than 16 levels" },
};

static void test_bad(void **state)
{
	struct shelf s;
	char err[MWAN_ERR_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(walk(bad[i].text, &s, err), -1);
		assert_string_equal(err, bad[i].err);
	}
}

static void test_quote(void **state)
{
	char long_s[200];
	struct yw_quoted qv;

	(void)state;
	assert_string_equal(yw_quote(&qv, "a\tb\n"), "a?b?");
	memset(long_s, 'x', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	assert_int_equal(strlen(yw_quote(&qv, long_s)), YW_QUOTE_LEN - 1);
	assert_string_equal(yw_quote(&qv, long_s) + YW_QUOTE_LEN - 4, "...");
}

static void test_parse_uint(void **state)
{
	unsigned long long v;

	(void)state;
	assert_int_equal(yw_parse_uint("0x1F", &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(yw_parse_uint("99999999999999999999999", &v), 0);
	assert_true(v == ULLONG_MAX); /* saturates: the range check says so */
	assert_int_equal(yw_parse_uint("0x", &v), -1);
	assert_int_equal(yw_parse_uint("+1", &v), -1);
	assert_int_equal(yw_parse_uint("1 ", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_parse_uint),
	};

	return cmocka_run_group_tests_name("yamlwalk", tests, NULL, NULL);
}
