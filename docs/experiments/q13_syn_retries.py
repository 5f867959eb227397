"""Q13: connect() to an address whose stack is silent (nft drops all TCP in lb).
usage: q13_syn_retries.py SYN_RETRIES LINEAR_TIMEOUTS NSPREFIX
Runs in its own namespaces NSPREFIX-a / NSPREFIX-b so several can run at once."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
import common
from common import *

retries, linear, pfx = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
common.A, common.B = A, B = f"{pfx}a", f"{pfx}b"
amac, bmac = setup(sysctls={"net.ipv4.tcp_syn_retries": retries, "net.ipv4.tcp_syn_linear_timeouts": linear})
silence(B)
peer = Peer(amac, bmac, n=B)
with ns(A):
    c = socket.socket()
ca = counters(A)
t0 = time.time()
try_op(f"connect (tcp_syn_retries={retries}, tcp_syn_linear_timeouts={linear})", lambda: c.connect((B_IP, 5000)))
print(f"  connect() returned after {time.time() - t0:.2f} s")
syns = [round(t - t0, 3) for (t, d, p) in peer.pkts if d == "in" and p[TCP].flags == "S"]
print("  SYN send times (s):", syns)
print("  gaps:", [round(b - a, 2) for a, b in zip(syns, syns[1:])])
print("  counter delta A:", cdelta(ca, counters(A)))
peer.close()
for n in (A, B):
    sh(f"ip netns del {n}", check=False)
