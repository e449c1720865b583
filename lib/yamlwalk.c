/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A libyaml document walked through key tables: typed values, FILE:LINE errors. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <yaml.h>

#include "err.h"
#include "yamlwalk.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* mwan.yaml, the deepest schema walked, nests 5 deep
 * (wans.NAME.probe.targets[i]); flow style and anchors leave some room.
 */
#define MWAN_YAML_MAX_DEPTH 16

const char *yw_quote(struct yw_quoted *b, const char *s)
{
	size_t max = sizeof(b->s) - 4;
	size_t i;

	for (i = 0; s[i] && i < max; i++)
		b->s[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i])
		strcpy(b->s + i, "...");
	else
		b->s[i] = '\0';
	return b->s;
}

int yw_fail(struct yw_parser *p, unsigned int line, const char *field,
	    const char *fmt, ...)
{
	char msg[MWAN_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mwan_set_err(p->err, p->errlen, "%s:%u: %s: %s", p->name, line, field,
		     msg);
	return -1;
}

unsigned int yw_node_line(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static yaml_node_t *node(struct yw_parser *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

const char *yw_scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp(yw_scalar(n), nulls[i]))
			return true;
	return false;
}

const char *yw_kind(const yaml_node_t *n)
{
	if (is_null(n))
		return "an empty value";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* Scalar errors point at the value; anything else at the key. */
unsigned int yw_val_line(const struct yw_item *it)
{
	if (it->val->type == YAML_SCALAR_NODE && !is_null(it->val))
		return yw_node_line(it->val);
	return it->line;
}

const char *yw_str(const struct yw_item *it)
{
	return yw_scalar(it->val);
}

static void join(char *out, const char *parent, const char *key)
{
	struct yw_quoted qk;

	snprintf(out, YW_FIELD_LEN, "%.*s%s%s", YW_FIELD_LEN - YW_QUOTE_LEN - 2,
		 parent, *parent ? "." : "", yw_quote(&qk, key));
}

int yw_expect(struct yw_parser *p, const struct yw_item *it,
	      yaml_node_type_t type)
{
	static const char *const want[] = {
		[YAML_SCALAR_NODE] = "a scalar",
		[YAML_SEQUENCE_NODE] = "a list",
		[YAML_MAPPING_NODE] = "a mapping",
	};

	if (it->val->type == type && !is_null(it->val))
		return 0;
	if (is_null(it->val) && type == YAML_SCALAR_NODE)
		return yw_fail(p, it->line, it->field, "missing value");
	return yw_fail(p, it->line, it->field, "expected %s, got %s",
		       want[type], yw_kind(it->val));
}

/* libyaml keeps "\0" escapes; C strings would silently cut them. */
int yw_get_str(struct yw_parser *p, const struct yw_item *it)
{
	struct yw_quoted qv;

	if (yw_expect(p, it, YAML_SCALAR_NODE))
		return -1;
	if (strlen(yw_str(it)) != it->val->data.scalar.length)
		return yw_fail(p, yw_val_line(it), it->field,
			       "NUL character in '%s'",
			       yw_quote(&qv, yw_str(it)));
	return 0;
}

/* Decimal, or hex with 0x; no sign, no spaces. Overflow saturates so the
 * range check reports it.
 */
int yw_parse_uint(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int base = 10;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			return -1;
		if (v > (ULLONG_MAX - d) / base)
			v = ULLONG_MAX;
		else
			v = v * base + d;
	}
	*out = v;
	return 0;
}

int yw_get_uint(struct yw_parser *p, const struct yw_item *it, unsigned int min,
		unsigned int max, unsigned int *out)
{
	unsigned long long v;
	struct yw_quoted qv;

	if (yw_get_str(p, it))
		return -1;
	if (yw_parse_uint(yw_str(it), &v))
		return yw_fail(p, yw_val_line(it), it->field,
			       "invalid number '%s'",
			       yw_quote(&qv, yw_str(it)));
	if (v < min || v > max)
		return yw_fail(p, yw_val_line(it), it->field,
			       "value '%s' out of range %u..%u",
			       yw_quote(&qv, yw_str(it)), min, max);
	*out = v;
	return 0;
}

int yw_get_bool(struct yw_parser *p, const struct yw_item *it, bool *out)
{
	/* YAML 1.1 spellings too: "fast_path: no" must not be a string */
	static const char *const words[] = { "false", "true", "no",
					     "yes",   "off",  "on" };
	struct yw_quoted qv;
	size_t i;

	if (yw_get_str(p, it))
		return -1;
	for (i = 0; i < ARRAY_SIZE(words); i++) {
		if (!strcasecmp(yw_str(it), words[i])) {
			*out = i % 2;
			return 0;
		}
	}
	return yw_fail(p, yw_val_line(it), it->field,
		       "invalid boolean '%s' (use true or false)",
		       yw_quote(&qv, yw_str(it)));
}

bool yw_ipv4_unicast(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return h >> 24 != 0 && h >> 24 != 127 && h < 0xe0000000U;
}

int yw_get_ipv4(struct yw_parser *p, const struct yw_item *it,
		struct in_addr *out)
{
	struct yw_quoted qv;

	if (yw_get_str(p, it))
		return -1;
	if (inet_pton(AF_INET, yw_str(it), out) != 1)
		return yw_fail(p, yw_val_line(it), it->field,
			       "invalid IPv4 address '%s'",
			       yw_quote(&qv, yw_str(it)));
	if (!yw_ipv4_unicast(*out))
		return yw_fail(p, yw_val_line(it), it->field,
			       "not a unicast address '%s'",
			       yw_quote(&qv, yw_str(it)));
	return 0;
}

int yw_get_ipv6(struct yw_parser *p, const struct yw_item *it,
		struct in6_addr *out)
{
	struct yw_quoted qv;

	if (yw_get_str(p, it))
		return -1;
	if (inet_pton(AF_INET6, yw_str(it), out) != 1)
		return yw_fail(p, yw_val_line(it), it->field,
			       "invalid IPv6 address '%s'",
			       yw_quote(&qv, yw_str(it)));
	if (IN6_IS_ADDR_UNSPECIFIED(out) || IN6_IS_ADDR_MULTICAST(out))
		return yw_fail(p, yw_val_line(it), it->field,
			       "not a unicast address '%s'",
			       yw_quote(&qv, yw_str(it)));
	return 0;
}

static bool host_bits_set(const unsigned char *a, size_t len, unsigned int plen)
{
	size_t i;

	for (i = plen / 8; i < len; i++) {
		unsigned char keep = i == plen / 8 ? 0xff << (8 - plen % 8) : 0;

		if (a[i] & ~keep)
			return true;
	}
	return false;
}

static int parse_cidr(const char *s, int af, void *addr, unsigned int *plen)
{
	unsigned int max = af == AF_INET ? 32 : 128;
	const char *slash = strchr(s, '/');
	char buf[INET6_ADDRSTRLEN];
	unsigned long long v;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	if (inet_pton(af, buf, addr) != 1)
		return -1;
	if (!isdigit((unsigned char)slash[1]) || strlen(slash + 1) > 3 ||
	    yw_parse_uint(slash + 1, &v) || v > max)
		return -1;
	*plen = v;
	return 0;
}

/* A network as "ADDR/LEN" whose host bits are clear: a set bit is almost
 * always a router address pasted where the network was meant.
 */
int yw_get_cidr(struct yw_parser *p, const struct yw_item *it, int af,
		unsigned int maxlen, void *addr, unsigned int *plen)
{
	const char *what = af == AF_INET ? "IPv4" : "IPv6";
	size_t len = af == AF_INET ? 4 : 16;
	struct yw_quoted qv;

	if (yw_get_str(p, it))
		return -1;
	if (parse_cidr(yw_str(it), af, addr, plen))
		return yw_fail(p, yw_val_line(it), it->field,
			       "invalid %s CIDR '%s'", what,
			       yw_quote(&qv, yw_str(it)));
	if (*plen < 1 || *plen > maxlen)
		return yw_fail(p, yw_val_line(it), it->field,
			       "prefix length out of range in '%s' (1..%u)",
			       yw_quote(&qv, yw_str(it)), maxlen);
	if (host_bits_set(addr, len, *plen))
		return yw_fail(p, yw_val_line(it), it->field,
			       "host bits set in '%s'",
			       yw_quote(&qv, yw_str(it)));
	return 0;
}

/* What the kernel's dev_valid_name() accepts. */
static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || !isgraph((unsigned char)*s))
			return false;
	return true;
}

