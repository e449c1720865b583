/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* WAN health probes: each WAN probed through itself, verdicts to the maps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "nlcache.h"
#include "routing.h"
/* after net/if.h (loader.h), which linux/if.h then leaves alone */
#include <linux/icmp.h>
#include "log.h"
#include "mapio.h"
#include "echo.h"
#include "probe.h"
#include "wanstate.h"
#include "../lib/maptable.h"
#include "../lib/steer.h"
#include "../lib/clock.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_US 1000ULL
/* Rounds in flight per WAN: a round stays open until its deadline, which
 * may be several intervals with a slow path. A power of two, so that a
 * reply's 16-bit sequence number gives its slot.
 */
#define PROBE_ROUNDS 32
/* mwan_health is rewritten at least this often: bpfctl takes an older
 * updated_ns for a loader that no longer runs.
 */
#define HEARTBEAT_MS 1000
#define EVENTS_MAX 64
#define READS_MAX 64 /* replies read per socket and wake-up */

_Static_assert(MWAN_MAX_PROBE_TARGETS <= MWAN_HEALTH_TARGETS,
	       "every configured target needs a mwan_health slot");
_Static_assert(65536 % PROBE_ROUNDS == 0, "seq % PROBE_ROUNDS must wrap");

enum { FAM4 = 0, FAM6 = 1 };
enum { EV_RAW = 1, EV_TCP = 2 };

/* One target's probe within one round. */
struct probe_slot {
	__u64 sent_ns;
	__u64 sent_real_ns; /* the clock of kernel receive timestamps */
	__u32 rtt_us;
	int fd; /* TCP connect in flight; -1: none */
	bool done; /* answered, or known to be lost */
	bool answered;
};

struct probe_round {
	__u64 deadline_ns;
	__u16 seq;
	bool open;
	struct probe_slot t[MWAN_HEALTH_TARGETS];
};

struct probe_target {
	struct mwan_cfg_probe_target c;
	int err; /* -errno last logged for it; 0: none */
	bool answered_last;
};

struct probe_wan {
	unsigned int id;
	char name[MWAN_NAME_LEN];
	char ifname[IF_NAMESIZE];
	__u32 mark;
	struct mwan_health_params p;
	struct mwan_wan_health h;
	unsigned int n_targets;
	struct probe_target tg[MWAN_HEALTH_TARGETS];
	bool need[2]; /* ICMP targets of that family */
	/* what the sockets are bound to */
	bool link_up;
	char link_why[64];
	int ifindex;
	__be32 addr4;
	bool has6;
	struct in6_addr addr6;
	int fd[2]; /* raw ICMP, ICMPv6; -1: closed */
	int sock_err[2]; /* -errno last logged opening it */
	/* rounds: the open ones are the newest, ending at seq - 1 */
	__u16 ident;
	__u16 seq;
	unsigned int open_rounds;
	__u64 next_send_ns;
	struct probe_round r[PROBE_ROUNDS];
	/* mwan_health.since_realtime_s, computed once per change */
	__u64 since_ms_seen;
	__u64 since_real_s;
};

struct probe_state {
	int epfd;
	__u64 next_heartbeat_ns;
	unsigned int n_wans;
	struct probe_wan wan[MWAN_MAX_WANS];
};

static __u64 real_s(void)
{
	return mwan_real_ns() / 1000000000ULL;
}

static const char *fam_name(int fam)
{
	return fam == FAM6 ? "IPv6" : "IPv4";
}

static int fam_of(const struct mwan_cfg_probe_target *c)
{
	return c->family == AF_INET6 ? FAM6 : FAM4;
}

/* epoll_event.data: what a descriptor is, and the descriptor itself to
 * recognise an event that outlived its socket.
 */
static __u64 ev_key(unsigned int kind, unsigned int wan, unsigned int aux,
		    unsigned int tgt, int fd)
{
	return (__u64)(__u32)fd | (__u64)kind << 32 | (__u64)wan << 36 |
	       (__u64)aux << 40 | (__u64)tgt << 48;
}

/* ---- sockets ---- */

union sa_any {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr_storage ss;
};

static socklen_t sa_fill(union sa_any *sa, int family, const void *addr,
			 unsigned int port)
{
	memset(sa, 0, sizeof(*sa));
	if (family == AF_INET6) {
		sa->v6.sin6_family = AF_INET6;
		memcpy(&sa->v6.sin6_addr, addr, 16);
		sa->v6.sin6_port = htons(port);
		return sizeof(sa->v6);
	}
	sa->v4.sin_family = AF_INET;
	memcpy(&sa->v4.sin_addr, addr, 4);
	sa->v4.sin_port = htons(port);
	return sizeof(sa->v4);
}

static socklen_t target_sa(const struct mwan_cfg_probe_target *c,
			   union sa_any *sa)
{
	if (c->family == AF_INET6)
		return sa_fill(sa, AF_INET6, &c->addr6, c->port);
	return sa_fill(sa, AF_INET, &c->addr4, c->port);
}

