"""Q14: when does the receiver (lb, server, never or sometimes replies) ACK?
Delays are measured on the vb tap: time of B's first segment whose ack covers
the end of A's segment, minus the time A's segment was seen."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def conn():
    amac, bmac = setup()
    peer = Peer(amac, bmac)
    with ns(B):
        ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        a = socket.socket()
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a.connect((B_IP, 5000)); b, _ = ls.accept()
    return peer, ls, a, b

def delays(peer, label, since=0.0):
    time.sleep(0.3)
    with peer.lock:
        pk = [(t, d, p) for (t, d, p) in peer.pkts if t >= since]
    print(f"--- {label}: (A segment: flags len) -> delay of covering ACK from B [its flags]")
    out = []
    for i, (t, d, p) in enumerate(pk):
        tp = p[TCP]
        if d != "in":
            continue
        L = len(tp.payload) + ("F" in str(tp.flags))
        if L == 0:
            continue
        end = (tp.seq + L) & 0xffffffff
        for t2, d2, p2 in pk[i + 1:]:
            if d2 == "out" and "A" in str(p2[TCP].flags) and ((p2[TCP].ack - end) & 0xffffffff) < 1 << 31:
                out.append(f"{str(tp.flags)} {len(tp.payload)}B -> {(t2 - t) * 1000:.1f} ms [{p2[TCP].flags}{' +data' if len(p2[TCP].payload) else ''}]")
                break
        else:
            out.append(f"{str(tp.flags)} {len(tp.payload)}B -> no ACK seen")
    for k, o in enumerate(out):
        print(f"  #{k + 1:2d} {o}")

print("=== (a)+(b)+(c): fresh connection, B never replies nor reads")
peer, ls, a, b = conn()
time.sleep(0.5)
a.send(b"x" * 100)                    # (a) first segment
time.sleep(0.5)
for i in range(20):                   # (b) 20 small segments 100 ms apart
    a.send(b"y" * 100); time.sleep(0.1)
time.sleep(1.0)
a.send(b"z" * 100)                    # (c) after a 1 s gap (> RTO)
time.sleep(0.5)
delays(peer, "(a) #1 first segment; (b) #2-#21 every 100 ms; (c) #22 after 1 s gap")
print(ss(B, "state established"))
peer.close()

print("\n=== (d) request/response x5 (B replies at once), then a request B does not answer")
peer, ls, a, b = conn()
time.sleep(0.3)
t0 = time.time()
for i in range(5):
    a.send(b"req"); b.recv(10); b.send(b"rsp"); a.recv(10); time.sleep(0.05)
a.send(b"no-reply"); time.sleep(0.5)
delays(peer, "(d) 5 answered requests then 1 unanswered", t0)
print(ss(B, "state established"))
peer.close()

print("\n=== (e1) FIN on a connection where B never received data")
peer, ls, a, b = conn()
time.sleep(0.3); t0 = time.time()
a.close(); time.sleep(0.5)
delays(peer, "(e1)", t0); peer.close()

print("\n=== (e2) FIN 0.5 s after one data segment")
peer, ls, a, b = conn()
time.sleep(0.3); t0 = time.time()
a.send(b"data"); time.sleep(0.5); a.close(); time.sleep(0.5)
delays(peer, "(e2)", t0); peer.close()

print("\n=== (e3) FIN right behind data (close() immediately after send())")
peer, ls, a, b = conn()
time.sleep(0.3); t0 = time.time()
a.send(b"data"); a.close(); time.sleep(0.5)
delays(peer, "(e3)", t0); peer.close()

print("\n=== (f) bulk: 10 x 1448 B written at once, after the connection went out of quickack (d-like)")
peer, ls, a, b = conn()
for i in range(5):
    a.send(b"req"); b.recv(10); b.send(b"rsp"); a.recv(10); time.sleep(0.05)
time.sleep(0.3); t0 = time.time()
a.send(b"w" * 14480); time.sleep(0.5)
delays(peer, "(f)", t0); peer.close()
