/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Text-or-JSON printing (see print.h), in the spirit of iproute2's print_*. */
#include <inttypes.h>
#include <stdarg.h>

#include "print.h"

#define PRINT_MAX_DEPTH 16

static struct {
	FILE *out;
	bool json;
	unsigned int depth;
	bool bad_nesting;
	/* per nesting level: a member was already written, so the next one
	 * needs a comma
	 */
	bool need_comma[PRINT_MAX_DEPTH + 1];
} pr;

static FILE *out(void)
{
	return pr.out ? pr.out : stdout;
}

void print_start(FILE *f, bool json)
{
	pr.out = f;
	pr.json = json;
	pr.depth = 0;
	pr.bad_nesting = false;
	pr.need_comma[0] = false;
}

bool print_is_json(void)
{
	return pr.json;
}

int print_end(void)
{
	bool ok = pr.depth == 0 && !pr.bad_nesting;

	/* a command that failed before printing leaves stdout empty */
	if (pr.json && pr.need_comma[0])
		fputc('\n', out());
	if (fflush(out()) || ferror(out()))
		ok = false;
	return ok ? 0 : -1;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one
 * (overlong forms and surrogates included), so names copied out of maps
 * can never produce invalid JSON.
 */
static int utf8_seq_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : lo;
		hi = s[0] == 0xed ? 0x9f : hi;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : lo;
		hi = s[0] == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void json_escape_ascii(FILE *f, unsigned char c)
{
	switch (c) {
	case '"':
		fputs("\\\"", f);
		break;
	case '\\':
		fputs("\\\\", f);
		break;
	case '\b':
		fputs("\\b", f);
		break;
	case '\f':
		fputs("\\f", f);
		break;
	case '\n':
		fputs("\\n", f);
		break;
	case '\r':
		fputs("\\r", f);
		break;
	case '\t':
		fputs("\\t", f);
		break;
	default:
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void print_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	fputc('"', f);
	while (*s) {
		n = utf8_seq_len(s);
		if (n == 0) {
			fputs("\\ufffd", f);
			s++;
		} else if (n == 1) {
			json_escape_ascii(f, *s++);
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	fputc('"', f);
}

/* Separator and member name before a JSON value. */
static void json_member(const char *key)
{
	if (pr.need_comma[pr.depth])
		fputc(',', out());
	pr.need_comma[pr.depth] = true;
	if (key && pr.depth > 0) {
		print_json_string(out(), key);
		fputc(':', out());
	}
}

static void json_open(const char *key, char c)
{
	if (!pr.json)
		return;
	json_member(key);
	fputc(c, out());
	if (pr.depth == PRINT_MAX_DEPTH) {
		pr.bad_nesting = true;
		return;
	}
	pr.depth++;
	pr.need_comma[pr.depth] = false;
}

static void json_close(char c)
{
	if (!pr.json)
		return;
	if (pr.depth == 0)
		pr.bad_nesting = true;
	else
		pr.depth--;
	fputc(c, out());
}

void print_open_object(const char *key)
{
	json_open(key, '{');
}

void print_close_object(void)
{
	json_close('}');
}

void print_open_array(const char *key)
{
	json_open(key, '[');
}

void print_close_array(void)
{
	json_close(']');
}

void print_str(const char *key, const char *fmt, const char *value)
{
	if (pr.json) {
		json_member(key);
		print_json_string(out(), value);
	} else if (fmt) {
		fprintf(out(), fmt, value);
	}
}

void print_u64(const char *key, const char *fmt, uint64_t value)
{
	if (pr.json) {
		json_member(key);
		fprintf(out(), "%" PRIu64, value);
	} else if (fmt) {
		fprintf(out(), fmt, value);
	}
}

void print_bool(const char *key, const char *fmt, bool value)
{
	const char *s = value ? "true" : "false";

	if (pr.json) {
		json_member(key);
		fputs(s, out());
	} else if (fmt) {
		fprintf(out(), fmt, s);
	}
}

void print_null(const char *key, const char *fmt)
{
	if (pr.json) {
		json_member(key);
		fputs("null", out());
	} else if (fmt) {
		fputs(fmt, out());
	}
}

void print_tenths(const char *key, const char *fmt, uint64_t tenths)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 ".%u", tenths / 10,
		 (unsigned int)(tenths % 10));
	if (pr.json) {
		json_member(key);
		fputs(buf, out());
	} else if (fmt) {
		fprintf(out(), fmt, buf);
	}
}

void print_milli(const char *key, const char *fmt, uint64_t milli)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 ".%03u", milli / 1000,
		 (unsigned int)(milli % 1000));
	if (pr.json) {
		json_member(key);
		fputs(buf, out());
	} else if (fmt) {
		fprintf(out(), fmt, buf);
	}
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (pr.json)
		return;
	va_start(ap, fmt);
	vfprintf(out(), fmt, ap);
	va_end(ap);
}
