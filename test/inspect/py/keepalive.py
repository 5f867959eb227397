"""Keepalive timers against a middlebox idle timeout, over IPv6 and IPv4 (mapped on the server)."""
import socket, subprocess, time
from common import listener, ready, serve

srv = listener(9500, family=socket.AF_INET6, addr='::')
conns = {}
def pair(name, family_addr):
    c = socket.create_connection((family_addr, 9500)); s, _ = srv.accept(); conns[name] = (c, s); return c

a = pair('a', '::1')            # TCP_KEEPIDLE 600: first probe after a 350 s idle timeout
a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 600)
b = pair('b', '127.0.0.1')      # TCP_KEEPIDLE 60, KEEPINTVL 10: fine
b.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); b.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60)
b.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 10)
c = pair('c', '127.0.0.1')      # SO_KEEPALIVE with the sysctl defaults (7200 s)
c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
d = pair('d', '127.0.0.1')      # no keepalive at all
# e: probes every second to a peer whose answers are dropped (a firewall rule on lo of this namespace,
# added once the connection is up).
srv2 = listener(9501)
e = socket.create_connection(('127.0.0.1', 9501)); s2, _ = srv2.accept(); conns['e'] = (e, s2)
# nftables (scripts/install-debian-deps.sh installs it; Debian 12 has no iptables by default)
probing = subprocess.run(['nft', '-f', '-'], input='table ip ka {\n chain in { type filter hook input priority 0; tcp sport 9501 drop; }\n}\n',
                         capture_output=True, text=True)
if probing.returncode == 0:
    for opt, v in ((socket.TCP_KEEPIDLE, 1), (socket.TCP_KEEPINTVL, 1), (socket.TCP_KEEPCNT, 30)):
        e.setsockopt(socket.IPPROTO_TCP, opt, v)
    e.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    time.sleep(2.6)
ready(probing=probing.returncode == 0, why=probing.stderr.strip(),
      a=a.getsockname()[1], b=b.getsockname()[1], c=c.getsockname()[1], d=d.getsockname()[1])
serve({})
