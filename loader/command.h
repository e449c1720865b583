/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The control socket's requests (lib/control.h), each handed to the module that owns it. */
#ifndef MWAN_LOADER_COMMAND_H
#define MWAN_LOADER_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

/* A ctlsock_handler; arg is the struct loader. A reload answers later:
 * command_reload_reply gives the text once it is done.
 */
bool command_handle(void *arg, const char *req, size_t len, char *out,
		    size_t outlen);
void command_reload_reply(const char *msg, int rc, char *out, size_t outlen);

#endif
