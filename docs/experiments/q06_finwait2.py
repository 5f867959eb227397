"""Q6: FIN_WAIT2 lifetime. net.ipv4.tcp_fin_timeout=5 in la.
(a) orphaned FIN_WAIT2 (close(), peer never closes) -> timer, expiry, peer's late FIN
(b) TCP_LINGER2=-1 + close() from ESTABLISHED
(c) TCP_LINGER2=-1 + shutdown(SHUT_WR), wait for FIN_WAIT2, then close()
(d) non-orphaned FIN_WAIT2 (shutdown(SHUT_WR) only) for 12 s
(e) TCP_LINGER2=100 (> 60 s): orphan FIN_WAIT2 stays a full socket"""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def conn():
    amac, bmac = setup(sysctls={"net.ipv4.tcp_fin_timeout": 5})
    peer = Peer(amac, bmac)
    td = Tcpdump()
    with ns(B):
        ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        a = socket.socket()
    a.connect((B_IP, 5000)); b, _ = ls.accept()
    a.send(b"req"); b.recv(10)
    return peer, td, ls, a, b

def sst(label):
    l = [x for x in ss(A, "dport = :5000").splitlines() if "5000" in x]
    print(f"  {label}: {l[0] if l else '(no socket)'}")

def finish(peer, td, title, ca):
    print("  counter delta A:", cdelta(ca, counters(A)))
    rel_trace(peer)
    dump("tcpdump " + title, td.stop())
    peer.close()

def case_f():
    print("\n=== (f) fin_timeout=3: orphaned FIN_WAIT2 timewait sock with timeout <= 4 s")
    peer, td, ls, a, b = conn()
    sysctl(A, "net.ipv4.tcp_fin_timeout", 3)
    ca = counters(A)
    a.close(); time.sleep(0.3); sst("after close")
    print("  counter delta A right after FIN is ACKed:", cdelta(ca, counters(A)))
    time.sleep(3.2); sst("t=3.5")
    finish(peer, td, "(f)", ca)

if sys.argv[1:] == ["f"]:
    case_f(); sys.exit(0)

print("=== (a) orphaned FIN_WAIT2, fin_timeout=5")
peer, td, ls, a, b = conn()
ca = counters(A)
t0 = time.time(); a.close()
for i in range(9):
    time.sleep(1 if i else 0.1)
    sst(f"t={time.time() - t0:4.1f}")
b.send(b"late"); time.sleep(0.3)
b.close(); time.sleep(0.5)
print("  B sent data + FIN after expiry; B state now:", [x for x in ss(B, "sport = :5000").splitlines() if "ESTAB" in x or "CLOSE" in x or "LAST" in x])
finish(peer, td, "(a)", ca)

print("\n=== (b) TCP_LINGER2=-1, close() from ESTABLISHED")
peer, td, ls, a, b = conn()
a.setsockopt(socket.IPPROTO_TCP, TCP_LINGER2, -1)
ca = counters(A)
a.close(); time.sleep(0.5); sst("after close")
print("  B sees:"); b.settimeout(1); try_op("B recv #1", lambda: b.recv(10)); try_op("B recv #2", lambda: b.recv(10))
finish(peer, td, "(b)", ca)

print("\n=== (c) TCP_LINGER2=-1, shutdown(SHUT_WR) then close() in FIN_WAIT2")
peer, td, ls, a, b = conn()
a.setsockopt(socket.IPPROTO_TCP, TCP_LINGER2, -1)
a.shutdown(socket.SHUT_WR); time.sleep(0.3); sst("after shutdown")
ca = counters(A)
a.close(); time.sleep(0.3); sst("after close")
print("  B sees:"); b.settimeout(1); try_op("B recv #1", lambda: b.recv(10)); try_op("B recv #2", lambda: b.recv(10))
finish(peer, td, "(c)", ca)

print("\n=== (d) non-orphaned FIN_WAIT2 (shutdown(SHUT_WR) only), fin_timeout=5")
peer, td, ls, a, b = conn()
ca = counters(A)
a.shutdown(socket.SHUT_WR)
t0 = time.time()
for i in range(4):
    time.sleep(0.1 if i == 0 else 4)
    sst(f"t={time.time() - t0:4.1f}")
b.send(b"still works"); time.sleep(0.2)
try_op("A recv in FIN_WAIT2", lambda: a.recv(100))
b.close(); time.sleep(0.3); sst("after B close")
try_op("A recv after B's FIN", lambda: a.recv(100))
finish(peer, td, "(d)", ca)

print("\n=== (e) TCP_LINGER2=100, orphaned FIN_WAIT2 is a full socket")
peer, td, ls, a, b = conn()
a.setsockopt(socket.IPPROTO_TCP, TCP_LINGER2, 100)
ca = counters(A)
a.close(); time.sleep(0.5); sst("after close")
print("  ", ss(A, "state fin-wait-2").strip().replace("\n", " | "))
finish(peer, td, "(e)", ca)
