"""Shared by the scenario programs of test/inspect: run inside a network namespace that the test
made (loopback only). Each program sets sysctls of that namespace, makes its sockets, prints one
line `READY {json}` and then obeys commands on stdin; it exits on EOF or after 60 s at most."""
import json, os, select, socket, sys, time

def sysctl(name, value):
    with open('/proc/sys/' + name.replace('.', '/'), 'w') as f:
        f.write(str(value))

def listener(port, backlog=64, family=socket.AF_INET, addr='127.0.0.1'):
    s = socket.socket(family)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    s.listen(backlog)
    return s

def ready(**info):
    info['pid'] = os.getpid()
    print('READY ' + json.dumps(info), flush=True)

def serve(handlers, limit=60):
    """Reads commands ("name arg") from stdin until EOF or `limit` seconds; bounded."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        line = sys.stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        name, *args = line.split()
        out = handlers[name](*args)
        print('DONE ' + json.dumps(out), flush=True)
