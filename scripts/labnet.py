#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Traffic servers, clients and checks for the mwan lab (run inside its namespaces)."""

import argparse
import hashlib
import ipaddress
import json
import os
import socket
import socketserver
import struct
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
    """COUNT flows from SRC:BASE.. to DST, PACKETS datagrams each (GAP s apart)."""
    dst = hostport(a.dst)
    for i in range(a.count):
        port = a.base_port + i
        with socket.socket(family(a.src), socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a.src, port))
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


# ---- checks -----------------------------------------------------------------

def _read_log(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


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


def cmd_wan_field(a):
    """Print field FIELD of WAN NAME from `bpfctl -j status` on stdin."""
    doc = json.load(sys.stdin)
    for w in doc.get("wans", []):
        if w.get("name") == a.name:
            print(w.get(a.field))
            return 0
    print(f"no WAN {a.name!r} in bpfctl status", file=sys.stderr)
    return 1


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
        o("--packets", type=int, default=2), o("--gap", type=float, default=0))
    add("udp-big", cmd_udp_big, o("--dst", required=True), o("--src", required=True),
        o("--count", type=int, default=4), o("--size", type=int, default=4000),
        o("--base-port", type=int, default=30000))
    add("ident-server", cmd_ident_server, *listen, o("--name", required=True))
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
    add("counter", cmd_counter, o("name"))
    add("npt", cmd_npt, o("--internal", required=True), o("--delegated", required=True),
        o("--subnet", required=True), o("addr", nargs="*"))
    add("switch-check", cmd_switch_check, o("--log", required=True),
        o("--since", type=float, required=True), o("--old", required=True),
        o("--new", required=True), o("--limit", type=float, default=1.0))
    add("wan-values", cmd_wan_values, o("name"))
    add("pcap-grep", cmd_pcap_grep, o("file"), o("prefix"))
    add("wan-field", cmd_wan_field, o("name"), o("field"))
    a = p.parse_args()
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
