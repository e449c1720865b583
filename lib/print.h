/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One output layer that emits text or compact JSON from the same calls. */
#ifndef MWAN_PRINT_H
#define MWAN_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Every value goes through exactly one call, which knows both its JSON key
 * and its text format, so the two outputs cannot drift apart.
 *
 * key: the JSON member name; NULL for an element of a JSON array.
 * fmt: the text form, a printf format with at most one conversion, for
 *      the value (%s for print_str, print_bool, print_tenths and
 *      print_milli, a PRIu64-style one for print_u64; print_null prints
 *      fmt as is);
 *      NULL: JSON only.
 * Text-only decoration (headers, separators, newlines) uses print_text().
 *
 * JSON output is compact and on one line; print_end() terminates it.
 */

void print_start(FILE *out, bool json);
bool print_is_json(void);
/* Ends the document; returns -1 if objects/arrays were left open or
 * writing failed.
 */
int print_end(void);

void print_open_object(const char *key);
void print_close_object(void);
void print_open_array(const char *key);
void print_close_array(void);

void print_str(const char *key, const char *fmt, const char *value);
void print_u64(const char *key, const char *fmt, uint64_t value);
void print_bool(const char *key, const char *fmt, bool value);
void print_null(const char *key, const char *fmt);
/* A decimal with one fractional digit, given in tenths: 123 -> 12.3. */
void print_tenths(const char *key, const char *fmt, uint64_t tenths);
/* The same with three fractional digits, in thousandths: 412 -> 0.412. */
void print_milli(const char *key, const char *fmt, uint64_t milli);

void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* JSON string escaping, exposed for tests: writes s as a quoted JSON
 * string; bytes that are not valid UTF-8 become U+FFFD.
 */
void print_json_string(FILE *out, const char *s);

#endif
