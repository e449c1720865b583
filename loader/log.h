/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loader log lines: plain for a terminal, syslog-prefixed under journald. */
#ifndef MWAN_LOG_H
#define MWAN_LOG_H

#include <syslog.h>

void log_init(void);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* libbpf/libxdp print callbacks route through here at debug level unless
 * verbose, so their warnings do not drown the loader's own lines.
 */
void log_set_verbose(int v);
int log_verbose(void);

#endif