int yw_get_ifname(struct yw_parser *p, const struct yw_item *it, char *out)
{
	struct yw_quoted qv;

	if (yw_get_str(p, it))
		return -1;
	if (!valid_ifname(yw_str(it)))
		return yw_fail(p, yw_val_line(it), it->field,
			       "invalid interface name '%s'",
			       yw_quote(&qv, yw_str(it)));
	strcpy(out, yw_str(it));
	return 0;
}

int yw_get_path_max(struct yw_parser *p, const struct yw_item *it, char *out,
		    size_t size)
{
	struct yw_quoted qv;

	if (yw_get_str(p, it))
		return -1;
	if (yw_str(it)[0] != '/')
		return yw_fail(p, yw_val_line(it), it->field,
			       "not an absolute path '%s'",
			       yw_quote(&qv, yw_str(it)));
	if (strlen(yw_str(it)) >= size)
		return yw_fail(p, yw_val_line(it), it->field,
			       "path too long '%s'", yw_quote(&qv, yw_str(it)));
	strcpy(out, yw_str(it));
	return 0;
}

int yw_get_path(struct yw_parser *p, const struct yw_item *it, char *out)
{
	return yw_get_path_max(p, it, out, PATH_MAX);
}

static int make_item(struct yw_parser *p, const struct yw_item *map,
		     const yaml_node_pair_t *pair, struct yw_item *it)
{
	struct yw_quoted qk;

	it->key = node(p, pair->key);
	it->val = node(p, pair->value);
	it->line = yw_node_line(it->key);
	if (it->key->type != YAML_SCALAR_NODE || is_null(it->key))
		return yw_fail(p, it->line,
			       map->field[0] ? map->field : "top level",
			       "expected a scalar key, got %s",
			       yw_kind(it->key));
	join(it->field, map->field, yw_scalar(it->key));
	if (strlen(yw_scalar(it->key)) != it->key->data.scalar.length)
		return yw_fail(p, it->line, it->field,
			       "NUL character in key '%s'",
			       yw_quote(&qk, yw_scalar(it->key)));
	return 0;
}

