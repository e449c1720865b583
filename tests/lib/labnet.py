#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Traffic servers, clients and checks for the mwan lab (run inside its namespaces)."""

import argparse
import hashlib
import ipaddress
import json
import select
import os
import signal
import socket
import socketserver
import statistics
import struct
import subprocess
import sys
import threading
import time

BIG_MAGIC = b"mwan-big"
# Linux values; Python 3.11's socket module lacks some of these names.
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def log_json(fh, **fields):
    fh.write(json.dumps(fields) + "\n")
    fh.flush()


def hostport(text):
    """'192.0.2.10:80', '[2001:db8::1]:80' or '2001:db8::1:80' (last field the port)."""
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def any_addr(fam):
    return "::" if fam == socket.AF_INET6 else "0.0.0.0"


def peer_of(sockaddr):
    """(address, port) of a peer; an IPv4 client of a '::' server as IPv4."""
    addr = ipaddress.ip_address(sockaddr[0])
    if addr.version == 6 and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return str(addr), sockaddr[1]


def recv_all(sock):
    h = hashlib.sha256()
    n = 0
    while True:
        b = sock.recv(1 << 16)
        if not b:
            return h.hexdigest(), n
        h.update(b)
        n += len(b)


# ---- TCP bulk transfer ------------------------------------------------------

class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def _tcp_server(addr, port, handler):
    cls = _Server6 if family(addr) == socket.AF_INET6 else _Server
    return cls((addr, port), handler)


def cmd_serve_file(a):
    """Send FILE to every client; log the client's address."""
    logf = open(a.log, "a")
    lock = threading.Lock()

    class H(socketserver.BaseRequestHandler):
        def handle(self):
            peer = peer_of(self.request.getpeername())
            sent = 0
            with open(a.file, "rb") as f:
                while True:
                    b = f.read(1 << 16)
                    if not b:
                        break
                    self.request.sendall(b)
                    sent += len(b)
            self.request.shutdown(socket.SHUT_WR)
            with lock:
                log_json(logf, peer=peer[0], sport=peer[1], sent=sent)

    _serve(H, a)


def cmd_sink_tcp(a):
    """Receive everything each client sends; log its address, length, sha256."""
    logf = open(a.log, "a")
    lock = threading.Lock()

    class H(socketserver.BaseRequestHandler):
        def handle(self):
            peer = peer_of(self.request.getpeername())
            sha, n = recv_all(self.request)
            self.request.sendall(f"{sha} {n}\n".encode())
            with lock:
                log_json(logf, peer=peer[0], sport=peer[1], len=n, sha256=sha)

    _serve(H, a)


def _serve(handler, a):
    srv = _tcp_server(a.addr, a.port, handler)
    print(f"listening tcp {a.addr}:{a.port}", flush=True)
    srv.serve_forever()


def _connect(a):
    dst = hostport(a.connect)
    s = socket.socket(family(dst[0]))
    s.settimeout(a.connect_timeout)
    if a.bind:
        s.bind((a.bind, 0))
    s.connect(dst)
    s.settimeout(a.timeout)
    return s


def _client(fn):
    """Run a TCP client step; on a socket error print one line, exit 1."""
    def run(a):
        try:
            return fn(a)
        except OSError as e:
            print(f"{fn.__name__[4:]}: {a.connect}: {e or type(e).__name__}")
            return 1
    run.__doc__ = fn.__doc__
    return run


@_client
def cmd_fetch(a):
    """Download from a serve-file server; print 'sha256 length local-port'."""
    s = _connect(a)
    port = s.getsockname()[1]
    sha, n = recv_all(s)
    print(sha, n, port)


@_client
def cmd_send_file(a):
    """Upload FILE to a sink-tcp server; print what the server acknowledged."""
    s = _connect(a)
    port = s.getsockname()[1]
    with open(a.file, "rb") as f:
        s.sendfile(f)
    s.shutdown(socket.SHUT_WR)
    print(s.makefile().read().strip(), port)


# ---- UDP --------------------------------------------------------------------

def _pktinfo_socket(fam=socket.AF_INET):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    return s


def _recv_with_iface(s, size=65535):
    """recvmsg with the ingress interface (in_pktinfo: ifindex first;
    in6_pktinfo: address, then ifindex)."""
    data, anc, _flags, src = s.recvmsg(size, socket.CMSG_SPACE(20))
    iface = None
    for level, ctype, cdata in anc:
        if (level, ctype) == (socket.IPPROTO_IP, IP_PKTINFO):
            ifindex = struct.unpack("I", cdata[:4])[0]
        elif (level, ctype) == (socket.IPPROTO_IPV6, IPV6_PKTINFO):
            ifindex = struct.unpack("I", cdata[16:20])[0]
        else:
            continue
        try:
            iface = socket.if_indextoname(ifindex)
        except OSError:
            iface = str(ifindex)
    return data, src, iface


def _big_intact(data):
    """A udp-big payload carries the sha256 of its body in its header."""
    head, _, body = data.partition(b"\n")
    parts = head.split()
    if len(parts) != 4 or parts[0] != BIG_MAGIC:
        return None
    return hashlib.sha256(body).hexdigest() == parts[3].decode()


def _tun_open(netns, name):
    """A tun device NAME (IFF_TUN, no packet info) in network namespace
    NETNS (/run/netns/NETNS), as an open fd; it lives while the fd does."""
    import ctypes
    import fcntl
    import struct
    libc = ctypes.CDLL(None, use_errno=True)
    with open(f"/run/netns/{netns}") as ns:
        if libc.setns(ns.fileno(), 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), f"setns {netns}")
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH22x", name.encode(), 0x0001 | 0x1000)  # IFF_TUN | IFF_NO_PI
    fcntl.ioctl(fd, 0x400454CA, ifr)  # TUNSETIFF
    return fd


def cmd_forge(a):
    """Send hand-made frames out of an interface (scapy): SPEC is
    SRC>DST[/PROTO:DPORT][+ttl=N][+xh], PROTO udp (default) or tcp (a SYN);
    +xh puts an IPv6 destination-options header before it. Each spec is
    sent --count times from source port --sport, or once from each of
    --sports ports from --sport on (a flood of new flows)."""
    from scapy.all import Ether, IP, IPv6, IPv6ExtHdrDestOpt, TCP, UDP, Raw, sendp  # noqa: E501 pylint: disable=import-outside-toplevel
    frames = []
    for spec in a.spec:
        addrs, _, rest = spec.partition("/")
        opts = rest.split("+") if rest else []
        if "+" in addrs:
            addrs, *more = addrs.split("+")
            opts += more
        src, dst = addrs.split(">")
        proto, dport = "udp", a.dport
        ttl, xh = 64, False
        for o in opts:
            if o.startswith("ttl="):
                ttl = int(o[4:])
            elif o == "xh":
                xh = True
            elif ":" in o:
                proto, port = o.split(":")
                dport = int(port)
        if ":" in dst:
            l3 = IPv6(src=src, dst=dst, hlim=ttl)
            if xh:
                l3 = l3 / IPv6ExtHdrDestOpt()
        else:
            l3 = IP(src=src, dst=dst, ttl=ttl)
        for sport in range(a.sport, a.sport + (a.sports or 1)):
            l4 = TCP(sport=sport, dport=dport, flags="S") if proto == "tcp" else \
                UDP(sport=sport, dport=dport) / Raw(b"mwan-forged")
            frames.append(Ether(dst=a.dst_mac) / l3 / l4)
    frames = frames if a.sports else frames * a.count
    sendp(frames, iface=a.iface, verbose=False)
    print(f"sent {len(frames)} frames on {a.iface}")


