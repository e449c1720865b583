/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The traffic generator's ways of sending: live frames, a closed XDP loop, an AF_PACKET TX ring; and the probe that picks one. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>

#include "gen.h"
#include "gen.skel.h"
#include "sink.skel.h"

const char *const gen_method_names[GEN_METHODS] = {
	[GEN_LIVE] = "live-frames",
	[GEN_LOOP] = "xdp-loop",
	[GEN_PACKET] = "af-packet",
	[GEN_XSK] = "af-xdp",
};

/* Each live-frames call runs for the whole run (a signal ends it): every
 * call swaps the program into the XDP dispatcher and out again, which
 * waits for an RCU grace period each time.
 */
#define RUN_REPEAT 0xffffffffU
/* AF_PACKET: ring slots per CPU, and how many are queued per send(). */
#define RING_FRAMES 4096
#define RING_FRAME_SIZE 128
#define RING_BATCH 64
/* AF_XDP: umem frames per CPU (at most half of them queued at once). */
#define XSK_FRAMES 4096
#define XSK_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE

struct worker {
	pthread_t tid;
	enum gen_method m;
	int cpu, ifindex, prog;
	const struct frame *f;
	__u64 (*pool)[FRAME_MAX /
		      8]; /* af-packet, af-xdp: every frame of this CPU */
	__u32 npool;
	volatile __u64 sent; /* af-packet, af-xdp: frames handed to a ring */
};

static struct worker workers[BENCH_MAX_CPUS];
static volatile bool stopping;

static void on_stop_signal(int sig)
{
	(void)sig;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		die("pinning to CPU %d failed", cpu);
}

/* A raw socket on the generator's interface that only sends, straight
 * to the driver on the sending CPU's queue (no qdisc): on a veth that
 * is the peer's receive queue of the same number, whose NAPI then runs
 * on this CPU.
 */
static int packet_socket(int ifindex)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET,
				 .sll_ifindex = ifindex };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		die("AF_PACKET socket: %s", strerror(errno));
	return fd;
}

/* Run a generator program once on the template without live frames:
 * the stamped frame comes back in `out` (this CPU's next flow).
 */
static void stamp_once(int prog, const struct frame *f, void *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = f->len, .data_out = out,
		    .data_size_out = FRAME_MAX, .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o) || o.retval != XDP_TX)
		die("stamping a frame: %s (verdict %u)", strerror(errno),
		    o.retval);
}

/* ---- live frames ---- */

/* One live-frames call of `repeat` frames: 0, or -errno (-EINTR: a
 * signal ended it).
 */