static bool same_key(const yaml_node_t *a, const yaml_node_t *b)
{
	return !strcmp(yw_scalar(a), yw_scalar(b));
}

/* YAML leaves duplicate keys to the application; a second "att:" would
 * otherwise silently replace the first.
 */
int yw_for_each_pair(struct yw_parser *p, const struct yw_item *map,
		     yw_item_fn fn, void *obj)
{
	yaml_node_pair_t *first, *pair, *prev;
	struct yw_quoted qk;
	struct yw_item it;

	if (yw_expect(p, map, YAML_MAPPING_NODE))
		return -1;
	first = map->val->data.mapping.pairs.start;
	for (pair = first; pair < map->val->data.mapping.pairs.top; pair++) {
		if (make_item(p, map, pair, &it))
			return -1;
		for (prev = first; prev < pair; prev++)
			if (same_key(node(p, prev->key), it.key))
				return yw_fail(p, it.line, it.field,
					       "duplicate key '%s'",
					       yw_quote(&qk,
							yw_scalar(it.key)));
		if (fn(p, &it, obj))
			return -1;
	}
	return 0;
}

struct keyed {
	const struct yw_key *spec;
	size_t n;
	struct yw_item *found;
};

static int collect_key(struct yw_parser *p, const struct yw_item *it, void *obj)
{
	struct keyed *k = obj;
	struct yw_quoted qk;
	size_t i;

	for (i = 0; i < k->n; i++) {
		if (!strcmp(k->spec[i].key, yw_scalar(it->key))) {
			k->found[i] = *it;
			return 0;
		}
	}
	return yw_fail(p, it->line, it->field, "unknown key '%s'",
		       yw_quote(&qk, yw_scalar(it->key)));
}

/* A mapping with a fixed set of keys: reject unknown ones first, then
 * hand each present key to its handler in table order. Call it through
 * YW_PARSE_KEYS(), which checks the table fits found[].
 */
