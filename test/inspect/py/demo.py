#!/usr/bin/env python3
"""A small, bounded workload for trying `linger inspect` (the README's outputs come from it).

Run it inside a network namespace of your own (it changes that namespace's port range):
    sudo ip netns add demo && sudo ip -n demo link set lo up
    sudo ip netns exec demo python3 test/inspect/py/demo.py 120 &
    sudo ip netns exec demo npx linger inspect
Four processes, named through /proc/self/comm:
  db        a server on 127.0.0.1:5432 that closes connections idle for 1 s (an idle timeout)
  app-pool  a client pool that opens a connection to db every 0.5 s and never notices that db
            closed it: CLOSE_WAIT piles up, with SO_KEEPALIVE on the 7200 s default
  web       a server on 127.0.0.1:8080: one response per connection, closes after the client
  loadgen   short connections to web at about 25/s, closing first: TIME_WAIT on the client side,
            against an ip_local_port_range of 2,000 ports
Everything stops after the given number of seconds (default 120, at most 600).
"""
import os, select, signal, socket, sys, time

duration = min(600.0, float(sys.argv[1]) if len(sys.argv) > 1 else 120.0)
end = time.monotonic() + duration

def sysctl(name, value):
    with open('/proc/sys/' + name.replace('.', '/'), 'w') as f:
        f.write(str(value))

def name(comm):
    with open('/proc/self/comm', 'w') as f:
        f.write(comm)

def listener(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port)); s.listen(128)
    return s

def db():
    name('db')
    srv = listener(5432); srv.setblocking(False)
    conns = {}
    while time.monotonic() < end:
        r, _, _ = select.select([srv] + list(conns), [], [], 0.1)
        for s in r:
            if s is srv:
                c, _ = srv.accept(); conns[c] = time.monotonic()
            elif not s.recv(100):
                s.close(); del conns[s]
        for c, t in list(conns.items()):
            if time.monotonic() - t > 1.0:   # idle timeout: the server closes first
                c.close(); del conns[c]

def pool():
    name('app-pool')
    held = []
    time.sleep(0.3)
    while time.monotonic() < end and len(held) < 200:
        c = socket.create_connection(('127.0.0.1', 5432))
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        held.append(c)                     # never read, never closed: a leaked pool connection
        time.sleep(0.5)
    while time.monotonic() < end:
        time.sleep(0.2)

def web():
    name('web')
    srv = listener(8080)
    srv.settimeout(0.2)
    while time.monotonic() < end:
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        c.recv(1000); c.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
        c.settimeout(1.0)
        try:
            c.recv(1000)                    # wait for the client's FIN: the client closes first
        except OSError:
            pass
        c.close()

def loadgen():
    name('loadgen')
    time.sleep(0.3)
    while time.monotonic() < end:
        t = time.monotonic()
        try:
            c = socket.create_connection(('127.0.0.1', 8080), timeout=1)
            c.sendall(b'GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n'); c.recv(1000); c.close()
        except OSError:
            pass
        time.sleep(max(0.0, 0.04 - (time.monotonic() - t)))

sysctl('net.ipv4.ip_local_port_range', '40000 41999')
sysctl('net.ipv4.tcp_tw_reuse', 0)
children = []
for fn in (db, web, pool, loadgen):
    pid = os.fork()
    if pid == 0:
        try:
            fn()
        finally:
            os._exit(0)
    children.append(pid)
signal.signal(signal.SIGTERM, lambda *_: [os.kill(p, signal.SIGKILL) for p in children] and sys.exit(0))
print(f'demo running for {duration:.0f} s: pids {children}', flush=True)
for p in children:
    os.waitpid(p, 0)