def cmd_tun_pair(a):
    """A point-to-point L3 link (no Ethernet header, as WireGuard, GRE or
    PPP give): tun IF_A in NS_A and tun IF_B in NS_B, every packet of one
    written to the other, until killed."""
    ends = [_tun_open(a.ns_a, a.if_a), _tun_open(a.ns_b, a.if_b)]
    print(f"listening tun pair {a.ns_a}/{a.if_a} <-> {a.ns_b}/{a.if_b}", flush=True)
    while True:
        ready, _, _ = select.select(ends, [], [])
        for fd in ready:
            try:
                os.write(ends[1 - ends.index(fd)], os.read(fd, 65536))
            except OSError:
                pass  # the other end is down: the packet is lost, as on a link


def cmd_udp_sink(a):
    """Log every datagram: arrival time, source, ingress interface, length, head, integrity."""
    s = _pktinfo_socket(family(a.addr))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    s.bind((a.addr, a.port))
    logf = open(a.log, "a")
    print(f"listening udp {a.addr}:{a.port}", flush=True)
    while True:
        data, src, iface = _recv_with_iface(s)
        src = peer_of(src)
        head = data.split(b"\n", 1)[0][:80].decode("latin-1")
        log_json(logf, t=time.time(), src=src[0], sport=src[1], iface=iface, len=len(data),
                 head=head, intact=_big_intact(data))


def cmd_udp_flows(a):
    """COUNT flows from SRC:BASE.. to DST, PACKETS datagrams each (GAP s apart);
    SENT_LOG gets a JSON line per flow (src, port, t of its first datagram)."""
    dst = hostport(a.dst)
    sent = open(a.sent_log, "a") if a.sent_log else None
    for i in range(a.count):
        port = a.base_port + i
        with socket.socket(family(a.src), socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a.src, port))
            if sent:
                log_json(sent, src=a.src, port=port, t=time.time())
            for k in range(a.packets):
                s.sendto(f"flow {a.src} {port} {k} {time.time():.6f}".encode(), dst)
        if a.gap:
            time.sleep(a.gap)
        elif i % 25 == 24:
            time.sleep(0.005)


def cmd_udp_big(a):
    """COUNT datagrams of SIZE bytes (random body, sha256 in the header)."""
    dst = hostport(a.dst)
    for i in range(a.count):
        port = a.base_port + i
        hdr_len = len(BIG_MAGIC) + 1 + len(a.src) + 1 + 5 + 1 + 64 + 1
        body = os.urandom(a.size - hdr_len)
        head = b"%s %s %05d %s\n" % (BIG_MAGIC, a.src.encode(), port,
                                      hashlib.sha256(body).hexdigest().encode())
        payload = head + body
        assert len(payload) == a.size, (len(payload), a.size)
        with socket.socket(family(a.src), socket.SOCK_DGRAM) as s:
            s.bind((a.src, port))
            s.sendto(payload, dst)
        time.sleep(0.01)


def cmd_udp_stream(a):
    """COUNT long-lived flows from SRC:BASE.. to DST, each sending a datagram
    every GAP s for DURATION s (or until SIGTERM)."""
    dst = hostport(a.dst)
    socks = []
    for i in range(a.count):
        s = socket.socket(family(a.src), socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.src, a.base_port + i))
        socks.append(s)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"streaming {a.count} flows from {a.src}", flush=True)
    start = tick = time.time()
    seq = errors = 0
    while tick < start + a.duration:
        for i, s in enumerate(socks):
            try:
                s.sendto(f"flow {a.src} {a.base_port + i} {seq} {time.time():.6f}".encode(), dst)
            except OSError:
                errors += 1
        seq += 1
        tick += a.gap
        time.sleep(max(0.0, tick - time.time()))
    print(f"sent {seq} rounds, {errors} send errors", flush=True)


# ---- identity service (inbound tests) -----------------------------------------