/* Out through the WAN's own interface, from its own address, by its own
 * routing table (the fwmark rule), whatever the main table says; and only
 * what arrives on that interface for that address comes back in.
 */
static int sock_pin(int fd, const struct probe_wan *pw, int fam)
{
	union sa_any sa;
	socklen_t len;

	if (fam == FAM4 && !pw->addr4)
		return -EADDRNOTAVAIL;
	if (fam == FAM6 && !pw->has6)
		return -EADDRNOTAVAIL;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, pw->ifname,
		       strlen(pw->ifname) + 1) ||
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &pw->mark, sizeof(pw->mark)))
		return -errno;
	if (fam == FAM6)
		len = sa_fill(&sa, AF_INET6, &pw->addr6, 0);
	else
		len = sa_fill(&sa, AF_INET, &pw->addr4, 0);
	return bind(fd, &sa.sa, len) ? -errno : 0;
}

/* Raw sockets see every ICMP message the host receives: let only echo
 * replies through.
 */
static int raw_filter(int fd, int fam)
{
	struct icmp_filter f4 = { .data = ~(1U << ICMP_ECHOREPLY) };
	struct icmp6_filter f6;

	if (fam == FAM4)
		return setsockopt(fd, SOL_RAW, ICMP_FILTER, &f4, sizeof(f4)) ?
			       -errno :
			       0;
	ICMP6_FILTER_SETBLOCKALL(&f6);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f6);
	return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)) ?
		       -errno :
		       0;
}

static int raw_open(struct probe_state *ps, struct probe_wan *pw, int fam)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, err;

	fd = socket(fam == FAM6 ? AF_INET6 : AF_INET,
		    SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    fam == FAM6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	err = raw_filter(fd, fam);
	if (!err)
		err = sock_pin(fd, pw, fam);
	/* RTTs from the kernel's receive time, not from when the loop got
	 * round to reading (without it, from the latter)
	 */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	ev.data.u64 = ev_key(EV_RAW, pw->id, fam, 0, fd);
	if (!err && epoll_ctl(ps->epfd, EPOLL_CTL_ADD, fd, &ev))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	pw->fd[fam] = fd;
	return 0;
}

static void sock_err_log(const struct probe_wan *pw, int fam, int err)
{
	if (err == -EADDRNOTAVAIL)
		log_warn(
			"wan %s: %s has no usable %s%s address; its %s targets count as lost",
			pw->name, pw->ifname, fam == FAM6 ? "global " : "",
			fam_name(fam), fam_name(fam));
	else
		log_warn(
			"wan %s: cannot open its %s probe socket on %s: %s; its %s targets count as lost",
			pw->name, fam_name(fam), pw->ifname, strerror(-err),
			fam_name(fam));
}

/* Opens what is missing; a failure is logged once, until it changes. */
static void wan_sockets_open(struct probe_state *ps, struct probe_wan *pw)
{
	int fam, err;

	if (!pw->link_up)
		return;
	for (fam = FAM4; fam <= FAM6; fam++) {
		if (!pw->need[fam] || pw->fd[fam] >= 0)
			continue;
		err = raw_open(ps, pw, fam);
		if (err && err != pw->sock_err[fam])
			sock_err_log(pw, fam, err);
		else if (!err && pw->sock_err[fam])
			log_info("wan %s: %s probe socket open on %s", pw->name,
				 fam_name(fam), pw->ifname);
		pw->sock_err[fam] = err;
	}
}

static void raw_close(struct probe_wan *pw, int fam)
{
	/* closing also removes it from the epoll set */
	if (pw->fd[fam] >= 0)
		close(pw->fd[fam]);
	pw->fd[fam] = -1;
}

static void wan_sockets_close(struct probe_wan *pw)
{
	raw_close(pw, FAM4);
	raw_close(pw, FAM6);
}

/* ---- one probe ---- */

/* A target that cannot be sent to (no route, unreachable, no address)
 * counts as lost every round; saying so every round would drown the log.
 */
static void target_error(struct probe_wan *pw, unsigned int ti, int err)
{
	struct probe_target *t = &pw->tg[ti];

	if (!err || t->err == err)
		return;
	t->err = err;
	log_warn("wan %s: probe %s: %s; it counts as lost (logged once)",
		 pw->name, t->c.text, strerror(-err));
}

static void slot_lost(struct probe_wan *pw, unsigned int ti,
		      struct probe_slot *s, int err)
{
	s->done = true;
	target_error(pw, ti, err);
}

/* rx_real_ns: the kernel's receive timestamp, 0 if there is none. */
static void slot_answered(struct probe_wan *pw, unsigned int ti,
			  struct probe_slot *s, __u64 now, __u64 rx_real_ns)
{
	__u64 us = (now - s->sent_ns) / NS_PER_US;

