"""Orphaned FIN_WAIT2 that tcp_fin_timeout ends, and a half-closed FIN_WAIT2 that nothing ends."""
import socket, time
from common import listener, ready, serve, sysctl

sysctl('net.ipv4.tcp_fin_timeout', 2)
srv = listener(9150)
keep = []
for _ in range(3):
    c = socket.create_connection(('127.0.0.1', 9150)); s, _ = srv.accept(); c.close(); keep.append(s)
c = socket.create_connection(('127.0.0.1', 9150)); s, _ = srv.accept(); c.shutdown(socket.SHUT_WR); keep += [c, s]
time.sleep(0.1)
ready()
serve({})
