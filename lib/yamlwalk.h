/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A libyaml document walked through key tables: typed values, FILE:LINE errors. */
#ifndef MWAN_YAMLWALK_H
#define MWAN_YAMLWALK_H

/* Generic: it knows YAML and address syntax, never a schema; the caller's
 * handlers fill their own struct through yw_parser.data. Named yamlwalk,
 * not yaml, so "yaml.h" never shadows libyaml's <yaml.h>.
 */
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <yaml.h>

#define YW_FIELD_LEN 160
#define YW_QUOTE_LEN 72
#define YW_MAX_KEYS 12

struct yw_parser {
	const char *name; /* the file, as messages call it */
	unsigned int root_line; /* where the top-level mapping starts */
	yaml_document_t *doc;
	void *data; /* the caller's, for its handlers */
	char *err;
	size_t errlen;
};

/* One value with the dotted path and line it is reported under: a
 * mapping's key and value, or a list element (then key is NULL).
 */
struct yw_item {
	char field[YW_FIELD_LEN];
	yaml_node_t *key;
	yaml_node_t *val;
	unsigned int line;
};

typedef int (*yw_item_fn)(struct yw_parser *p, const struct yw_item *it,
			  void *obj);

/* Handlers run in table order, not file order, so a handler can rely on
 * the keys listed before it (lan before wans, window before up_after).
 */
struct yw_key {
	const char *key;
	yw_item_fn fn;
	bool required;
};

/* A value echoed in a message: one line, bounded. */
struct yw_quoted {
	char s[YW_QUOTE_LEN];
};

/* Loads buf as exactly one YAML document (depth-limited, see
 * yamlwalk.c) and hands its root node to fn; p->name, p->data, p->err
 * and p->errlen are the caller's. 0, or -1 with "NAME:LINE: ..." in err.
 */
int yw_parse(struct yw_parser *p, const char *buf, size_t len,
	     int (*fn)(struct yw_parser *p, yaml_node_t *root));

/* Writes "NAME:LINE: FIELD: message" into p->err; returns -1. */
int yw_fail(struct yw_parser *p, unsigned int line, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* s as printable characters, cut with "..." to fit b. */
const char *yw_quote(struct yw_quoted *b, const char *s);

unsigned int yw_node_line(const yaml_node_t *n);
const char *yw_scalar(const yaml_node_t *n);
/* "a scalar", "a list", "a mapping", "an empty value": for messages. */
const char *yw_kind(const yaml_node_t *n);
/* The line an error about the item's value names. */
unsigned int yw_val_line(const struct yw_item *it);
const char *yw_str(const struct yw_item *it);

/* 0 when the item's value is a non-empty node of type, else yw_fail(). */
int yw_expect(struct yw_parser *p, const struct yw_item *it,
	      yaml_node_type_t type);

/* Typed values: 0 and *out set, or -1 after yw_fail() naming the value. */
int yw_get_str(struct yw_parser *p, const struct yw_item *it);
int yw_get_uint(struct yw_parser *p, const struct yw_item *it, unsigned int min,
		unsigned int max, unsigned int *out);
int yw_get_bool(struct yw_parser *p, const struct yw_item *it, bool *out);
/* A unicast address (yw_ipv4_unicast; IPv6: neither :: nor multicast). */
int yw_get_ipv4(struct yw_parser *p, const struct yw_item *it,
		struct in_addr *out);
int yw_get_ipv6(struct yw_parser *p, const struct yw_item *it,
		struct in6_addr *out);
/* "ADDR/LEN" of family af, LEN in 1..maxlen, no host bits set. */
int yw_get_cidr(struct yw_parser *p, const struct yw_item *it, int af,
		unsigned int maxlen, void *addr, unsigned int *plen);
/* out has IF_NAMESIZE bytes. */
int yw_get_ifname(struct yw_parser *p, const struct yw_item *it, char *out);
/* An absolute path; out has PATH_MAX bytes. */
int yw_get_path(struct yw_parser *p, const struct yw_item *it, char *out);
/* The same for a field of `size` bytes (with its NUL). */
int yw_get_path_max(struct yw_parser *p, const struct yw_item *it, char *out,
		    size_t size);

/* Decimal or 0x hex, no sign; 0, or -1 when s is not a number. */
int yw_parse_uint(const char *s, unsigned long long *out);

/* Neither 0/8, loopback (127/8) nor 224/3 (multicast, reserved, broadcast). */
bool yw_ipv4_unicast(struct in_addr a);

/* Calls fn on each pair of the mapping map, refusing duplicate keys. */
int yw_for_each_pair(struct yw_parser *p, const struct yw_item *map,
		     yw_item_fn fn, void *obj);

/* A mapping of the keys in spec: unknown keys refused first, then each
 * present key's handler called in table order, a missing required one
 * refused. Called through YW_PARSE_KEYS().
 */
int yw_parse_keys(struct yw_parser *p, const struct yw_item *map,
		  const struct yw_key *spec, size_t n, void *obj);

#define YW_NKEYS(spec) (sizeof(spec) / sizeof((spec)[0]))

/* yw_parse_keys() with the table's size, checked against YW_MAX_KEYS. */
#define YW_PARSE_KEYS(p, map, spec, obj)                                      \
	({                                                                    \
		_Static_assert(YW_NKEYS(spec) <= YW_MAX_KEYS, "YW_MAX_KEYS"); \
		yw_parse_keys(p, map, spec, YW_NKEYS(spec), obj);             \
	})

/* Element i (node id) of the list: field "LIST[i]", its own line. */
void yw_list_item(struct yw_parser *p, const struct yw_item *list, int id,
		  size_t i, struct yw_item *it);
size_t yw_list_len(const struct yw_item *list);

#endif
