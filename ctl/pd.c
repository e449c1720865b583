/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bpfctl pd and wan-of: delegated prefixes over the loader's control socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "bpfctl.h"
#include "lib/config.h"
#include "lib/control.h"
#include "lib/print.h"
#include "lib/rundir.h"

#define REPLY_TIMEOUT_S 30 /* a reload walks the whole flow table */
#define WORD_MAX 64 /* longer arguments are never valid */

/* An argument as messages show it: non-printable bytes as \xNN. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t off = 0;

	for (; *s && off + 5 < len; s++) {
		unsigned char c = *s;

		if (c >= 0x20 && c < 0x7f)
			buf[off++] = c;
		else
			off += snprintf(buf + off, len - off, "\\x%02x", c);
	}
	buf[off] = '\0';
	return buf;
}

/* One word of the request: printable, no spaces (which would make two). */
static int check_word(const char *what, const char *s)
{
	char buf[4 * WORD_MAX + 8];
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			break;
	if (!*p && p > s && p - s <= WORD_MAX)
		return 0;
	return ctl_error(
		"invalid %s '%s' (no spaces or control characters, at most %d bytes)",
		what, shown(s, buf, sizeof(buf)), WORD_MAX);
}

struct pd_args {
	const char *wan;
	const char *prefix; /* or "clear" */
	const char *valid; /* NULL: not given */
};

static int pd_option(int argc, char **argv, int *i, struct pd_args *a)
{
	const char *arg = argv[*i];

	if (!strncmp(arg, "--valid=", 8)) {
		if (a->valid)
			return ctl_usage_error("pd: --valid given twice");
		a->valid = arg + 8;
		return 0;
	}
	if (strcmp(arg, "--valid"))
		return ctl_usage_error("pd: unknown option '%s'", arg);
	if (a->valid)
		return ctl_usage_error("pd: --valid given twice");
	if (*i + 1 >= argc)
		return ctl_usage_error("pd: --valid needs SECONDS");
	a->valid = argv[++*i];
	return 0;
}

static int pd_parse(int argc, char **argv, struct pd_args *a)
{
	int i, err;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--", 2)) {
			err = pd_option(argc, argv, &i, a);
			if (err)
				return err;
		} else if (!a->wan) {
			a->wan = argv[i];
		} else if (!a->prefix) {
			a->prefix = argv[i];
		} else {
			return ctl_usage_error("unexpected argument '%s'",
					       argv[i]);
		}
	}
	if (!a->wan)
		return ctl_usage_error(
			"pd: expected WAN PREFIX/LEN or WAN clear");
	if (!a->prefix)
		return ctl_usage_error(
			"pd: expected PREFIX/LEN or 'clear' after '%s'",
			a->wan);
	if (!strcmp(a->prefix, "clear") && a->valid)
		return ctl_usage_error("pd: 'clear' takes no --valid");
	return 0;
}

static int pd_request(const struct pd_args *a, char *req, size_t len)
{
	if (check_word("WAN name", a->wan) || check_word("prefix", a->prefix) ||
	    (a->valid && check_word("lifetime", a->valid)))
		return CTL_EXIT_FAIL;
	if (!strcmp(a->prefix, "clear"))
		snprintf(req, len, "pd %s clear", a->wan);
	else
		snprintf(req, len, "pd %s %s %s", a->wan, a->prefix,
			 a->valid ? a->valid : "infinite");
	return 0;
}

/* How long bpfctl waits out a control socket that is busy (every
 * connection in use, or the backlog full) before it gives up; the
 * environment's MWAN_CTL_RETRY_S (0 to 3600) may say otherwise.
 */
#define BUSY_RETRY_S 10
#define BUSY_FIRST_WAIT_MS 20
#define BUSY_MAX_WAIT_MS 1000
#define BUSY_REPLY "error: too many control connections"

/* A connected socket, -1 after an error (reported), or -2 when the
 * loader is busy: its backlog is full (not reported: the caller retries).
 */
static int control_connect(const struct ctl *ctl)
{
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	struct sockaddr_un sa;
	int fd, err;

	if (mwan_run_socket_addr(ctl->run_dir, &sa)) {
		ctl_error("run dir %s is too long for a socket path",
			  ctl->run_dir);
		return -1;
	}
	/* non-blocking for connect(): a full backlog says EAGAIN at once */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ctl_error("socket: %s", strerror(errno));
		return -1;
	}
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fcntl(fd, F_SETFL, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		return fd;
	}
	err = errno;
	close(fd);
	if (err == EAGAIN)
		return -2;
	if (err == ENOENT || err == ECONNREFUSED)
		ctl_error("loader not running (no control socket at %s)",
			  sa.sun_path);
	else
		ctl_error("cannot connect to %s: %s%s", sa.sun_path,
			  strerror(err),
			  err == EACCES || err == EPERM ?
				  " (bpfctl needs root)" :
				  "");
	return -1;
}

/* One request, one reply (NUL-terminated in reply): 0, -1 after an error
 * (reported), -2 when the loader was too busy to take it.
 */