	/* a wall clock step in between makes it useless */
	if (rx_real_ns >= s->sent_real_ns &&
	    rx_real_ns - s->sent_real_ns <= now - s->sent_ns)
		us = (rx_real_ns - s->sent_real_ns) / NS_PER_US;
	s->done = s->answered = true;
	s->rtt_us = us < UINT32_MAX ? (__u32)us : UINT32_MAX - 1;
	if (pw->tg[ti].err) {
		log_info("wan %s: probe %s answers again", pw->name,
			 pw->tg[ti].c.text);
		pw->tg[ti].err = 0;
	}
}

static void slot_close(struct probe_slot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Non-blocking connect; 1: answered at once, 0: in flight, -errno. */
static int tcp_start(struct probe_state *ps, struct probe_wan *pw,
		     unsigned int ri, unsigned int ti, struct probe_slot *s)
{
	const struct mwan_cfg_probe_target *c = &pw->tg[ti].c;
	/* close() then sends a RST: no TIME_WAIT piles up, 4 probes a second */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct epoll_event ev = { .events = EPOLLOUT };
	union sa_any sa;
	socklen_t len = target_sa(c, &sa);
	int fd, err;

	fd = socket(c->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ? -errno :
								       0;
	if (!err)
		err = sock_pin(fd, pw, fam_of(c));
	if (!err && connect(fd, &sa.sa, len))
		err = -errno;
	/* refused: a RST came back, so the path works */
	if (!err || err == -ECONNREFUSED) {
		close(fd);
		return 1;
	}
	if (err == -EINPROGRESS) {
		ev.data.u64 = ev_key(EV_TCP, pw->id, ri, ti, fd);
		err = epoll_ctl(ps->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
	}
	if (err) {
		close(fd);
		return err;
	}
	s->fd = fd;
	return 0;
}

static int icmp_send(struct probe_wan *pw, unsigned int ti, __u16 seq)
{
	const struct mwan_cfg_probe_target *c = &pw->tg[ti].c;
	struct mwan_echo e = { .id = pw->ident, .seq = seq, .wan = pw->id };
	uint8_t buf[MWAN_ECHO_LEN];
	size_t n = mwan_echo_build(c->family, &e, buf, sizeof(buf));
	union sa_any sa;
	socklen_t len = sa_fill(&sa, c->family,
				c->family == AF_INET6 ?
					(const void *)&c->addr6 :
					(const void *)&c->addr4,
				0);

	if (sendto(pw->fd[fam_of(c)], buf, n, 0, &sa.sa, len) < 0)
		return -errno;
	return 0;
}

static void slot_send(struct probe_state *ps, struct probe_wan *pw,
		      unsigned int ri, unsigned int ti)
{
	struct probe_round *r = &pw->r[ri];
	struct probe_slot *s = &r->t[ti];
	const struct mwan_cfg_probe_target *c = &pw->tg[ti].c;
	int err;

	s->sent_ns = mwan_mono_ns();
	s->sent_real_ns = mwan_real_ns();
	if (c->port) {
		err = tcp_start(ps, pw, ri, ti, s);
		if (err == 1)
			slot_answered(pw, ti, s, mwan_mono_ns(), 0);
		else if (err < 0)
			slot_lost(pw, ti, s, err);
		return;
	}
	if (pw->fd[fam_of(c)] < 0) {
		slot_lost(pw, ti, s, 0); /* the socket's failure was logged */
		return;
	}
	err = icmp_send(pw, ti, r->seq);
	if (err)
		slot_lost(pw, ti, s, err);
}

/* ---- verdicts ---- */

static void wan_why(const struct probe_wan *pw, char *buf, size_t len)
{
	const struct mwan_health_params *p = &pw->p;

	switch (pw->h.reason) {
	case MWAN_HR_START:
		snprintf(buf, len, "loader started, no verdict yet");
		break;
	case MWAN_HR_NO_PROBES:
		snprintf(buf, len, "no probe targets, health follows the link");
		break;
	case MWAN_HR_LOST_ROUNDS:
		snprintf(buf, len, "%u rounds without quorum", p->down_after);
		break;
	case MWAN_HR_LOSS:
		snprintf(buf, len, "loss above %u%%", p->loss_raise_pct);
		break;
	case MWAN_HR_LATENCY:
		snprintf(buf, len, "rtt above %u ms", p->rtt_raise_ms);
		break;
	case MWAN_HR_RECOVERED:
		snprintf(buf, len, "%u good rounds%s", p->up_after,
			 p->hold_down_s ? " and the hold-down" : "");
		break;
	case MWAN_HR_HOLD_DOWN:
		snprintf(buf, len, "%u good rounds, no new flows for %u s",
			 p->up_after, p->hold_down_s);
		break;
	case MWAN_HR_LINK_DOWN:
		snprintf(buf, len, "%s", pw->link_why);
		break;
	default:
		buf[0] = '\0';
	}
}

static void wan_stats_text(const struct probe_wan *pw, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < pw->n_targets && off < len; i++) {
		const struct mwan_target_window *w = &pw->h.t[i];
		unsigned int loss = mwan_target_loss_permille(w);

		off += snprintf(buf + off, len - off,
				"; %s loss %u%%, rtt %.1f ms", pw->tg[i].c.text,
				(loss + 5) / 10,
				mwan_target_rtt_avg_us(w) / 1000.0);
	}
}

static void wan_log(const struct probe_wan *pw)
{
	char why[128], stats[MWAN_HEALTH_TARGETS * 96];
	bool down = pw->h.state != MWAN_HEALTH_UP;

	wan_why(pw, why, sizeof(why));
	wan_stats_text(pw, stats, sizeof(stats));
	log_msg(down && !pw->h.holding ? LOG_WARNING : LOG_INFO,
		"wan %s: %s (%s: %s%s)", pw->name,
		!down	      ? "up" :
		pw->h.holding ? "down, holding" :
				"down",
		mwan_health_reason_name(pw->h.reason), why, stats);
}

static void since_update(struct probe_wan *pw, __u64 now)
{
	__u64 ago_s;

	if (pw->h.since_ms == pw->since_ms_seen)
		return;
	pw->since_ms_seen = pw->h.since_ms;
	ago_s = (now / NS_PER_MS - pw->h.since_ms) / 1000;
	pw->since_real_s = real_s() - ago_s;
}

/* mwan_health[id]; updated_ns is also the heartbeat bpfctl checks. */
static void wan_publish(struct loader *l, struct probe_wan *pw, __u64 now)
{
	struct mwan_health_info v;
	__u32 key = pw->id;
	unsigned int i;

	memset(&v, 0, sizeof(v));
	since_update(pw, now);
	v.updated_ns = now;
	v.since_ns = pw->h.since_ms * NS_PER_MS;
	v.since_realtime_s = pw->since_real_s;
	v.reason = pw->h.reason;
	v.health = pw->h.state;
	v.holding = pw->h.holding;
	v.n_targets = pw->n_targets;
	for (i = 0; i < pw->n_targets; i++) {
		const struct mwan_target_window *w = &pw->h.t[i];
		struct mwan_probe_stat *s = &v.target[i];

		s->rtt_avg_us = mwan_target_rtt_avg_us(w);
		s->jitter_us = mwan_target_jitter_us(w);
		s->loss_permille = mwan_target_loss_permille(w);
		s->answered_last = pw->tg[i].answered_last;
		s->sent = w->sent;
		s->received = w->received;
	}
	if (bpf_map_update_elem(MAP_FD(l, health), &key, &v, BPF_ANY))
		log_debug("cannot update %s[%u]: %s", MWAN_MAP(health)->name,
			  key, strerror(errno));
}

/* mwan_health first: whoever sees the new verdict in mwan_wans also finds
 * its reason.
 */
static void wan_changed(struct loader *l, struct probe_wan *pw, __u64 now)
{
	wan_log(pw);
	wan_publish(l, pw, now);
	wanstate_set_health(l, pw->id, pw->h.state);
}

/* ---- rounds ---- */

static struct probe_round *oldest_round(struct probe_wan *pw)
{
	return &pw->r[(__u16)(pw->seq - pw->open_rounds) % PROBE_ROUNDS];
}

static bool round_complete(const struct probe_wan *pw,
			   const struct probe_round *r)
{
	unsigned int i;

	for (i = 0; i < pw->n_targets; i++)
		if (!r->t[i].done)
			return false;
	return true;
}

/* Judges the oldest open round: what has not answered by now is lost. */
static void round_judge(struct loader *l, struct probe_wan *pw, __u64 now)
{
	struct probe_round *r = oldest_round(pw);
	bool answered[MWAN_HEALTH_TARGETS] = { false };
	__u32 rtt[MWAN_HEALTH_TARGETS] = { 0 };
	unsigned int i;

	for (i = 0; i < pw->n_targets; i++) {
		slot_close(&r->t[i]);
		answered[i] = r->t[i].answered;
		rtt[i] = r->t[i].rtt_us;
		pw->tg[i].answered_last = answered[i];
	}
	r->open = false;
	pw->open_rounds--;
	if (mwan_health_round(&pw->h, &pw->p, answered, rtt, now / NS_PER_MS))
		wan_changed(l, pw, now);
	else
		wan_publish(l, pw, now);
}

/* In order: a round is judged once all its targets answered (or failed),
 * or at its deadline.
 */
static void rounds_judge_due(struct loader *l, struct probe_wan *pw, __u64 now)
{
	while (pw->open_rounds) {
		struct probe_round *r = oldest_round(pw);

		if (now < r->deadline_ns && !round_complete(pw, r))
			break;
		round_judge(l, pw, now);
	}
}

/* Link gone: what is in flight can tell nothing any more. */
static void rounds_abandon(struct probe_wan *pw)
{
	unsigned int ri, i;

	for (ri = 0; ri < PROBE_ROUNDS; ri++) {
		for (i = 0; i < MWAN_HEALTH_TARGETS; i++)
			slot_close(&pw->r[ri].t[i]);
		pw->r[ri].open = false;
	}
	pw->open_rounds = 0;
}

static void round_send(struct loader *l, struct probe_wan *pw, __u64 now)
{
	unsigned int ri = pw->seq % PROBE_ROUNDS, i;
	struct probe_round *r = &pw->r[ri];

	/* the ring is full only when the deadline spans PROBE_ROUNDS
	 * intervals: the oldest round cannot wait any longer
	 */
	if (pw->open_rounds == PROBE_ROUNDS)
		round_judge(l, pw, now);
	memset(r, 0, sizeof(*r));
	for (i = 0; i < MWAN_HEALTH_TARGETS; i++)
		r->t[i].fd = -1;
	r->open = true;
	r->seq = pw->seq++;
	r->deadline_ns =
		now + mwan_health_deadline_ms(&pw->h, &pw->p) * NS_PER_MS;
	pw->open_rounds++;
	for (i = 0; i < pw->n_targets; i++)
		slot_send(l->probe, pw, ri, i);
}

/* ---- replies ---- */

static bool target_is(const struct mwan_cfg_probe_target *c,
		      const union sa_any *from)
{
	if (c->port || c->family != from->sa.sa_family)
		return false;
	if (c->family == AF_INET6)
		return !memcmp(&c->addr6, &from->v6.sin6_addr, 16);
	return c->addr4.s_addr == from->v4.sin_addr.s_addr;
}

static void reply_match(struct probe_wan *pw, const union sa_any *from,
			__u16 seq, __u64 now, __u64 rx_real_ns)
{
	struct probe_round *r = &pw->r[seq % PROBE_ROUNDS];
	unsigned int i;

	/* a round already judged: the reply came too late to count */
	if (!r->open || r->seq != seq)
		return;
	for (i = 0; i < pw->n_targets; i++) {
		if (!target_is(&pw->tg[i].c, from))
			continue;
		if (!r->t[i].done)
			slot_answered(pw, i, &r->t[i], now, rx_real_ns);
		return;
	}
}

static __u64 rx_timestamp(struct msghdr *mh)
{
	struct cmsghdr *cm;
	struct timespec ts;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_TIMESTAMPNS ||
		    cm->cmsg_len < CMSG_LEN(sizeof(ts)))
			continue;
		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	}
	return 0;
}