def cmd_ident_server(a):
    """Answer TCP and UDP on PORT with 'ident <address the packet was sent to>'."""
    class H(socketserver.BaseRequestHandler):
        def handle(self):
            local = self.request.getsockname()[0]
            peer = self.request.getpeername()[0]
            self.request.sendall(f"ident {local} {a.name} peer {peer}\n".encode())

    srv = _tcp_server(a.addr, a.port, H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    u = socket.socket(family(a.addr), socket.SOCK_DGRAM)
    u.bind((a.addr, a.port))
    print(f"listening tcp+udp {a.addr}:{a.port}", flush=True)
    while True:
        _data, src = u.recvfrom(2048)
        u.sendto(f"ident {a.addr} {a.name} peer {src[0]}\n".encode(), src)


def cmd_ident_query(a):
    """Ask an identity server; print 'reply<TAB>from<TAB>iface' ('-': none)."""
    target = hostport(a.target)
    fam = family(target[0])
    bind = a.bind or any_addr(fam)
    out = {"reply": None, "from": None, "iface": None}
    try:
        if a.proto == "tcp":
            s = socket.socket(fam)
            s.settimeout(a.timeout)
            s.bind((bind, 0))
            s.connect(target)
            out["from"] = s.getpeername()[0]
            out["reply"] = s.makefile().readline().strip()
        else:
            s = _pktinfo_socket(fam)
            s.settimeout(a.timeout)
            s.bind((bind, 0))
            s.sendto(b"who", target)
            data, src, iface = _recv_with_iface(s)
            out.update(reply=data.decode().strip(), iface=iface)
            out["from"] = src[0]
    except OSError as e:
        out["reply"] = f"error: {e}"
    print("\t".join(str(out[k] or "-") for k in ("reply", "from", "iface")))


def cmd_udp_burst(a):
    """COUNT new UDP flows at once from SRC:BASE.. to an ident-server, a patient
    client: unanswered flows ask again every second until WAIT s have passed.
    Prints one JSON line: answered, count, and the sources the server saw."""
    target = hostport(a.dst)
    fam = family(target[0])
    socks = {}
    for i in range(a.count):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind((a.src, a.base_port + i))
        socks[s.fileno()] = s
    peers, answered = {}, set()
    start = time.monotonic()
    poller = select.poll()
    for fd in socks:
        poller.register(fd, select.POLLIN)
    next_round, rounds = start, 0
    while len(answered) < a.count and time.monotonic() - start < a.wait:
        if time.monotonic() >= next_round:
            for fd, s in socks.items():
                if fd not in answered:
                    try:
                        s.sendto(b"who", target)
                    except OSError:
                        pass
            rounds += 1
            next_round += 1.0
        for fd, _ev in poller.poll(50):
            try:
                data = socks[fd].recv(2048).decode().split()
            except OSError:
                continue
            if fd in answered or "peer" not in data:
                continue
            answered.add(fd)
            peer = data[data.index("peer") + 1]
            peers[peer] = peers.get(peer, 0) + 1
    print(json.dumps({"answered": len(answered), "count": a.count, "rounds": rounds,
                      "seconds": round(time.monotonic() - start, 2), "peers": peers}), flush=True)


# ---- checks -----------------------------------------------------------------

def cmd_burst_check(a):
    """Check a udp-burst result (stdin): every flow answered, the server seeing
    exactly the sources in --want (comma-separated); print it or the failure."""
    r = json.loads(sys.stdin.read())
    want = sorted(a.want.split(","))
    n, count, peers = r["answered"], r["count"], sorted(r["peers"])
    if n != count:
        print(f"{n} of {count} flows answered within {r['seconds']} s")
        return 1
    if peers != want:
        print(f"the server saw {peers}, want {want}")
        return 1
    print(f"{n} of {count} answered in {r['seconds']} s: {r['peers']}")
    return 0

def _read_log(path):
    """The JSON lines of a log; a last line still being written is left out."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip() and line.endswith("\n")]


def _nat_table(items):
    """'10.250.250.2,att,198.51.100.193' ... -> {internal: {wan: public}}
    (',' or, for IPv4 only, ':' between the fields)."""
    table = {}
    for item in items:
        internal, wan, public = item.split("," if "," in item else ":")
        table.setdefault(internal, {})[wan] = public
    return table


def cmd_flows_check(a):
    """Check the udp-flows seen by a sink; print a summary or the failure."""
    nat = _nat_table(a.nat)
    wan_of = {pub: wan for m in nat.values() for wan, pub in m.items()}
    flows = {}
    for rec in _read_log(a.log):
        parts = rec["head"].split()
        if len(parts) != 5 or parts[0] != "flow":
            continue
        flows.setdefault((parts[1], int(parts[2])), set()).add((rec["src"], rec["iface"]))
    per_wan = {w: 0 for w in a.wans}
    per_host = {}
    errors = []
    for (internal, port), seen in sorted(flows.items()):
        if len(seen) != 1:
            errors.append(f"flow {internal}:{port} seen from {sorted(seen)}")
            continue
        src, iface = next(iter(seen))
        wan = wan_of.get(src)
        if wan is None or nat.get(internal, {}).get(wan) != src:
            errors.append(f"flow {internal}:{port} arrived from {src} (not its public address)")
            continue
        if a.iface and iface != a.iface[wan]:
            errors.append(f"flow {internal}:{port} via {wan} arrived on {iface}")
            continue
        per_wan[wan] += 1
        per_host.setdefault(internal, set()).add(wan)
    total = sum(per_wan.values())
    pct = {w: (100.0 * n / total if total else 0.0) for w, n in per_wan.items()}
    summary = (f"flows seen {len(flows)}/{a.expect}, "
               + ", ".join(f"{w} {per_wan[w]} ({pct[w]:.1f}%)" for w in a.wans))
    if a.aspect == "sources":
        missing = a.expect - len(flows)
        if errors:
            return _verdict(False, f"{len(errors)} bad flows, first: {errors[0]}; {summary}")
        if missing > 0:
            return _verdict(False, f"{missing} flows never arrived; {summary}")
        return _verdict(True, summary)
    weights = dict(w.split("=") for w in a.weights.split(","))
    wsum = sum(int(v) for v in weights.values())
    for w in a.wans:
        want = 100.0 * int(weights[w]) / wsum
        if abs(pct[w] - want) > a.tolerance:
            return _verdict(False, f"{w} got {pct[w]:.1f}% of flows, want {want:.0f}±{a.tolerance:g}; {summary}")
    unused = [h for h in nat if per_host.get(h) != set(a.wans)]
    if unused:
        return _verdict(False, f"hosts not using every WAN: {unused}; {summary}")
    return _verdict(True, summary)


def cmd_big_check(a):
    """Check udp-big datagrams: all COUNT per source intact, SIZE bytes, right public source."""
    nat = _nat_table(a.nat)
    got = {}
    for rec in _read_log(a.log):
        parts = rec["head"].split()
        if len(parts) != 4 or parts[0] != BIG_MAGIC.decode():
            continue
        key = (parts[1], int(parts[2]))
        if rec["len"] != a.size or rec["intact"] is not True:
            return _verdict(False, f"datagram {key} from {rec['src']}: {rec['len']} bytes, intact={rec['intact']}")
        if rec["src"] not in nat.get(parts[1], {}).values():
            return _verdict(False, f"datagram {key} arrived from {rec['src']} (not its public address)")
        got[key] = rec["src"]
    if len(got) < a.expect:
        return _verdict(False, f"only {len(got)}/{a.expect} datagrams arrived whole")
    srcs = sorted(set(got.values()))
    return _verdict(True, f"{len(got)} datagrams of {a.size} bytes intact, from {', '.join(srcs)}")


def _verdict(ok, msg):
    print(msg)
    return 0 if ok else 1


def _counter_total(node, name):
    """Find counter NAME anywhere in bpfctl's JSON; sum per-CPU/per-WAN parts."""
    def total(v):
        if isinstance(v, bool):
            return 0
        if isinstance(v, (int, float)):
            return v
        if isinstance(v, dict):
            for k in ("count", "value", "packets", "total"):
                if k in v:
                    return total(v[k])
            return sum(total(x) for x in v.values())
        if isinstance(v, list):
            return sum(total(x) for x in v)
        return 0

    found = []

    def walk(v):
        if isinstance(v, dict):
            if v.get("name") == name:
                found.append(total({k: x for k, x in v.items() if k != "name"}))
            for k, x in v.items():
                if k == name:
                    found.append(total(x))
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(node)
    return found


def cmd_counter(a):
    """Print the value of counter NAME from bpfctl -j JSON on stdin."""
    doc = json.load(sys.stdin)
    found = _counter_total(doc, a.name)
    if not found:
        print(f"no counter {a.name!r} in bpfctl output", file=sys.stderr)
        return 1
    print(int(sum(found)))
    return 0


def cmd_unmapped_check(a):
    """Check `bpfctl -j stats` on stdin: SRC is listed among the unmapped
    sources with at least MIN packets, the last to DST, and its WAN counted
    as many internal_src_on_wan drops (none elsewhere); print a summary."""
    doc = json.load(sys.stdin)
    u = [x for x in doc.get("unmapped", []) if x["src"] == a.src]
    if not u or u[0]["packets"] < a.min or u[0]["dst"] != a.dst or not u[0]["wan"]:
        print(f"unmapped sources: {doc.get('unmapped')}")
        return 1
    by = {d["name"]: d["drops"] for d in doc.get("drops_by_wan", [])}
    wan = u[0]["wan"]
    n = by.get(wan, {}).get("internal_src_on_wan", 0)
    if n < a.min or sum(by.get("other", {}).values()):
        print(f"drops_by_wan: {by}")
        return 1
    print(f"{a.src}: {u[0]['packets']} packets to {a.dst} via {wan}; internal_src_on_wan at {wan}: {n}")
    return 0


def cmd_wan_field(a):
    """Print field FIELD of WAN NAME from `bpfctl -j status` on stdin (a list
    as its items joined by commas)."""
    doc = json.load(sys.stdin)
    for w in doc.get("wans", []):
        if w.get("name") == a.name:
            v = w.get(a.field)
            print(",".join(map(str, v)) if isinstance(v, list) else v)
            return 0
    print(f"no WAN {a.name!r} in bpfctl status", file=sys.stderr)
    return 1


def cmd_attach_check(a):
    """Check the kernel, attach modes and verifier budget in `bpfctl -j status`
    on stdin; print them in one line, or the failure."""
    doc = json.load(sys.stdin)
    bad = []
    if doc.get("kernel") != a.kernel:
        bad.append(f"kernel {doc.get('kernel')!r}, want {a.kernel!r}")
    ifaces = {i["name"]: i for i in doc.get("interfaces", [])}
    for name in a.ifaces.split(","):
        i = ifaces.get(name)
        if not i:
            bad.append(f"no interface {name}")
            continue
        got = (i.get("xdp_mode"), i.get("dispatcher"), i.get("tc_mode"))
        if got != (a.xdp_mode, "single", "clsact"):
            bad.append(f"{name}: xdp_mode/dispatcher/tc_mode {got}")
    progs = {p["name"]: p for p in doc.get("programs", [])}
    # mwan_hostmask is loaded, never attached: the loader runs it (BPF_PROG_TEST_RUN)
    if sorted(progs) != ["mwan_hostmask", "mwan_tc_in", "mwan_tc_out", "mwan_xdp"]:
        bad.append(f"programs {sorted(progs)}")
    for p in progs.values():
        if not 0 < p.get("verified_insns", 0) or not 0 < p.get("limit_pct", 0) <= 60:
            bad.append(f"{p['name']}: {p.get('verified_insns')} insns, {p.get('limit_pct')} %")
    if bad:
        print("; ".join(bad))
        return 1
    print(f"kernel {doc['kernel']}: " + ", ".join(
        f"{n} {i['xdp_mode']}/{i['tc_mode']}" for n, i in sorted(ifaces.items())) + "; " + ", ".join(
        f"{n} {p['verified_insns']} insns ({p['limit_pct']} %)" for n, p in sorted(progs.items())))
    return 0


# ---- failover: WAN state timeline, flows around an event --------------------------

def cmd_wan_targets(a):
    """Print WAN NAME's probe targets from `bpfctl -j status` on stdin, one a
    line: address sent received loss_pct rtt_avg_ms jitter_ms."""
    doc = json.load(sys.stdin)
    for w in doc.get("wans", []):
        if w.get("name") == a.name:
            for t in w.get("targets") or []:
                print(*(t.get(k) for k in ("address", "sent", "received", "loss_pct", "rtt_avg_ms",
                                           "jitter_ms")))
            return 0
    print(f"no WAN {a.name!r} in bpfctl status", file=sys.stderr)
    return 1


WATCH_FIELDS = ("state", "health", "usable", "link", "reason", "holding", "admin")


def _write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def cmd_status_watch(a):
    """Run CMD (bpfctl -j status) every INTERVAL s; log each WAN's state fields
    when they change (time: when the answer came); LOG.last: the last poll.
    Says "watching" once the first poll is logged."""
    last = {}
    with open(a.log, "a") as logf:
        while True:
            t0 = time.time()
            try:
                out = subprocess.run(a.cmd, capture_output=True, check=True, timeout=5).stdout
                wans = json.loads(out).get("wans", [])
            except (OSError, ValueError, subprocess.SubprocessError) as e:
                log_json(logf, t=time.time(), error=str(e)[:200])
                wans = []
            t = time.time()
            for w in wans:
                cur = {k: w.get(k) for k in WATCH_FIELDS}
                if last.get(w.get("name")) != cur:
                    last[w.get("name")] = cur
                    log_json(logf, t=t, wan=w.get("name"), **cur)
            if not os.path.exists(a.log + ".last"):
                print(f"watching every {a.interval:g} s", flush=True)
            _write_atomic(a.log + ".last", f"{t:.6f}\n")
            time.sleep(max(0.0, t0 + a.interval - time.time()))


def _watch(path, wan):
    """WAN's records in a status-watch LOG (oldest first) and when it last polled."""
    recs = [r for r in _read_log(path) if r.get("wan") == wan] if os.path.exists(path) else []
    try:
        with open(path + ".last") as f:
            last = float(f.read())
    except (OSError, ValueError):
        last = 0.0
    return recs, last


def _at(recs, t):
    """The record in force at time T (None before the first)."""
    cur = None
    for r in recs:
        if r["t"] > t:
            break
        cur = r
    return cur


def _desc(r, fields=("state", "health", "reason")):
    return " ".join(f"{k}={r.get(k)}" for k in fields) if r else "nothing known"


def _same(v, want):
    return str(v).lower() == str(want).lower()


def _result(a, ok, msg, **metrics):
    """A check's verdict; with --json, the metrics as the last line instead."""
    if getattr(a, "json", False):
        print(msg)
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in metrics.items()}))
        return 0 if ok else 1
    return _verdict(ok, msg)