static int control_call_once(const struct ctl *ctl, const char *req,
			     char *reply, size_t len)
{
	int fd = control_connect(ctl), err;
	ssize_t n;

	if (fd < 0)
		return fd;
	/* a loader that refuses may answer and hang up before the request
	 * is sent: its answer is still there to read
	 */
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE &&
	    errno != ECONNRESET) {
		ctl_error("cannot send to the loader: %s", strerror(errno));
		close(fd);
		return -1;
	}
	n = recv(fd, reply, len - 1, 0);
	err = errno;
	close(fd);
	if (n > 0) {
		reply[n] = '\0';
		return strncmp(reply, BUSY_REPLY, strlen(BUSY_REPLY)) ? 0 : -2;
	}
	if (n == 0)
		ctl_error("the loader closed the connection without a reply");
	else if (err == EAGAIN || err == EWOULDBLOCK)
		ctl_error("no reply from the loader within %d s",
			  REPLY_TIMEOUT_S);
	else
		ctl_error("cannot read the loader's reply: %s", strerror(err));
	return -1;
}

static unsigned int retry_s(void)
{
	const char *v = getenv("MWAN_CTL_RETRY_S");
	char *end;
	unsigned long n;

	if (!v || !*v)
		return BUSY_RETRY_S;
	n = strtoul(v, &end, 10);
	return *end || n > 3600 ? BUSY_RETRY_S : (unsigned int)n;
}

/* The request, retried with backoff while the loader is busy (other
 * clients hold every connection), for up to BUSY_RETRY_MS: a DHCP hook's
 * prefix change waits its turn instead of being lost.
 */
static int control_call(const struct ctl *ctl, const char *req, char *reply,
			size_t len)
{
	unsigned int wait_ms = BUSY_FIRST_WAIT_MS, waited = 0;
	unsigned int limit_s = retry_s();
	int rc;

	while ((rc = control_call_once(ctl, req, reply, len)) == -2) {
		if (waited >= limit_s * 1000)
			return ctl_error(
				"the loader's control socket stayed busy (every connection in use) for %u s; gave up: '%s' was not applied",
				limit_s, req);
		if (!waited)
			fprintf(stderr,
				"bpfctl: the loader's control socket is busy; retrying for up to %u s\n",
				limit_s);
		usleep(wait_ms * 1000);
		waited += wait_ms;
		wait_ms = wait_ms * 2 > BUSY_MAX_WAIT_MS ? BUSY_MAX_WAIT_MS :
							   wait_ms * 2;
	}
	return rc;
}

static int print_reply(const char *reply)
{
	char buf[4 * MWAN_CONTROL_REPLY_MAX + 8];

	if (!strncmp(reply, "ok", 2) && (!reply[2] || reply[2] == ' ')) {
		const char *msg = reply[2] ? reply + 3 : "";

		print_open_object(NULL);
		print_bool("ok", NULL, true);
		print_str("message", "%s\n", shown(msg, buf, sizeof(buf)));
		print_close_object();
		return 0;
	}
	if (!strncmp(reply, "error: ", 7))
		return ctl_error("%s", shown(reply + 7, buf, sizeof(buf)));
	return ctl_error("unexpected reply from the loader: '%s'",
			 shown(reply, buf, sizeof(buf)));
}

int cmd_pd(const struct ctl *ctl, int argc, char **argv)
{
	char req[MWAN_CONTROL_MAX + 1], reply[MWAN_CONTROL_REPLY_MAX + 1];
	struct pd_args a;
	int err = pd_parse(argc, argv, &a);

	if (err)
		return err;
	err = pd_request(&a, req, sizeof(req));
	if (err)
		return err;
	if (control_call(ctl, req, reply, sizeof(reply)))
		return CTL_EXIT_FAIL;
	return print_reply(reply);
}

/* The loader reloads its config and answers with the outcome; a refused
 * config's FILE:LINE message comes back as the error.
 */
int cmd_reload(const struct ctl *ctl, int argc, char **argv)
{
	char reply[MWAN_CONTROL_REPLY_MAX + 1];

	(void)argv;
	if (argc > 1)
		return ctl_usage_error("reload takes no arguments");
	if (control_call(ctl, "reload", reply, sizeof(reply)))
		return CTL_EXIT_FAIL;
	return print_reply(reply);
}

int cmd_wan_of(const struct ctl *ctl, int argc, char **argv)
{
	const char *path = ctl->config ? ctl->config : MWAN_DEFAULT_CONFIG;
	static struct mwan_config cfg;
	char err[MWAN_ERR_LEN], buf[4 * IF_NAMESIZE + 8];
	unsigned int w;

	if (argc < 2)
		return ctl_usage_error("wan-of: expected IFNAME");
	if (argc > 2)
		return ctl_usage_error("unexpected argument '%s'", argv[2]);
	if (mwan_config_load(path, &cfg, err, sizeof(err)))
		return ctl_error("%s", err);
	for (w = 0; w < cfg.n_wans; w++)
		if (!strcmp(cfg.wans[w].ifname, argv[1]))
			break;
	if (w == cfg.n_wans) {
		mwan_config_free(&cfg);
		return ctl_error("no WAN uses interface '%s' in %s",
				 shown(argv[1], buf, sizeof(buf)), path);
	}
	print_open_object(NULL);
	print_str("name", "%s\n", cfg.wans[w].name);
	print_str("interface", NULL, cfg.wans[w].ifname);
	if (!cfg.wans[w].has_npt)
		print_null("npt", NULL);
	else
		print_str("npt", NULL,
			  cfg.wans[w].has_npt_prefix ? "static" : "pd");
	print_close_object();
	mwan_config_free(&cfg);
	return 0;
}