static void raw_read(struct probe_wan *pw, int fam)
{
	int family = fam == FAM6 ? AF_INET6 : AF_INET;
	uint8_t buf[2048];
	char ctl[CMSG_SPACE(sizeof(struct timespec)) + 64];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct mwan_echo e;
	union sa_any from;
	unsigned int n;

	for (n = 0; n < READS_MAX && pw->fd[fam] >= 0; n++) {
		struct msghdr mh = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl,
			.msg_controllen = sizeof(ctl),
		};
		ssize_t len = recvmsg(pw->fd[fam], &mh, 0);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			break; /* EAGAIN; errors queued by ICMP are no reply */
		}
		/* someone else's ping, or another WAN's reply */
		if (mwan_echo_parse(family, buf, len, &e) ||
		    e.id != pw->ident || e.wan != pw->id)
			continue;
		reply_match(pw, &from, e.seq, mwan_mono_ns(),
			    rx_timestamp(&mh));
	}
}

static void tcp_event(struct probe_wan *pw, unsigned int ri, unsigned int ti,
		      int fd)
{
	struct probe_round *r = &pw->r[ri % PROBE_ROUNDS];
	struct probe_slot *s = &r->t[ti % MWAN_HEALTH_TARGETS];
	union sa_any peer;
	socklen_t len = sizeof(int), plen = sizeof(peer);
	int err = 0;
	__u64 now = mwan_mono_ns();

	if (!r->open || s->fd != fd)
		return; /* judged and closed since */
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	/* an event left over from a closed socket whose number was reused:
	 * this one is still connecting
	 */
	if (!err && getpeername(fd, &peer.sa, &plen) && errno == ENOTCONN)
		return;
	slot_close(s);
	if (!err || err == ECONNREFUSED)
		slot_answered(pw, ti, s, now, 0);
	else
		slot_lost(pw, ti, s, -err);
}