def cmd_watch_wait(a):
    """Wait until WAN's FIELD is VALUE at or after SINCE (at most WAIT s after
    it); the delay after SINCE must lie within MIN..MAX."""
    while True:
        recs, last = _watch(a.log, a.wan)
        hit = next((r for r in recs if r["t"] >= a.since and _same(r.get(a.field), a.value)), None)
        before = _at(recs, a.since)
        if hit is None and before is not None and _same(before.get(a.field), a.value):
            hit = dict(before, t=a.since)
        if hit is not None:
            break
        now = time.time()
        if now > a.since + a.wait:
            return _result(a, False, f"{a.wan}: {a.field} not {a.value} {now - a.since:.1f} s after SINCE "
                           f"({_desc(recs[-1] if recs else None)})", delay_s=None)
        if last and now - last > 3:
            return _result(a, False, f"status-watch stalled: last poll {now - last:.1f} s ago", delay_s=None)
        time.sleep(0.05)
    delay = hit["t"] - a.since
    msg = f"{a.wan}: {a.field}={a.value} {delay:.3f} s after SINCE ({_desc(hit)})"
    if a.max is not None and delay > a.max:
        return _result(a, False, f"{msg}, later than {a.max:g} s", delay_s=delay)
    if a.min is not None and delay < a.min:
        return _result(a, False, f"{msg}, sooner than {a.min:g} s", delay_s=delay)
    return _result(a, True, msg, delay_s=delay)


