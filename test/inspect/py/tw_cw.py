"""TIME_WAIT on both sides, CLOSE_WAIT held by this process, orphaned FIN_WAIT2 at the peers."""
import socket, sys, time
from common import listener, ready, serve, sysctl

sysctl('net.ipv4.tcp_fin_timeout', 20)
srv = listener(9100)
held = []
# 5 TIME_WAIT of outgoing connections: the client closes first.
for _ in range(5):
    c = socket.create_connection(('127.0.0.1', 9100)); s, _ = srv.accept(); c.close(); time.sleep(0.02); s.close()
# 2 TIME_WAIT of incoming connections: the server closes first.
for _ in range(2):
    c = socket.create_connection(('127.0.0.1', 9100)); s, _ = srv.accept(); s.close(); time.sleep(0.02); c.close()
# 3 CLOSE_WAIT: the client closes, this process never closes its side (nor reads the FIN);
# the clients are left as orphaned FIN_WAIT2 for tcp_fin_timeout.
for _ in range(3):
    c = socket.create_connection(('127.0.0.1', 9100)); s, _ = srv.accept(); c.close(); held.append(s)
time.sleep(0.1)
# One of them is read to the end (recv() returns b''), still not closed.
assert held[0].recv(10) == b''
ready(tw_out=5, tw_in=2, cw=3)
serve({})