static void dispatch(struct probe_state *ps, const struct epoll_event *ev)
{
	__u64 k = ev->data.u64;
	int fd = (int)(__u32)k;
	unsigned int kind = (k >> 32) & 0xf, wan = (k >> 36) & 0xf;
	unsigned int aux = (k >> 40) & 0xff, tgt = (k >> 48) & 0xff;
	struct probe_wan *pw;

	if (wan >= ps->n_wans)
		return;
	pw = &ps->wan[wan];
	if (kind == EV_RAW && aux <= FAM6 && pw->fd[aux] == fd)
		raw_read(pw, aux);
	else if (kind == EV_TCP)
		tcp_event(pw, aux, tgt, fd);
}

/* ---- link and state ---- */

static void wan_link_down(struct loader *l, struct probe_wan *pw, __u64 now,
			  const char *why)
{
	bool same = !pw->link_up && pw->h.state == MWAN_HEALTH_DOWN &&
		    pw->h.reason == MWAN_HR_LINK_DOWN &&
		    !strcmp(pw->link_why, why);

	rounds_abandon(pw);
	wan_sockets_close(pw);
	pw->link_up = false;
	pw->ifindex = 0;
	pw->addr4 = 0;
	pw->has6 = false;
	if (same)
		return;
	snprintf(pw->link_why, sizeof(pw->link_why), "%s", why);
	/* like every change the state machine makes */
	pw->h.since_ms = now / NS_PER_MS;
	pw->h.state = MWAN_HEALTH_DOWN;
	pw->h.holding = false;
	pw->h.reason = MWAN_HR_LINK_DOWN;
	pw->h.good_rounds = pw->h.bad_rounds = 0;
	wan_changed(l, pw, now);
}