def cmd_watch_steady(a):
    """WAN's FIELDS did not change between SINCE and UNTIL and were EXPECT
    (k=v,...) at SINCE."""
    fields = a.fields.split(",")
    for _ in range(60):
        recs, last = _watch(a.log, a.wan)
        if last >= a.until:
            break
        time.sleep(0.05)
    else:
        return _verdict(False, f"status-watch did not poll past UNTIL (last poll {a.until - last:.1f} s before)")
    start = _at(recs, a.since)
    if start is None:
        return _verdict(False, f"status-watch knew nothing of {a.wan} at SINCE")
    for kv in filter(None, (a.expect or "").split(",")):
        k, v = kv.split("=", 1)
        if not _same(start.get(k), v):
            return _verdict(False, f"{a.wan}: {k}={start.get(k)} at SINCE, want {v} ({_desc(start)})")
    changes = [r for r in recs if a.since < r["t"] <= a.until
               and any(r.get(f) != start.get(f) for f in fields)]
    if changes:
        c = changes[0]
        return _verdict(False, f"{a.wan} changed {c['t'] - a.since:.2f} s after SINCE: "
                        f"{_desc(start, fields)} -> {_desc(c, fields + ['reason'])} "
                        f"({len(changes)} changes in {a.until - a.since:.0f} s)")
    return _verdict(True, f"{a.wan}: {_desc(start, fields)} throughout {a.until - a.since:.1f} s "
                    f"(reason {start.get('reason')})")


def _sink_flows(path, nat, lo=0, hi=65535):
    """{(internal, port): [(t, wan, src, sport), ...]}: the udp-flows/udp-stream
    datagrams with ports LO..HI a udp-sink LOG saw, in arrival order; wan is
    "?SRC" when SRC is not the host's public address on any WAN."""
    wan_of = {pub: wan for m in nat.values() for wan, pub in m.items()}
    flows = {}
    for r in _read_log(path) if os.path.exists(path) else []:
        parts = r["head"].split()
        if len(parts) != 5 or parts[0] != "flow" or not lo <= int(parts[2]) <= hi:
            continue
        wan = wan_of.get(r["src"])
        if nat.get(parts[1], {}).get(wan) != r["src"]:
            wan = "?" + r["src"]
        flows.setdefault((parts[1], int(parts[2])), []).append((r["t"], wan, r["src"], r["sport"]))
    for v in flows.values():
        v.sort()
    return flows


def _ports(text):
    lo, _, hi = text.partition("-")
    return int(lo), int(hi or lo)


def _max_gap(arrivals, since, until):
    ts = [x[0] for x in arrivals if since - 1 <= x[0] <= until]
    return max((b - a for a, b in zip(ts, ts[1:])), default=0.0)


def _stream_moved(a, flows):
    moved, untouched, errors, gap = [], 0, [], 0.0
    for key, arr in sorted(flows.items()):
        before = [x for x in arr if x[0] < a.since]
        after = [x for x in arr if x[0] >= a.since]
        name = f"{key[0]}:{key[1]}"
        if not before:
            errors.append(f"{name}: nothing arrived before SINCE")
        elif before[-1][1] == a.old:
            first = next((i for i, x in enumerate(after) if x[1] == a.new), None)
            if first is None:
                errors.append(f"{name} (on {a.old}): nothing via {a.new} after SINCE "
                              f"({len(after)} datagrams after SINCE)")
            elif any(x[1] != a.new for x in after[first:]):
                bad = next(x for x in after[first:] if x[1] != a.new)
                errors.append(f"{name} (on {a.old}): via {bad[1]} {bad[0] - a.since:.3f} s after SINCE, "
                              f"after it had moved to {a.new}")
            else:
                moved.append(after[first][0] - a.since)
        elif before[-1][1] == a.new:
            pairs = sorted({(x[2], x[3]) for x in arr})
            if len(pairs) != 1:
                errors.append(f"{name} (on {a.new}): arrived as {pairs}")
            untouched += 1
            gap = max(gap, _max_gap(arr, a.since, a.until or arr[-1][0]))
        else:
            errors.append(f"{name}: on {before[-1][1]} before SINCE, neither {a.old} nor {a.new}")
    return moved, untouched, errors, gap


def cmd_stream_check(a):
    """Long-lived flows (ports LO-HI) a udp-sink LOG saw around an event at
    SINCE. moved: each flow on OLD before SINCE arrives via NEW after it (the
    first within LIMIT s) and never via OLD again; each flow on NEW keeps its
    source address and port (longest gap: GAP_MAX s at most). stay: every flow
    keeps its WAN, source and port from SINCE to UNTIL and is still sending."""
    lo, hi = _ports(a.ports)
    flows = _sink_flows(a.log, _nat_table(a.nat), lo, hi)
    if not flows:
        return _result(a, False, f"no datagram from ports {a.ports} arrived")
    if a.aspect == "stay":
        return _stream_stay(a, flows)
    if a.aspect == "lossless":
        return _stream_lossless(a, lo, hi)
    moved, untouched, errors, gap = _stream_moved(a, flows)
    if errors:
        return _result(a, False, f"{len(errors)} flows wrong, first: {errors[0]}")
    summary = (f"{len(moved)} flows on {a.old} moved to {a.new}, first datagram via {a.new} "
               f"{min(moved, default=0):.3f}..{max(moved, default=0):.3f} s after SINCE; "
               f"{untouched} on {a.new} kept source and port, longest gap {gap:.3f} s")
    metrics = dict(moved=len(moved), moved_first_s=min(moved, default=None),
                   moved_last_s=max(moved, default=None), untouched=untouched, gap_s=gap)
    if not moved or not untouched:
        return _result(a, False, f"need flows on both {a.old} and {a.new} before SINCE: {summary}", **metrics)
    if a.limit is not None and max(moved) > a.limit:
        return _result(a, False, f"a moved flow took longer than {a.limit:g} s: {summary}", **metrics)
    if a.gap_max is not None and gap > a.gap_max:
        return _result(a, False, f"a flow on {a.new} paused longer than {a.gap_max:g} s: {summary}", **metrics)
    return _result(a, True, summary, **metrics)


