#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Traffic servers, clients and checks for the mwan lab (run inside its namespaces)."""

import argparse
import hashlib
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time

BIG_MAGIC = b"mwan-big"
# Linux values; Python 3.11's socket module lacks these names.
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def log_json(fh, **fields):
    fh.write(json.dumps(fields) + "\n")
    fh.flush()


def hostport(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


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


def cmd_serve_file(a):
    """Send FILE to every client; log the client's address."""
    logf = open(a.log, "a")
    lock = threading.Lock()

    class H(socketserver.BaseRequestHandler):
        def handle(self):
            peer = self.request.getpeername()
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
            peer = self.request.getpeername()
            sha, n = recv_all(self.request)
            self.request.sendall(f"{sha} {n}\n".encode())
            with lock:
                log_json(logf, peer=peer[0], sport=peer[1], len=n, sha256=sha)

    _serve(H, a)


def _serve(handler, a):
    srv = _Server((a.addr, a.port), handler)
    print(f"listening tcp {a.addr}:{a.port}", flush=True)
    srv.serve_forever()


def _connect(a):
    s = socket.socket()
    s.settimeout(a.connect_timeout)
    if a.bind:
        s.bind((a.bind, 0))
    s.connect(hostport(a.connect))
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

def _pktinfo_socket(family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    return s


def _recv_with_iface(s, size=65535):
    data, anc, _flags, src = s.recvmsg(size, socket.CMSG_SPACE(12))
    iface = None
    for level, ctype, cdata in anc:
        if level == socket.IPPROTO_IP and ctype == IP_PKTINFO:
            ifindex = struct.unpack("I", cdata[:4])[0]
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
    """Log every datagram: source, ingress interface, length, head, integrity."""
    s = _pktinfo_socket()
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    s.bind((a.addr, a.port))
    logf = open(a.log, "a")
    print(f"listening udp {a.addr}:{a.port}", flush=True)
    while True:
        data, src, iface = _recv_with_iface(s)
        head = data.split(b"\n", 1)[0][:80].decode("latin-1")
        log_json(logf, src=src[0], sport=src[1], iface=iface, len=len(data),
                 head=head, intact=_big_intact(data))


def cmd_udp_flows(a):
    """COUNT flows from SRC:BASE.. to DST, PACKETS datagrams each."""
    dst = hostport(a.dst)
    for i in range(a.count):
        port = a.base_port + i
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((a.src, port))
            for k in range(a.packets):
                s.sendto(f"flow {a.src} {port} {k}".encode(), dst)
        if i % 25 == 24:
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
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
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

    srv = _Server((a.addr, a.port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((a.addr, a.port))
    print(f"listening tcp+udp {a.addr}:{a.port}", flush=True)
    while True:
        _data, src = u.recvfrom(2048)
        u.sendto(f"ident {a.addr} {a.name} peer {src[0]}\n".encode(), src)


def cmd_ident_query(a):
    """Ask an identity server; print 'reply<TAB>from<TAB>iface' ('-': none)."""
    target = hostport(a.target)
    out = {"reply": None, "from": None, "iface": None}
    try:
        if a.proto == "tcp":
            s = socket.socket()
            s.settimeout(a.timeout)
            s.bind((a.bind, 0))
            s.connect(target)
            out["from"] = s.getpeername()[0]
            out["reply"] = s.makefile().readline().strip()
        else:
            s = _pktinfo_socket()
            s.settimeout(a.timeout)
            s.bind((a.bind, 0))
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
    """'10.250.250.2:att:198.51.100.193' ... -> {internal: {wan: public}}."""
    table = {}
    for item in items:
        internal, wan, public = item.split(":")
        table.setdefault(internal, {})[wan] = public
    return table


def cmd_flows_check(a):
    """Check the udp-flows seen by a sink; print a summary or the failure."""
    nat = _nat_table(a.nat)
    wan_of = {pub: wan for m in nat.values() for wan, pub in m.items()}
    flows = {}
    for rec in _read_log(a.log):
        parts = rec["head"].split()
        if len(parts) != 4 or parts[0] != "flow":
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
    nat = o("--nat", nargs="+", required=True, help="INTERNAL:WAN:PUBLIC ...")
    add("serve-file", cmd_serve_file, *listen, o("--file", required=True), o("--log", required=True))
    add("sink-tcp", cmd_sink_tcp, *listen, o("--log", required=True))
    add("fetch", cmd_fetch, *client)
    add("send-file", cmd_send_file, *client, o("--file", required=True))
    add("udp-sink", cmd_udp_sink, *listen, o("--log", required=True))
    add("udp-flows", cmd_udp_flows, o("--dst", required=True), o("--src", required=True),
        o("--count", type=int, default=400), o("--base-port", type=int, default=20000),
        o("--packets", type=int, default=2))
    add("udp-big", cmd_udp_big, o("--dst", required=True), o("--src", required=True),
        o("--count", type=int, default=4), o("--size", type=int, default=4000),
        o("--base-port", type=int, default=30000))
    add("ident-server", cmd_ident_server, *listen, o("--name", required=True))
    add("ident-query", cmd_ident_query, o("--proto", choices=("tcp", "udp"), required=True),
        o("--target", required=True), o("--bind", default="0.0.0.0"),
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
    add("wan-field", cmd_wan_field, o("name"), o("field"))
    a = p.parse_args()
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