/* Back from a link failure: fresh statistics, and down until the probes
 * have seen enough good rounds, as after any failure.
 */
static void wan_link_up(struct loader *l, struct probe_wan *pw, __u64 now)
{
	struct mwan_wan_health h = pw->h;

	pw->link_up = true;
	pw->next_send_ns = now;
	if (!pw->n_targets) {
		if (pw->h.state == MWAN_HEALTH_UP &&
		    pw->h.reason == MWAN_HR_NO_PROBES)
			return;
		pw->h.state = MWAN_HEALTH_UP;
		pw->h.reason = MWAN_HR_NO_PROBES;
		pw->h.since_ms = now / NS_PER_MS;
		wan_changed(l, pw, now);
		return;
	}
	if (h.state != MWAN_HEALTH_DOWN || h.reason != MWAN_HR_LINK_DOWN)
		return;
	mwan_health_init(&pw->h, pw->n_targets, now / NS_PER_MS);
	pw->h.state = MWAN_HEALTH_DOWN;
	pw->h.reason = MWAN_HR_LINK_DOWN;
	pw->h.since_ms = h.since_ms;
	log_info("wan %s: link up; probing, new flows after %u good rounds",
		 pw->name, pw->p.up_after);
}

static void wan_refresh(struct loader *l, struct probe_wan *pw, __u64 now)
{
	struct nlc_link_info link;
	struct in6_addr addr6;
	__u32 addr4 = 0;
	bool has6;
	char why[64];

	if (nlc_link(l->nl, pw->ifname, &link) || !link.exists) {
		snprintf(why, sizeof(why), "interface %s is gone", pw->ifname);
		wan_link_down(l, pw, now, why);
		return;
	}
	if (!link.up) {
		snprintf(why, sizeof(why), "%s is down or has no carrier",
			 pw->ifname);
		wan_link_down(l, pw, now, why);
		return;
	}
	nlc_first_addr4(l->nl, link.ifindex, &addr4);
	has6 = !nlc_global_addr6(l->nl, link.ifindex, &addr6);
	/* bound to what no longer is: open them again (TCP probes take
	 * the new binding with their next socket)
	 */
	if (link.ifindex != pw->ifindex)
		wan_sockets_close(pw);
	if (addr4 != pw->addr4)
		raw_close(pw, FAM4);
	if (has6 != pw->has6 || (has6 && memcmp(&addr6, &pw->addr6, 16)))
		raw_close(pw, FAM6);
	pw->ifindex = link.ifindex;
	pw->addr4 = addr4;
	pw->has6 = has6;
	pw->addr6 = has6 ? addr6 : (struct in6_addr){ 0 };
	if (!pw->link_up)
		wan_link_up(l, pw, now);
	wan_sockets_open(l->probe, pw);
}

/* Config -> a fresh prober (nothing open); the state machine starts UP,
 * with reason NO_PROBES when there is nothing to probe.
 */
static void wan_setup(struct loader *l, struct probe_wan *pw, unsigned int w,
		      __u16 ident, __u64 now)
{
	const struct mwan_cfg_wan *c = &l->cfg.wans[w];
	unsigned int i, ri;

	memset(pw, 0, sizeof(*pw));
	pw->id = w;
	pw->fd[FAM4] = pw->fd[FAM6] = -1;
	for (ri = 0; ri < PROBE_ROUNDS; ri++)
		for (i = 0; i < MWAN_HEALTH_TARGETS; i++)
			pw->r[ri].t[i].fd = -1;
	snprintf(pw->name, sizeof(pw->name), "%s", c->name);
	snprintf(pw->ifname, sizeof(pw->ifname), "%s", c->ifname);
	pw->mark = MWAN_FWMARK_BASE + w;
	pw->ident = ident;
	mwan_config_health_params(c, &pw->p);
	pw->n_targets = c->n_probe_targets;
	for (i = 0; i < pw->n_targets; i++) {
		pw->tg[i].c = c->probe_targets[i];
		if (!pw->tg[i].c.port)
			pw->need[fam_of(&pw->tg[i].c)] = true;
	}
	mwan_health_init(&pw->h, pw->n_targets, now / NS_PER_MS);
	if (!pw->n_targets)
		pw->h.reason = MWAN_HR_NO_PROBES;
}

