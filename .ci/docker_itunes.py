#!/usr/bin/env python3
"""docker_itunes.py BASE_URL — what iTunes 12 sees of a running daapd.

Checks that iTunes is offered every track Rhythmbox sees (and /healthz
counts), that FLAC, Ogg Vorbis and Opus tracks are offered as WAV, and
that one of each streams: 200, audio/wav, a RIFF/WAVE header and exactly
the listed size. Used by .ci/docker.sh against the container.
"""
import json
import struct
import sys
import urllib.request

ITUNES = "iTunes/12.12.10 (Macintosh; OS X 13.5) AppleWebKit/615.3.12.11.2"
RHYTHMBOX = "iTunes/4.6 (Windows; N)"
CONTAINERS = {b"mlog", b"avdb", b"adbs", b"mlcl", b"mlit", b"msrv", b"aply", b"apso", b"mupd"}
META = "dmap.itemid,dmap.itemname,daap.songformat,daap.songsize,daap.songcodectype"


def decode(b):
    out, i = [], 0
    while i + 8 <= len(b):
        tag, n = b[i:i + 4], struct.unpack(">I", b[i + 4:i + 8])[0]
        v = b[i + 8:i + 8 + n]
        out.append((tag, decode(v) if tag in CONTAINERS else v))
        i += 8 + n
    return out


def find(elems, tag):
    return next(v for t, v in elems if t == tag)


def get(base, path, ua, headers=None):
    req = urllib.request.Request(base + path, headers={"User-Agent": ua, "Client-DAAP-Version": "3.0", **(headers or {})})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r, r.read()


def items(base, ua):
    _, body = get(base, "/login", ua)
    sid = struct.unpack(">I", find(find(decode(body), b"mlog"), b"mlid"))[0]
    _, body = get(base, f"/databases/1/items?session-id={sid}&meta={META}", ua)
    out = {}
    for _, it in find(find(decode(body), b"adbs"), b"mlcl"):
        d = dict(it)
        out[int.from_bytes(d[b"miid"], "big")] = {
            "name": d.get(b"minm", b"").decode(),
            "format": d.get(b"asfm", b"").decode(),
            "size": int.from_bytes(d.get(b"assz", b"\0"), "big"),
            "codec": d.get(b"ascd", b"").decode(errors="replace").strip(),
        }
    return sid, out


def main():
    base = sys.argv[1]
    health = json.loads(get(base, "/healthz", ITUNES)[1])
    _, rb = items(base, RHYTHMBOX)
    sid, it = items(base, ITUNES)
    ok = True
    if not (health["tracks"] == len(rb) == len(it)) or not rb:
        print(f"healthz {health['tracks']} tracks, Rhythmbox {len(rb)}, iTunes {len(it)}: want all equal")
        ok = False
    first = {}
    for i, t in sorted(rb.items()):
        got = it.get(i)
        if got is None:
            print(f"iTunes is not offered {t['name']!r} ({t['format']})")
            ok = False
        elif t["format"] in ("flac", "ogg", "opus"):
            if got["format"] != "wav":
                print(f"{t['name']!r} ({t['format']}) offered to iTunes as {got['format']!r}, want wav")
                ok = False
            first.setdefault(t["format"], (i, got))
    print(f"iTunes is offered {len(it)} of {len(rb)} tracks; as WAV: {sum(1 for t in it.values() if t['format'] == 'wav')}")
    for codec in ("flac", "ogg", "opus"):
        if codec not in first:
            print(f"no {codec} fixture listed")
            ok = False
            continue
        i, t = first[codec]
        r, body = get(base, f"/databases/1/items/{i}.wav?session-id={sid}", ITUNES)
        good = (r.status == 200 and r.headers["Content-Type"] == "audio/wav" and body[:4] == b"RIFF"
                and body[8:12] == b"WAVE" and len(body) == t["size"] == int(r.headers["Content-Length"]))
        print(f"{codec}: {t['name']!r} streams as WAV, {len(body)} bytes (listed {t['size']}): {'ok' if good else 'WRONG'}")
        ok = ok and good
    sys.exit(0 if ok else 1)


main()