static int live_frames(int prog, int ifindex, const struct frame *f,
		       __u32 repeat)
{
	struct xdp_md ctx = { .data_end = f->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = f->len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	return bpf_prog_test_run_opts(prog, &o) ? -errno : 0;
}

static void live_run(struct worker *w)
{
	int err;

	while (!stopping) {
		err = live_frames(w->prog, w->ifindex, w->f, RUN_REPEAT);
		if (err && err != -EINTR)
			die("BPF_PROG_RUN (live frames): %s", strerror(-err));
	}
}

/* ---- the closed loop ---- */

/* Inject this CPU's share of the frames in flight; the sink turns each
 * one into the next flow's frame for as long as the run lasts.
 */
static void loop_inject(struct worker *w)
{
	__u64 buf[FRAME_MAX / 8];
	struct timespec pause = { 0, 100 * 1000 };
	int fd = packet_socket(w->ifindex);
	unsigned int i;

	for (i = 0; i < opt.inflight; i++) {
		stamp_once(w->prog, w->f, buf);
		/* A full ring (the peer's NAPI has not run yet) refuses it. */
		while (send(fd, buf, w->f->len, 0) != (ssize_t)w->f->len) {
			if (errno != ENOBUFS && errno != EAGAIN)
				die("injecting a frame: %s", strerror(errno));
			nanosleep(&pause, NULL);
		}
	}
	close(fd);
}

/* ---- AF_PACKET TX ring (and the frame pool AF_XDP shares) ---- */

/* Every flow this CPU sends, stamped once, so that sending is a copy. */
static void packet_pool(struct worker *w)
{
	__u32 i, n = (opt.flows + opt.cpus - 1 - w->cpu) / opt.cpus;

	w->npool = n ? n : 1;
	w->pool = calloc(w->npool, sizeof(*w->pool));
	if (!w->pool)
		die("out of memory for %u frames", w->npool);
	for (i = 0; i < w->npool; i++)
		stamp_once(w->prog, w->f, w->pool[i]);
}

static void packet_run(struct worker *w)
{
	struct tpacket_req req = { .tp_block_size = 4096,
				   .tp_frame_size = RING_FRAME_SIZE,
				   .tp_frame_nr = RING_FRAMES };
	int fd = packet_socket(w->ifindex), v = TPACKET_V2;
	size_t ring_len = (size_t)RING_FRAMES * RING_FRAME_SIZE;
	__u32 slot = 0, next = 0, queued = 0;
	struct tpacket2_hdr *h;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	__u8 *ring;

	req.tp_block_nr = ring_len / req.tp_block_size;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)))
		die("AF_PACKET TX ring: %s", strerror(errno));
	ring = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED)
		die("mapping the TX ring: %s", strerror(errno));
	while (!stopping) {
		h = (void *)(ring + (size_t)slot * RING_FRAME_SIZE);
		if (h->tp_status != TP_STATUS_AVAILABLE) {
			/* The kernel still owns it: hand over what is queued. */
			if (queued && send(fd, NULL, 0, MSG_DONTWAIT) < 0 &&
			    errno != EAGAIN && errno != ENOBUFS)
				die("AF_PACKET send: %s", strerror(errno));
			queued = 0;
			if (h->tp_status != TP_STATUS_AVAILABLE)
				poll(&p, 1, 1);
			continue;
		}
		memcpy((__u8 *)h + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll),
		       w->pool[next], w->f->len);
		h->tp_len = w->f->len;
		h->tp_status = TP_STATUS_SEND_REQUEST;
		w->sent++;
		next = next + 1 == w->npool ? 0 : next + 1;
		slot = slot + 1 == RING_FRAMES ? 0 : slot + 1;
		if (++queued == RING_BATCH) {
			if (send(fd, NULL, 0, MSG_DONTWAIT) < 0 &&
			    errno != EAGAIN && errno != ENOBUFS)
				die("AF_PACKET send: %s", strerror(errno));
			queued = 0;
		}
	}
	munmap(ring, ring_len);
	close(fd);
	free(w->pool);
}

/* ---- AF_XDP, copy mode ---- */

/* The generator's interface has one queue per CPU (forward.sh makes
 * its veths so): this CPU's socket binds to its own.
 */