int yw_parse_keys(struct yw_parser *p, const struct yw_item *map,
		  const struct yw_key *spec, size_t n, void *obj)
{
	struct yw_item found[YW_MAX_KEYS] = {};
	struct keyed k = { spec, n, found };
	char field[YW_FIELD_LEN];
	size_t i;

	if (yw_for_each_pair(p, map, collect_key, &k))
		return -1;
	for (i = 0; i < n; i++) {
		if (found[i].key) {
			if (spec[i].fn(p, &found[i], obj))
				return -1;
		} else if (spec[i].required) {
			join(field, map->field, spec[i].key);
			return yw_fail(p, map->line, field,
				       "missing required key");
		}
	}
	return 0;
}

void yw_list_item(struct yw_parser *p, const struct yw_item *list, int id,
		  size_t i, struct yw_item *it)
{
	it->key = NULL;
	it->val = node(p, id);
	it->line = yw_node_line(it->val);
	snprintf(it->field, sizeof(it->field), "%.*s[%zu]",
		 (int)sizeof(it->field) - 24, list->field, i);
}

size_t yw_list_len(const struct yw_item *list)
{
	return list->val->data.sequence.items.top -
	       list->val->data.sequence.items.start;
}

static int yaml_fail(struct yw_parser *p, const yaml_parser_t *yp)
{
	const char *problem = yp->problem ? yp->problem : "out of memory";

	return yw_fail(p, yp->problem_mark.line + 1, "syntax error", "%s%s%s%s",
		       problem, yp->context ? " (" : "",
		       yp->context ? yp->context : "", yp->context ? ")" : "");
}

/* Refuses nesting deeper than the schema could use before the document
 * is built: libyaml's scanner takes time quadratic in the depth (a 200 kB
 * file of brackets kept it busy for a minute), and this pass stops at the
 * first level too many. Syntax errors are left to the real load.
 */
static int check_depth(struct yw_parser *p, const char *buf, size_t len)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	unsigned int depth = 0;
	int ret = 0;
	bool done = false;

	if (!yaml_parser_initialize(&yp))
		return 0; /* the load reports it */
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	while (!done && !ret && yaml_parser_parse(&yp, &ev)) {
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MWAN_YAML_MAX_DEPTH)
				ret = yw_fail(p, ev.start_mark.line + 1,
					      "syntax error",
					      "nested deeper than %d levels",
					      MWAN_YAML_MAX_DEPTH);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	return ret;
}

/* Loads the only document; a second one would be ignored by the walk,
 * which is worse than refusing it.
 */
static int load_document(struct yw_parser *p, yaml_parser_t *yp,
			 yaml_document_t *doc)
{
	yaml_document_t extra;
	yaml_node_t *root;
	int ret = 0;

	if (!yaml_parser_load(yp, doc))
		return yaml_fail(p, yp);
	if (!yaml_document_get_root_node(doc)) {
		mwan_set_err(
			p->err, p->errlen,
			"%s:1: top level: no YAML document (empty or comments only)",
			p->name);
		ret = -1;
	} else if (!yaml_parser_load(yp, &extra)) {
		ret = yaml_fail(p, yp);
	} else {
		root = yaml_document_get_root_node(&extra);
		if (root)
			ret = yw_fail(p, extra.start_mark.line + 1,
				      "syntax error",
				      "more than one YAML document");
		yaml_document_delete(&extra);
	}
	if (ret)
		yaml_document_delete(doc);
	return ret;
}

int yw_parse(struct yw_parser *p, const char *buf, size_t len,
	     int (*fn)(struct yw_parser *p, yaml_node_t *root))
{
	yaml_parser_t yp;
	yaml_document_t doc;
	int ret;

	if (!len) {
		mwan_set_err(p->err, p->errlen,
			     "%s:1: top level: the file is empty", p->name);
		return -1;
	}
	if (!yaml_parser_initialize(&yp)) {
		mwan_set_err(p->err, p->errlen, "%s: cannot read: %s", p->name,
			     strerror(ENOMEM));
		return -1;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	ret = check_depth(p, buf, len);
	if (!ret)
		ret = load_document(p, &yp, &doc);
	if (!ret) {
		p->doc = &doc;
		ret = fn(p, yaml_document_get_root_node(&doc));
		p->doc = NULL; /* freed next; the caller keeps p */
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&yp);
	return ret;
}