/* Starts down with the given reason and time, as a failure seen before. */
static void wan_start_down(struct probe_wan *pw, enum mwan_health_reason why,
			   __u64 since_ms)
{
	pw->h.state = MWAN_HEALTH_DOWN;
	pw->h.reason = why;
	pw->h.since_ms = since_ms;
}

/*
 * A restarted loader picks up the verdict the previous run pinned: a WAN
 * that was down stays down until its probes see up_after good rounds (and
 * the hold-down), as if the loader had never stopped. Starting every WAN
 * up (mwan_health_init) would send new flows to a dead WAN, and move them
 * again a second later, each time the loader restarts during an outage.
 * A WAN that was up, or was holding after a recovery (its hold-down starts
 * over: reason "start"), or one the previous run named differently, starts
 * from mwan_health_init. Pins do not survive a reboot.
 */
static void wan_seed(struct loader *l, struct probe_wan *pw, __u64 now)
{
	struct mwan_health_info old;
	struct mwan_name name;
	__u32 key = pw->id;

	if (!pw->n_targets ||
	    bpf_map_lookup_elem(MAP_FD(l, health), &key, &old) ||
	    bpf_map_lookup_elem(MAP_FD(l, names), &key, &name) ||
	    strncmp(name.name, pw->name, sizeof(name.name)) ||
	    !old.updated_ns || old.health != MWAN_HEALTH_DOWN ||
	    old.since_ns > now)
		return;
	if (old.holding || old.reason >= MWAN_HR_MAX) {
		wan_start_down(pw, MWAN_HR_START, now / NS_PER_MS);
	} else {
		wan_start_down(pw, old.reason, old.since_ns / NS_PER_MS);
		pw->since_ms_seen = pw->h.since_ms;
		pw->since_real_s = old.since_realtime_s;
	}
	log_info(
		"wan %s: down as the previous run left it (%s); new flows once %u probe rounds are good",
		pw->name, mwan_health_reason_name(old.reason), pw->p.up_after);
}

/* Slots of WANs this config does not have must not look alive. */
static void clear_unused(struct loader *l, unsigned int n_wans)
{
	struct mwan_health_info v;
	__u32 w;

	memset(&v, 0, sizeof(v));
	for (w = n_wans; w < MWAN_MAX_WANS; w++)
		bpf_map_update_elem(MAP_FD(l, health), &w, &v, BPF_ANY);
}

static __u16 ident_base(void)
{
	__u16 v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (__u16)getpid();
	return v;
}

int probe_open(struct loader *l)
{
	struct probe_state *ps = calloc(1, sizeof(*ps));
	__u64 now = mwan_mono_ns();
	__u16 base = ident_base();
	unsigned int w;

	if (!ps)
		return -ENOMEM;
	ps->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ps->epfd < 0) {
		int err = -errno;

		log_err("epoll: %s", strerror(errno));
		free(ps);
		return err;
	}
	ps->n_wans = l->cfg.n_wans;
	for (w = 0; w < MWAN_MAX_WANS; w++)
		ps->wan[w].fd[FAM4] = ps->wan[w].fd[FAM6] = -1;
	l->probe = ps;
	for (w = 0; w < ps->n_wans; w++) {
		/* one ICMP identifier per WAN socket */
		wan_setup(l, &ps->wan[w], w, base + w, now);
		wan_seed(l, &ps->wan[w], now);
	}
	clear_unused(l, ps->n_wans);
	probe_refresh(l);
	for (w = 0; w < ps->n_wans; w++)
		wan_publish(l, &ps->wan[w], now);
	ps->next_heartbeat_ns = now + HEARTBEAT_MS * NS_PER_MS;
	return 0;
}

void probe_close(struct loader *l)
{
	struct probe_state *ps = l->probe;
	unsigned int w;

	if (!ps)
		return;
	for (w = 0; w < ps->n_wans; w++) {
		rounds_abandon(&ps->wan[w]);
		wan_sockets_close(&ps->wan[w]);
	}
	close(ps->epfd);
	free(ps);
	l->probe = NULL;
}

int probe_fd(const struct loader *l)
{
	return l->probe ? l->probe->epfd : -1;
}

static __u64 wan_next_ns(const struct probe_wan *pw, __u64 next)
{
	struct probe_wan *mut = (struct probe_wan *)pw;

	if (!pw->n_targets || !pw->link_up)
		return next;
	if (pw->next_send_ns < next)
		next = pw->next_send_ns;
	if (pw->open_rounds && oldest_round(mut)->deadline_ns < next)
		next = oldest_round(mut)->deadline_ns;
	if (pw->h.holding && pw->h.hold_until_ms * NS_PER_MS < next)
		next = pw->h.hold_until_ms * NS_PER_MS;
	return next;
}

