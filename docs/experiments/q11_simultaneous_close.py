"""Q11: simultaneous close between two real kernels.  sch_netem/plug/tbf are not
available on this kernel (an HTB rate limit did not delay single frames), so:
both namespaces drop their own outgoing FIN segments (nft output rule), both
sockets close() within microseconds of each other, the rules are removed 100 ms
later, and both RTO timers (armed at close, ~204 ms) fire in the same jiffy, so
the two retransmitted FINs cross on the veth."""
import socket, sys, threading, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

amac, bmac = setup()
peer = Peer(amac, bmac)
tda = Tcpdump(A, "va")
with ns(B):
    ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
with ns(A):
    a = socket.socket()
a.connect((B_IP, 5000)); b, _ = ls.accept()
a.send(b"req"); b.recv(10); b.send(b"rsp"); a.recv(10)
time.sleep(0.2)
for n in (A, B):
    nsx(n, "nft add table ip nofin")
    nsx(n, "nft add chain ip nofin out '{ type filter hook output priority 0; }'")
    nsx(n, "nft add rule ip nofin out 'tcp flags & fin == fin' drop")
ca, cb = counters(A), counters(B)
t0 = time.time()
a.close(); b.close()
time.sleep(0.1)
for n in (A, B):
    nsx(n, "nft delete table ip nofin")
states = []
for i in range(40):                      # sample states for ~1.5 s
    sa = [x.split()[0] for x in ss(A, "dport = :5000").splitlines() if ":5000" in x]
    sb = [x.split()[0] for x in ss(B, "sport = :5000").splitlines() if ":5000" in x and "LISTEN" not in x]
    st = (sa[0] if sa else "-", sb[0] if sb else "-")
    if not states or states[-1][1] != st:
        states.append((round(time.time() - t0, 3), st))
    time.sleep(0.05)
print("state transitions (t, (A, B)):")
for s in states:
    print("  ", s)
print("final A:", a_state())
print("final B:", [x for x in ss(B, "sport = :5000").splitlines() if ":5000" in x and "LISTEN" not in x])
print("counter delta A:", cdelta(ca, counters(A)))
print("counter delta B:", cdelta(cb, counters(B)))
rel_trace(peer)
dump("tcpdump on va (A side; times include the qdisc delay on vb)", tda.stop())
