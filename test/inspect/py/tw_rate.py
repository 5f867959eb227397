"""TIME_WAIT against a 100-port ip_local_port_range, created in bursts on command."""
import errno, socket, time
from common import listener, ready, serve, sysctl

sysctl('net.ipv4.ip_local_port_range', '40000 40099')
sysctl('net.ipv4.tcp_tw_reuse', 0)
srv = listener(9200, backlog=128)

def short(n):
    made = 0
    for _ in range(int(n)):
        c = socket.socket()
        try:
            c.connect(('127.0.0.1', 9200))
        except OSError as e:
            c.close()
            return {'made': made, 'error': errno.errorcode.get(e.errno, str(e.errno))}
        s, _ = srv.accept(); c.close(); s.recv(1); s.close(); made += 1
    return {'made': made, 'error': None}

first = short(40)
time.sleep(0.05)
ready(first=first)
serve({'burst': short})