static void xsk_run(struct worker *w)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.comp_size = XSK_FRAMES,
		.frame_size = XSK_FRAME_SIZE
	};
	struct xsk_socket_config scfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = XSK_FRAMES / 2,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	size_t area_len = (size_t)XSK_FRAMES * XSK_FRAME_SIZE;
	__u32 i, n, idx, next = 0, outstanding = 0;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	struct xsk_socket *xsk;
	struct xsk_umem *umem;
	struct xdp_desc *d;
	__u64 slot = 0;
	void *area;
	int err;

	area = mmap(NULL, area_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		die("AF_XDP umem: %s", strerror(errno));
	err = xsk_umem__create(&umem, area, area_len, &fill, &comp, &ucfg);
	if (!err)
		err = xsk_socket__create(&xsk, opt.gen_if, w->cpu, umem, NULL,
					 &tx, &scfg);
	if (err)
		die("AF_XDP socket on %s queue %d: %s", opt.gen_if, w->cpu,
		    strerror(-err));
	while (!stopping) {
		n = xsk_ring_cons__peek(&comp, XSK_FRAMES, &idx);
		if (n) {
			xsk_ring_cons__release(&comp, n);
			outstanding -= n;
		}
		n = scfg.tx_size - outstanding;
		n = xsk_ring_prod__reserve(&tx, n < RING_BATCH ? n : RING_BATCH,
					   &idx);
		for (i = 0; i < n; i++, slot++) {
			d = xsk_ring_prod__tx_desc(&tx, idx + i);
			d->addr = slot % XSK_FRAMES * XSK_FRAME_SIZE;
			d->len = w->f->len;
			memcpy(xsk_umem__get_data(area, d->addr), w->pool[next],
			       d->len);
			next = next + 1 == w->npool ? 0 : next + 1;
		}
		xsk_ring_prod__submit(&tx, n);
		outstanding += n;
		w->sent += n;
		/* Copy mode sends in the syscall, a few dozen per call. */
		if (sendto(xsk_socket__fd(xsk), NULL, 0, MSG_DONTWAIT, NULL,
			   0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			die("AF_XDP sendto: %s", strerror(errno));
	}
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, area_len);
	free(w->pool);
}

/* ---- the workers ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pin_to(w->cpu);
	switch (w->m) {
	case GEN_LIVE:
		live_run(w);
		break;
	case GEN_LOOP:
		loop_inject(w);
		break;
	case GEN_PACKET:
		packet_pool(w);
		packet_run(w);
		break;
	case GEN_XSK:
		packet_pool(w);
		xsk_run(w);
		break;
	default:
		break;
	}
	return NULL;
}

/* One worker per CPU; with both families, even CPUs send IPv4 and odd
 * ones IPv6 (one program per call, and a live-frames call lasts the
 * whole run). The loop's workers inject their frames and end.
 */
void gen_start(enum gen_method m, struct gen_bpf *g, struct sink_bpf *s,
	       int ifindex, const struct frame *f4, const struct frame *f6)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	unsigned int i;
	bool v6;

	if (m == GEN_LOOP && !s->rodata->loop)
		die("the sink was not loaded to close the loop");
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction: %s", strerror(errno));
	stopping = false;
	for (i = 0; i < opt.cpus; i++) {
		v6 = cpu_sends_v6(i);
		workers[i] = (struct worker){
			.m = m,
			.cpu = i,
			.ifindex = ifindex,
			.prog = bpf_program__fd(v6 ? g->progs.gen_v6 :
						     g->progs.gen_v4),
			.f = v6 ? f6 : f4,
		};
		if (pthread_create(&workers[i].tid, NULL, worker_main,
				   &workers[i]))
			die("pthread_create failed");
	}
	if (m == GEN_LOOP)
		for (i = 0; i < opt.cpus; i++)
			pthread_join(workers[i].tid, NULL);
}

/* Signal each worker until it is gone: a signal that lands between two
 * live-frames calls would otherwise leave the next call running for hours.
 */
void gen_stop(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int i;

	if (workers[0].m == GEN_LOOP)
		return; /* the loop ends when the sink is detached */
	stopping = true;
	for (i = 0; i < opt.cpus; i++) {
		while (pthread_tryjoin_np(workers[i].tid, NULL) == EBUSY) {
			pthread_kill(workers[i].tid, SIGUSR1);
			nanosleep(&ts, NULL);
		}
	}
}

static __u64 sum_sent(const struct bench_gen_cpu *state)
{
	__u64 n = 0;
	unsigned int i;

	for (i = 0; i < opt.cpus && i < BENCH_MAX_CPUS; i++)
		n += state[i].sent;
	return n;
}

/* Live frames are stamped by the generator's programs, the loop's by
 * the sink; af-packet and af-xdp count what they queued on their rings.
 */
__u64 gen_stamped(enum gen_method m, const struct gen_bpf *g,
		  const struct sink_bpf *s)
{
	__u64 n = 0;
	unsigned int i;

	if (m == GEN_LOOP)
		return sum_sent(s->bss->state);
	if (m == GEN_LIVE)
		return sum_sent(g->bss->state);
	for (i = 0; i < opt.cpus; i++)
		n += workers[i].sent;
	return n;
}

/* Live frames where the kernel allows them (one frame dropped at once
 * tells), else the loop. BENCH_NO_LIVE_FRAMES=1 in the environment
 * takes the answer of a kernel that refuses them (the tests use it).
 */
enum gen_method gen_probe(struct gen_bpf *g, int ifindex, char *why, size_t len)
{
	struct frame f = { .len = ETH_ZLEN };
	const char *deny = getenv("BENCH_NO_LIVE_FRAMES");
	int err;

	if (deny && !strcmp(deny, "1")) {
		snprintf(why, len,
			 "live frames not tried: BENCH_NO_LIVE_FRAMES=1");
		return GEN_LOOP;
	}
	err = live_frames(bpf_program__fd(g->progs.probe), ifindex, &f, 1);
	if (!err) {
		snprintf(why, len, "live frames allowed");
		return GEN_LIVE;
	}
	snprintf(why, len, "live frames refused: %s", strerror(-err));
	return GEN_LOOP;
}
