#!/usr/bin/python3
"""Browse one service type with python-zeroconf and print one JSON object
per line: {"event": "ready"} once, then "add"/"update" (name, port, server,
txt) and "remove" (name). Used by the announce package's namespace test;
run it only inside a network namespace made for the test.

usage: zcbrowse.py TYPE BIND_IP
"""
import json
import signal
import sys
import threading

from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

lock = threading.Lock()


def emit(**kw):
    with lock:
        print(json.dumps(kw), flush=True)


def main():
    stype, bind_ip = sys.argv[1], sys.argv[2]
    if not stype.endswith("."):
        stype += ".local."
    zc = Zeroconf(interfaces=[bind_ip], ip_version=IPVersion.V4Only)

    def on_change(zeroconf, service_type, name, state_change):
        inst = name[: -len(service_type) - 1] if name.endswith("." + service_type) else name
        if state_change is ServiceStateChange.Removed:
            emit(event="remove", name=inst)
            return
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        if info is None:
            return
        txt = {k.decode("utf-8", "replace"): (v.decode("utf-8", "replace") if v is not None else None)
               for k, v in info.properties.items()}
        ev = "add" if state_change is ServiceStateChange.Added else "update"
        emit(event=ev, name=inst, port=info.port, server=info.server, txt=txt)

    ServiceBrowser(zc, stype, handlers=[on_change])
    emit(event="ready")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    zc.close()


if __name__ == "__main__":
    main()