int probe_timeout_ms(const struct loader *l, int max_ms)
{
	const struct probe_state *ps = l->probe;
	__u64 now = mwan_mono_ns(), next, ms;
	unsigned int w;

	if (!ps)
		return max_ms;
	next = ps->next_heartbeat_ns;
	for (w = 0; w < ps->n_wans; w++)
		next = wan_next_ns(&ps->wan[w], next);
	if (next <= now)
		return 0;
	/* rounded up: waking early would only mean waking twice */
	ms = (next - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms < (__u64)max_ms ? (int)ms : max_ms;
}

static void wan_timers(struct loader *l, struct probe_wan *pw, __u64 now)
{
	if (!pw->n_targets || !pw->link_up)
		return;
	rounds_judge_due(l, pw, now);
	if (pw->h.holding && mwan_health_tick(&pw->h, &pw->p, now / NS_PER_MS))
		wan_changed(l, pw, now);
	if (now < pw->next_send_ns)
		return;
	round_send(l, pw, now);
	/* steady cadence; after a stall, no burst of catch-up rounds */
	pw->next_send_ns += pw->p.interval_ms * NS_PER_MS;
	if (pw->next_send_ns <= now)
		pw->next_send_ns = now + pw->p.interval_ms * NS_PER_MS;
}

static void heartbeat(struct loader *l, __u64 now)
{
	struct probe_state *ps = l->probe;
	unsigned int w;

	if (now < ps->next_heartbeat_ns)
		return;
	ps->next_heartbeat_ns = now + HEARTBEAT_MS * NS_PER_MS;
	for (w = 0; w < ps->n_wans; w++) {
		/* a socket that failed to open (address not there yet) */
		wan_sockets_open(ps, &ps->wan[w]);
		wan_publish(l, &ps->wan[w], now);
	}
}

void probe_process(struct loader *l)
{
	struct probe_state *ps = l->probe;
	struct epoll_event ev[EVENTS_MAX];
	unsigned int w, rounds;
	__u64 now;
	int n, i;

	if (!ps)
		return;
	/* bounded: a flood of replies must not starve everything else */
	for (rounds = 0; rounds < 4; rounds++) {
		n = epoll_wait(ps->epfd, ev, EVENTS_MAX, 0);
		for (i = 0; i < n; i++)
			dispatch(ps, &ev[i]);
		if (n < EVENTS_MAX)
			break;
	}
	now = mwan_mono_ns();
	for (w = 0; w < ps->n_wans; w++)
		wan_timers(l, &ps->wan[w], now);
	heartbeat(l, now);
}

void probe_refresh(struct loader *l)
{
	struct probe_state *ps = l->probe;
	__u64 now = mwan_mono_ns();
	unsigned int w;

	if (!ps || !l->nl)
		return;
	for (w = 0; w < ps->n_wans; w++)
		wan_refresh(l, &ps->wan[w], now);
}

static bool same_probe_config(const struct probe_wan *pw,
			      const struct mwan_cfg_wan *c)
{
	struct mwan_health_params p;
	unsigned int i;

	mwan_config_health_params(c, &p);
	if (memcmp(&p, &pw->p, sizeof(p)) ||
	    pw->n_targets != c->n_probe_targets ||
	    strcmp(pw->ifname, c->ifname))
		return false;
	for (i = 0; i < pw->n_targets; i++)
		if (strcmp(pw->tg[i].c.text, c->probe_targets[i].text))
			return false;
	return true;
}

void probe_reload(struct loader *l)
{
	struct probe_state *ps = l->probe;
	__u64 now = mwan_mono_ns();
	unsigned int w;

	if (!ps)
		return;
	for (w = 0; w < ps->n_wans; w++) {
		struct probe_wan *pw = &ps->wan[w];
		struct mwan_wan_health old = pw->h;

		if (same_probe_config(pw, &l->cfg.wans[w]))
			continue;
		log_info("wan %s: probe settings changed; probing starts over",
			 pw->name);
		rounds_abandon(pw);
		wan_sockets_close(pw);
		wan_setup(l, pw, w, pw->ident, now);
		/* new targets prove themselves before a down WAN is used */
		if (old.state == MWAN_HEALTH_DOWN && pw->n_targets)
			wan_start_down(pw,
				       old.holding ? MWAN_HR_START : old.reason,
				       old.since_ms);
		wan_refresh(l, pw, now);
		wanstate_set_health(l, pw->id, pw->h.state);
		wan_publish(l, pw, now);
	}
}

enum mwan_health probe_health(const struct loader *l, unsigned int w)
{
	if (!l->probe || w >= l->probe->n_wans)
		return MWAN_HEALTH_UP;
	return l->probe->wan[w].h.state;
}