def _stream_lossless(a, lo, hi):
    """Every flow's datagrams 0..N all arrived, once each, by one WAN from one
    public source and port, with N at least the last round its host's other
    flows reached minus one (a sender may stop mid-round); flows on at least
    two WANs."""
    nat = _nat_table(a.nat)
    wan_of = {pub: wan for m in nat.values() for wan, pub in m.items()}
    seqs, via = {}, {}
    for r in _read_log(a.log):
        parts = r["head"].split()
        if len(parts) != 5 or parts[0] != "flow" or not lo <= int(parts[2]) <= hi:
            continue
        key = (parts[1], int(parts[2]))
        seqs.setdefault(key, []).append(int(parts[3]))
        via.setdefault(key, set()).add((wan_of.get(r["src"], "?" + r["src"]), r["src"], r["sport"]))
    last = {}  # each host's stream counts its own rounds
    for (src, _), got in seqs.items():
        last[src] = max(last.get(src, 0), max(got))
    errors, per_wan, total = [], {}, 0
    for key, got in sorted(seqs.items()):
        name = f"{key[0]}:{key[1]}"
        want = set(range(max(got) + 1))
        missing = sorted(want - set(got))
        if missing:
            errors.append(f"{name}: {len(missing)} of {max(got) + 1} datagrams lost, first seq {missing[0]}")
        if len(got) != len(set(got)):
            errors.append(f"{name}: {len(got) - len(set(got))} duplicates")
        if max(got) < last[key[0]] - 1:
            errors.append(f"{name}: stopped at seq {max(got)}, its host's others reached {last[key[0]]}")
        if len(via[key]) != 1:
            errors.append(f"{name}: arrived as {sorted(via[key])} (moved)")
        wan = sorted(via[key])[0][0]
        per_wan[wan] = per_wan.get(wan, 0) + 1
        total += len(got)
    where = ", ".join(f"{n} on {w}" for w, n in sorted(per_wan.items()))
    if errors:
        return _result(a, False, f"{len(errors)} problems, first: {errors[0]} ({where})")
    if len(per_wan) < 2 or any(w.startswith("?") for w in per_wan):
        return _result(a, False, f"want flows on two WANs, all translated: {where}")
    return _result(a, True, f"{len(seqs)} flows, {total} datagrams, none lost, duplicated or moved "
                   f"({where})", flows=len(seqs), datagrams=total)


def _stream_stay(a, flows):
    per_wan, errors = {}, []
    until = a.until or max(arr[-1][0] for arr in flows.values())
    for key, arr in sorted(flows.items()):
        before = [x for x in arr if x[0] < a.since]
        after = [x for x in arr if a.since <= x[0] <= until]
        name = f"{key[0]}:{key[1]}"
        if not before or not after or after[-1][0] < until - 1:
            errors.append(f"{name}: not sending throughout ({len(before)} datagrams before SINCE, "
                          f"{len(after)} after)")
            continue
        changed = [x for x in after if (x[1], x[2], x[3]) != before[-1][1:]]
        if changed:
            errors.append(f"{name}: on {before[-1][1]} at SINCE, via {changed[0][1]} "
                          f"({changed[0][2]}:{changed[0][3]}) {changed[0][0] - a.since:.3f} s after")
        per_wan[before[-1][1]] = per_wan.get(before[-1][1], 0) + 1
    where = ", ".join(f"{n} on {w}" for w, n in sorted(per_wan.items()))
    if errors:
        return _result(a, False, f"{len(errors)} flows wrong, first: {errors[0]}")
    return _result(a, True, f"{len(flows)} flows kept WAN, source and port for {until - a.since:.1f} s "
                   f"after SINCE ({where})")


def cmd_new_flows(a):
    """New flows (udp-flows --sent-log SENT) started from SINCE to UNTIL and
    the WAN each arrived by (udp-sink LOG). switch: every flow started LIMIT s
    after SINCE or later arrived via WAN (prints since when they all did);
    first: the first to arrive via WAN started MIN..MAX s after SINCE; none:
    every flow arrived, none via WAN."""
    sink = _sink_flows(a.log, _nat_table(a.nat))
    sent = sorted((r["t"], r["src"], r["port"]) for r in _read_log(a.sent)
                  if a.since <= r["t"] < (a.until or float("inf")))
    if not sent:
        return _result(a, False, "no flow was started in the window")

    def via(f):
        arr = sink.get((f[1], f[2]))
        return arr[0][1] if arr else None

    hits = [f for f in sent if via(f) == a.wan]
    lost = [f for f in sent if via(f) is None]
    tally = f"{len(hits)}/{len(sent)} via {a.wan}, {len(lost)} lost"
    if a.aspect == "none":
        ok = not hits and not lost
        return _result(a, ok, f"{len(sent)} new flows: {tally}" if ok else
                       f"{tally} (want all to arrive, none via {a.wan})")
    if a.aspect == "first":
        if not hits:
            return _result(a, False, f"no new flow arrived via {a.wan}: {tally}", first_s=None)
        d = hits[0][0] - a.since
        msg = f"the first new flow via {a.wan} started {d:.3f} s after SINCE; {tally}"
        if any(f[0] > hits[0][0] for f in lost):
            return _result(a, False, f"{msg}, and flows started after it were lost", first_s=d)
        ok = (a.min is None or d >= a.min) and (a.max is None or d <= a.max)
        return _result(a, ok, msg if ok else f"{msg}: want {a.min}..{a.max} s", first_s=d)
    bad = [f for f in sent if via(f) != a.wan]
    switch = max((f[0] for f in bad), default=a.since) - a.since
    late = [f for f in bad if f[0] >= a.since + a.limit]
    after = [f for f in sent if f[0] >= a.since + a.limit]
    if late:
        return _result(a, False, f"{len(late)}/{len(after)} flows started {a.limit:g} s after SINCE or later "
                       f"not via {a.wan}; the first started {late[0][0] - a.since:.3f} s after, "
                       f"{'lost' if via(late[0]) is None else 'via ' + via(late[0])}; {tally}", switch_s=switch)
    if len(after) < 3:
        return _result(a, False, f"only {len(after)} flows started {a.limit:g} s after SINCE or later",
                       switch_s=switch)
    last = f" (the last other one {'was lost' if via(bad[-1]) is None else 'went via ' + via(bad[-1])})" if bad else ""
    return _result(a, True, f"every new flow started {switch:.3f} s after SINCE or later went via "
                   f"{a.wan}{last}; {tally}", switch_s=switch)


def _bpf_flows(path, lo, hi):
    with open(path) as f:
        doc = json.load(f)
    return {(x["src"], x["sport"]): (x["wan"], x.get("moves", 0)) for x in doc
            if x.get("proto") == "udp" and lo <= x["sport"] <= hi}


def cmd_flows_compare(a):
    """`bpfctl -j flows` BEFORE and AFTER an event, UDP flows from ports LO-HI.
    moved: those on OLD are on NEW with more moves, those on NEW still are
    with moves 0; stay: every flow kept its WAN and its moves."""
    lo, hi = _ports(a.ports)
    before, after = _bpf_flows(a.before, lo, hi), _bpf_flows(a.after, lo, hi)
    if not before:
        return _verdict(False, f"bpfctl showed no UDP flow from ports {a.ports} before")
    errors, n = [], {}
    for key, (wan, moves) in sorted(before.items()):
        now = after.get(key)
        want = (wan, moves)
        if a.aspect == "moved" and wan == a.old:
            want = (a.new, None)
        elif a.aspect == "moved" and (wan != a.new or moves != 0):
            errors.append(f"{key[0]}:{key[1]} was on {wan} with moves {moves} before")
            continue
        if now is None:
            errors.append(f"{key[0]}:{key[1]} is gone")
        elif now[0] != want[0] or (want[1] is not None and now[1] != want[1]) or \
                (want[1] is None and now[1] <= moves):
            errors.append(f"{key[0]}:{key[1]}: wan {wan} moves {moves} -> wan {now[0]} moves {now[1]}")
        n[wan] = n.get(wan, 0) + 1
    where = ", ".join(f"{c} were on {w}" for w, c in sorted(n.items()))
    if errors:
        return _verdict(False, f"{len(errors)} flows wrong ({where}), first: {errors[0]}")
    if a.aspect == "moved":
        if not n.get(a.old) or not n.get(a.new):
            return _verdict(False, f"need flows on both {a.old} and {a.new} before: {where}")
        return _verdict(True, f"{n[a.old]} flows on {a.old} now on {a.new} with moves >= 1, "
                        f"{n[a.new]} on {a.new} still there with moves 0")
    return _verdict(True, f"{len(before)} flows kept WAN and moves ({where})")


