#!/usr/bin/python3
"""Hostile and changing-network mDNS traffic for .ci/mdns-test.sh (issue 14).

Run ONLY inside a network namespace the test created (it multicasts), with
Debian's /usr/bin/python3 (python3-zeroconf). Packets are built by hand so
that malformed and hostile ones can be sent.

  watch OUT                 log every mDNS response seen (one JSON line per
                            record: t, src, name, type, ttl, data) until killed
  query-n N BIND            one query with N copies of the _daap._tcp PTR question
  query NAME TYPE BIND      one plain query
  short BIND                a 12-byte header with QDCOUNT=1 and nothing else
  flood NAME TYPE RATE SECS BIND   RATE queries a second for SECS seconds
  flood-n N RATE SECS BIND  the same with N copies of the PTR question each
  storm HOST N SECS BIND    cache-flush A records HOST.local, HOST-2 … HOST-N
                            (192.0.2.99) every 0.2 s for SECS seconds
  resolve NAME BIND [SECS]  resolve instance NAME of _daap._tcp with
                            python-zeroconf; print server, port, addresses
  register NAME PORT BIND   announce NAME via python-zeroconf without probing
                            (a cooperating responder, as after a network merge)
                            until killed
"""
import json
import socket
import struct
import sys
import time

GROUP = ("224.0.0.251", 5353)
PTR, A, SRV, TXT, AAAA, ANY = 12, 1, 33, 16, 28, 255
TYPES = {"A": A, "PTR": PTR, "SRV": SRV, "TXT": TXT, "AAAA": AAAA, "ANY": ANY}


def name_bytes(name):
    out = b""
    for label in name.rstrip(".").split("."):
        b = label.encode()
        out += bytes([len(b)]) + b
    return out + b"\0"


def header(qd=0, an=0, response=False):
    flags = 0x8400 if response else 0
    return struct.pack("!HHHHHH", 0, flags, qd, an, 0, 0)


def question(name, qtype):
    return name_bytes(name) + struct.pack("!HH", qtype, 1)


def sender(bind, port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(bind))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    s.bind((bind if port == 0 else "0.0.0.0", port))
    return s


def read_name(b, off):
    labels, jumped, end = [], False, off
    for _ in range(128):
        n = b[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off, jumped = ((n & 0x3F) << 8) | b[off + 1], True
            continue
        labels.append(b[off + 1:off + 1 + n].decode("utf-8", "replace"))
        off += 1 + n
    return ".".join(labels) + ".", (end if jumped else off)


def parse(b):
    _, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", b[:12])
    off = 12
    for _ in range(qd):
        _, off = read_name(b, off)
        off += 4
    out = []
    for _ in range(an + ns + ar):
        name, off = read_name(b, off)
        t, cls, ttl, rdlen = struct.unpack("!HHIH", b[off:off + 10])
        off += 10
        rd = b[off:off + rdlen]
        if t == A:
            data = socket.inet_ntoa(rd)
        elif t == AAAA:
            data = socket.inet_ntop(socket.AF_INET6, rd)
        elif t in (PTR,):
            data = read_name(b, off)[0]
        elif t == SRV:
            data = "%d %s" % (struct.unpack("!H", rd[4:6])[0], read_name(b, off + 6)[0])
        else:
            data = rd.hex()
        off += rdlen
        out.append({"name": name, "type": t, "ttl": ttl, "flush": bool(cls & 0x8000), "data": data})
    return bool(flags & 0x8000), out


def watch(out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", 5353))
    for ifaddr in sys.argv[3:] or ["0.0.0.0"]:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton(GROUP[0]) + socket.inet_aton(ifaddr))
    with open(out, "a", buffering=1) as f:
        while True:
            b, src = s.recvfrom(9000)
            try:
                resp, rrs = parse(b)
            except Exception:
                continue
            if not resp:
                continue
            t = time.time()
            f.write(json.dumps({"t": t, "src": src[0], "size": len(b), "records": rrs}) + "\n")


def send_once(payload, bind):
    s = sender(bind, 5353)  # from port 5353: answers go to the group
    s.sendto(payload, GROUP)


def flood(name, qtype, rate, secs, bind, copies=1):
    s = sender(bind, 5353)
    pkt = header(qd=copies) + question(name, TYPES[qtype]) * copies
    n, start = 0, time.time()
    while time.time() - start < secs:
        s.sendto(pkt, GROUP)
        n += 1
        ahead = n / rate - (time.time() - start)
        if ahead > 0:
            time.sleep(ahead)
    print(json.dumps({"sent": n, "seconds": round(time.time() - start, 3), "bytes": n * len(pkt)}))


def storm(host, count, secs, bind):
    s = sender(bind, 5353)
    names = [host + ".local"] + ["%s-%d.local" % (host, i) for i in range(2, count + 1)]
    rr = b""
    for n in names:
        rr += name_bytes(n) + struct.pack("!HHIH", A, 0x8001, 120, 4) + socket.inet_aton("192.0.2.99")
    # at most ~9000 bytes a packet: split
    pkts, cur, k = [], b"", 0
    for n in names:
        one = name_bytes(n) + struct.pack("!HHIH", A, 0x8001, 120, 4) + socket.inet_aton("192.0.2.99")
        if len(cur) + len(one) > 1400:
            pkts.append(header(an=k, response=True) + cur)
            cur, k = b"", 0
        cur += one
        k += 1
    pkts.append(header(an=k, response=True) + cur)
    start, sent = time.time(), 0
    while time.time() - start < secs:
        for p in pkts:
            s.sendto(p, GROUP)
            sent += 1
        time.sleep(0.2)
    print(json.dumps({"packets": sent, "seconds": round(time.time() - start, 3)}))


def resolve(name, bind, secs):
    from zeroconf import Zeroconf, ServiceInfo
    zc = Zeroconf(interfaces=[bind])
    try:
        info = ServiceInfo("_daap._tcp.local.", name + "._daap._tcp.local.")
        ok = info.request(zc, int(secs * 1000))
        print(json.dumps({"ok": bool(ok), "server": info.server, "port": info.port,
                          "addresses": info.parsed_addresses() if ok else []}))
    finally:
        zc.close()


def register(name, port, bind):
    from zeroconf import Zeroconf, ServiceInfo
    zc = Zeroconf(interfaces=[bind])
    info = ServiceInfo("_daap._tcp.local.", name + "._daap._tcp.local.", port=port,
                       properties={"txtvers": "1", "Machine Name": name},
                       server="zc-host.local.", addresses=[socket.inet_aton(bind)])
    zc.register_service(info, cooperating_responders=True)
    print("registered", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        zc.close()


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "watch":
        watch(a[0])
    elif cmd == "query-n":
        send_once(header(qd=int(a[0])) + question("_daap._tcp.local", PTR) * int(a[0]), a[1])
    elif cmd == "query":
        send_once(header(qd=1) + question(a[0], TYPES[a[1]]), a[2])
    elif cmd == "short":
        send_once(struct.pack("!HHHHHH", 0, 0, 1, 0, 0, 0), a[0])
    elif cmd == "flood":
        flood(a[0], a[1], float(a[2]), float(a[3]), a[4])
    elif cmd == "flood-n":
        flood("_daap._tcp.local", "PTR", float(a[1]), float(a[2]), a[3], int(a[0]))
    elif cmd == "storm":
        storm(a[0], int(a[1]), float(a[2]), a[3])
    elif cmd == "resolve":
        resolve(a[0], a[1], float(a[2]) if len(a) > 2 else 3)
    elif cmd == "register":
        register(a[0], int(a[1]), a[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
