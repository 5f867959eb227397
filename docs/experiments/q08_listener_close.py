"""Q8: close() of a listener that has (1) a completed, not accepted connection
with 5 bytes of data queued, (2) a completed one without data, and (3) an
embryonic SYN_RECV request (the scapy peer sent a SYN and never ACKs)."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

amac, bmac = setup()
peer = Peer(amac, bmac)
td = Tcpdump()
with ns(A):
    ls = socket.socket(); ls.bind((A_IP, 5000)); ls.listen(8)
with ns(B):
    c1 = socket.socket(); c2 = socket.socket()
c1.connect((A_IP, 5000)); c1.send(b"hello")
c2.connect((A_IP, 5000))
time.sleep(0.3)
# silence lb's own stack only for the scapy-owned port 40000
nsx(B, "nft add table ip q40")
nsx(B, "nft add chain ip q40 in '{ type filter hook input priority 0; }'")
nsx(B, "nft add rule ip q40 in tcp dport 40000 drop")
peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=40000, dport=5000, flags="S", seq=1000, window=64240,
                                      options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]))
time.sleep(0.3)
print("listener and children before close():")
print(ss(A, "sport = :5000"))
ca = counters(A)
t0 = time.time()
ls.close()
time.sleep(0.5)
print("after close():"); print(ss(A, "sport = :5000"))
print("counter delta A:", cdelta(ca, counters(A)))
c1.settimeout(1); c2.settimeout(1)
try_op("c1 (had sent 5 B) recv", lambda: c1.recv(10))
try_op("c2 recv", lambda: c2.recv(10))
time.sleep(1.5)
print("1.5 s later:"); print(ss(A, "sport = :5000"))
synack = [p for (t, d, p) in peer.pkts if d == "in" and p[TCP].dport == 40000][0]
ca = counters(A)
peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=40000, dport=5000, flags="A", seq=1001, ack=synack[TCP].seq + 1, window=502,
                                      options=[("NOP", None), ("NOP", None), ("Timestamp", (2, synack[TCP].options[2][1][0]))]))
time.sleep(0.3)
print("after the late ACK for the embryonic connection, counter delta A:", cdelta(ca, counters(A)))
with peer.lock:
    pk = [(t, d, p) for (t, d, p) in peer.pkts if t >= t0 and d == "in"]
print("segments sent by A after close(), ports:")
for t, d, p in pk:
    print(f"  +{(t - t0) * 1000:.1f} ms {p[TCP].sport}->{p[TCP].dport} {p[TCP].flags} seq={p[TCP].seq} ack={p[TCP].ack} win={p[TCP].window}")
rel_trace(peer)
dump("tcpdump", td.stop())