def cmd_bench_report(a):
    """Median/min/max of each metric over the runs (JSON lines in RUNS), beside
    the reference figures in REFS; writes OUT.json and OUT.md."""
    runs = _read_log(a.runs)
    with open(a.refs) as f:
        refs = json.load(f)
    summary = {}
    for m in refs["metrics"]:
        vals = [r[m["key"]] for r in runs if r.get(m["key"]) is not None]
        summary[m["key"]] = dict(label=m["label"], n=len(vals), values=vals,
                                 median=statistics.median(vals) if vals else None,
                                 min=min(vals, default=None), max=max(vals, default=None))
    doc = dict(generated=time.strftime("%Y-%m-%dT%H:%M:%S%z"), setup=refs["setup"],
               summary=summary, references=refs["references"], runs=runs)
    with open(a.out + ".json", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    def s(v):
        return "-" if v is None else f"{v:.3f}"

    lines = [f"# mwan failover benchmark ({doc['generated']})", "", refs["setup"], "",
             "| mwan, measured | median s | min s | max s | runs |", "|---|---|---|---|---|"]
    for m in summary.values():
        lines.append(f"| {m['label']} | {s(m['median'])} | {s(m['min'])} | {s(m['max'])} | {m['n']} |")
    lines += ["", "| documented defaults (not measured) | failover | fail-back | derivation |",
              "|---|---|---|---|"]
    for r in refs["references"]:
        lines.append(f"| {r['name']} | {r['failover']} | {r['failback']} | {r['derivation']} |")
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


# ---- NPTv6 (RFC 6296), computed here independently of mwan ---------------------

def _ones_add(a, b):
    s = a + b
    return (s & 0xFFFF) + (s >> 16)


def _words(addr):
    return list(struct.unpack("!8H", addr.packed))


def npt_external_prefix(delegated, subnet, plen):
    """Subnet number SUBNET of length PLEN inside the delegated prefix."""
    d = ipaddress.IPv6Network(delegated)
    if plen < d.prefixlen or subnet >> (plen - d.prefixlen):
        raise ValueError(f"subnet {subnet:#x} /{plen} does not fit in {d}")
    base = int(d.network_address) | subnet << (128 - plen)
    return ipaddress.IPv6Network((base, plen))


def npt_translate(addr, inside, outside):
    """RFC 6296 §3: ADDR in prefix INSIDE rewritten into OUTSIDE (same
    length), checksum-neutral; None where the RFC says to drop."""
    addr = ipaddress.IPv6Address(addr)
    inside, outside = ipaddress.IPv6Network(inside), ipaddress.IPv6Network(outside)
    plen = inside.prefixlen
    assert outside.prefixlen == plen and addr in inside, (addr, inside, outside)
    adj = 0
    for w in _words(inside.network_address):
        adj = _ones_add(adj, w)
    for w in _words(outside.network_address):
        adj = _ones_add(adj, w ^ 0xFFFF)
    host = int(addr) & ((1 << (128 - plen)) - 1)
    words = _words(ipaddress.IPv6Address(int(outside.network_address) | host))
    if plen <= 48:
        i = 3
        if words[i] == 0xFFFF:
            return None
    else:
        i = next((k for k in range(4, 8) if words[k] != 0xFFFF), None)
        if i is None:
            return None
    w = _ones_add(words[i], adj)
    words[i] = 0 if w == 0xFFFF else w  # erratum 3033
    return ipaddress.IPv6Address(struct.pack("!8H", *words))


def _npt_selftest():
    """The RFC 6296 §3.2/3.3 example, and a round trip."""
    inside, outside = "fd01:203:405::/48", "2001:db8:1::/48"
    out = npt_translate("fd01:203:405:1::1234", inside, outside)
    assert str(out) == "2001:db8:1:d550::1234", out
    assert str(npt_translate(out, outside, inside)) == "fd01:203:405:1::1234"


def cmd_npt(a):
    """Print each ADDR's translation into the external /LEN: subnet SUBNET of DELEGATED."""
    _npt_selftest()
    inside = ipaddress.IPv6Network(a.internal)
    outside = npt_external_prefix(a.delegated, int(a.subnet, 0), inside.prefixlen)
    if not a.addr:
        print(outside)
    for addr in a.addr:
        out = npt_translate(addr, inside, outside)
        back = npt_translate(out, outside, inside)
        assert back == ipaddress.IPv6Address(addr), (addr, out, back)
        print(out)


def cmd_switch_check(a):
    """After a prefix change whose hook ran at SINCE, the flows a udp-sink
    LOG saw: each from OLD or NEW, none from OLD once one came from NEW, and
    every flow started LIMIT s after SINCE or later from NEW."""
    flows = []
    for r in _read_log(a.log):
        parts = r["head"].split()
        if len(parts) == 5 and parts[0] == "flow" and float(parts[4]) >= a.since:
            flows.append((float(parts[4]) - a.since, r["t"] - a.since, r["src"]))
    flows.sort()
    if not flows:
        return _verdict(False, "no flow arrived")
    bad = [f for f in flows if f[2] not in (a.old, a.new)]
    if bad:
        return _verdict(False, f"a flow started {bad[0][0]:.3f} s after the hook came from {bad[0][2]}")
    first_new = next((i for i, f in enumerate(flows) if f[2] == a.new), None)
    if first_new is None:
        return _verdict(False, f"none of {len(flows)} flows (started up to {flows[-1][0]:.3f} s "
                        f"after the hook) came from {a.new}")
    late_old = [f for f in flows[first_new:] if f[2] == a.old]
    if late_old:
        return _verdict(False, f"a flow started {late_old[0][0]:.3f} s after the hook came from the "
                        f"old {a.old}, after one from {a.new}")
    sent, arrived, _ = flows[first_new]
    if first_new and flows[first_new - 1][0] >= a.limit:
        return _verdict(False, f"a flow started {flows[first_new - 1][0]:.3f} s after the hook still "
                        f"came from {a.old}")
    if flows[-1][0] < a.limit:
        return _verdict(False, f"no flow started {a.limit} s after the hook or later")
    return _verdict(True, f"{len(flows) - first_new}/{len(flows)} flows from {a.new}, the first "
                    f"started {sent:.3f} s after the hook (arrived at {arrived:.3f} s); "
                    f"{first_new} before it from {a.old}")


def cmd_wan_values(a):
    """Print every scalar of WAN NAME in `bpfctl -j status` on stdin as path=value."""
    doc = json.load(sys.stdin)

    def walk(path, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{path}.{k}" if path else k, x)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(f"{path}[{i}]", x)
        else:
            print(f"{path}={v}")

    for w in doc.get("wans", []):
        if w.get("name") == a.name:
            walk("", w)
            return 0
    print(f"no WAN {a.name!r} in bpfctl status", file=sys.stderr)
    return 1


def _pcap_packets(path):
    """The captured bytes of each packet of a classic pcap file."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        endian = "<" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            incl = struct.unpack(endian + "IIII", rec)[2]
            yield f.read(incl)


def cmd_pcap_grep(a):
    """Count packets whose captured bytes contain PREFIX's first LEN/8 bytes
    anywhere (outer or quoted addresses); print the count and the first hits."""
    net = ipaddress.IPv6Network(a.prefix)
    needle = net.network_address.packed[:net.prefixlen // 8]
    hits = [i for i, p in enumerate(_pcap_packets(a.file)) if needle in p]
    print(len(hits), *(f"#{i + 1}" for i in hits[:5]))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *opts):
        sp = sub.add_parser(name, help=fn.__doc__)
        sp.set_defaults(fn=fn)
        for args, kw in opts:
            sp.add_argument(*args, **kw)
        return sp

    def o(*args, **kw):
        return args, kw

    listen = [o("--addr", default="0.0.0.0"), o("--port", type=int, required=True)]
    client = [o("--connect", required=True), o("--bind"), o("--timeout", type=float, default=60),
              o("--connect-timeout", type=float, default=5)]
    nat = o("--nat", nargs="+", required=True, help="INTERNAL,WAN,PUBLIC ...")
    add("serve-file", cmd_serve_file, *listen, o("--file", required=True), o("--log", required=True))
    add("sink-tcp", cmd_sink_tcp, *listen, o("--log", required=True))
    add("fetch", cmd_fetch, *client)
    add("send-file", cmd_send_file, *client, o("--file", required=True))
    add("udp-sink", cmd_udp_sink, *listen, o("--log", required=True))
    add("udp-flows", cmd_udp_flows, o("--dst", required=True), o("--src", required=True),
        o("--count", type=int, default=400), o("--base-port", type=int, default=20000),
        o("--packets", type=int, default=2), o("--gap", type=float, default=0), o("--sent-log"))
    add("udp-stream", cmd_udp_stream, o("--dst", required=True), o("--src", required=True),
        o("--count", type=int, default=5), o("--base-port", type=int, default=40000),
        o("--gap", type=float, default=0.05), o("--duration", type=float, default=60))
    add("udp-big", cmd_udp_big, o("--dst", required=True), o("--src", required=True),
        o("--count", type=int, default=4), o("--size", type=int, default=4000),
        o("--base-port", type=int, default=30000))
    add("ident-server", cmd_ident_server, *listen, o("--name", required=True))
    add("burst-check", cmd_burst_check, o("--want", required=True))
    add("udp-burst", cmd_udp_burst, o("--dst", required=True), o("--src", required=True),
        o("--count", type=int, default=200), o("--base-port", type=int, default=30000),
        o("--wait", type=float, default=8))
    add("ident-query", cmd_ident_query, o("--proto", choices=("tcp", "udp"), required=True),
        o("--target", required=True), o("--bind"),
        o("--timeout", type=float, default=3))
    add("flows-check", cmd_flows_check, o("--log", required=True), nat,
        o("--aspect", choices=("sources", "split"), required=True),
        o("--expect", type=int, required=True), o("--wans", nargs="+", required=True),
        o("--iface", type=lambda s: dict(x.split("=") for x in s.split(",")),
          help="WAN=IFACE,... where the sink must see each WAN's packets"),
        o("--weights", default="att=3,webpass=1"), o("--tolerance", type=float, default=5))
    add("big-check", cmd_big_check, o("--log", required=True), nat,
        o("--expect", type=int, required=True), o("--size", type=int, default=4000))
    add("forge", cmd_forge, o("--iface", required=True), o("--dst-mac", required=True),
        o("--sport", type=int, default=40404), o("--sports", type=int, default=0),
        o("--dport", type=int, default=9999),
        o("--count", type=int, default=1), o("spec", nargs="+"))
    add("tun-pair", cmd_tun_pair, o("--ns-a", required=True), o("--if-a", required=True),
        o("--ns-b", required=True), o("--if-b", required=True))
    add("counter", cmd_counter, o("name"))
    add("unmapped-check", cmd_unmapped_check, o("--src", required=True), o("--dst", required=True),
        o("--min", type=int, default=1))
    add("npt", cmd_npt, o("--internal", required=True), o("--delegated", required=True),
        o("--subnet", required=True), o("addr", nargs="*"))
    add("switch-check", cmd_switch_check, o("--log", required=True),
        o("--since", type=float, required=True), o("--old", required=True),
        o("--new", required=True), o("--limit", type=float, default=1.0))
    add("wan-values", cmd_wan_values, o("name"))
    add("pcap-grep", cmd_pcap_grep, o("file"), o("prefix"))
    add("wan-field", cmd_wan_field, o("name"), o("field"))
    add("attach-check", cmd_attach_check, o("--kernel", required=True), o("--ifaces", required=True),
        o("--xdp-mode", default="native"))
    add("wan-targets", cmd_wan_targets, o("name"))
    since = o("--since", type=float, required=True)
    json_out = o("--json", action="store_true", help="print the metrics as JSON last")
    add("status-watch", cmd_status_watch, o("--log", required=True),
        o("--interval", type=float, default=0.05), o("cmd", nargs=argparse.REMAINDER))
    add("watch-wait", cmd_watch_wait, o("--log", required=True), o("--wan", required=True),
        o("--field", default="state"), o("--value", required=True), since,
        o("--wait", type=float, default=5), o("--min", type=float), o("--max", type=float), json_out)
    add("watch-steady", cmd_watch_steady, o("--log", required=True), o("--wan", required=True),
        o("--fields", default="health,usable"), o("--expect"), since,
        o("--until", type=float, required=True))
    add("stream-check", cmd_stream_check, o("--log", required=True), nat,
        o("--aspect", choices=("moved", "stay", "lossless"), required=True),
        o("--ports", required=True), since, o("--until", type=float), o("--old"), o("--new"),
        o("--limit", type=float),
        o("--gap-max", type=float), json_out)
    add("new-flows", cmd_new_flows, o("--log", required=True), o("--sent", required=True), nat,
        o("--aspect", choices=("switch", "first", "none"), required=True), o("--wan", required=True),
        since, o("--until", type=float), o("--limit", type=float, default=0),
        o("--min", type=float), o("--max", type=float), json_out)
    add("flows-compare", cmd_flows_compare, o("--before", required=True), o("--after", required=True),
        o("--aspect", choices=("moved", "stay"), required=True), o("--ports", required=True),
        o("--old"), o("--new"))
    add("bench-report", cmd_bench_report, o("--runs", required=True), o("--refs", required=True),
        o("--out", required=True))
    a = p.parse_args()
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
