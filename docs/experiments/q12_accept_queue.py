"""Q12: listen(backlog=1) in la, never accept(); clients in lb connect.
(a) 3 clients one after the other; (b) 2 clients racing for the last slot."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def nb_connect(c, addr):
    c.setblocking(False)
    try:
        c.connect(addr)
    except BlockingIOError:
        pass

def cstate():
    return [" ".join(x.split()[:5]) for x in ss(B, "dport = :5000").splitlines() if ":5000" in x]

def lstate():
    return [" ".join(x.split()[:6]) for x in ss(A, "sport = :5000").splitlines() if ":5000" in x]

print("tcp_syncookies =", nsx(A, "sysctl -n net.ipv4.tcp_syncookies").strip(),
      " tcp_abort_on_overflow =", nsx(A, "sysctl -n net.ipv4.tcp_abort_on_overflow").strip(),
      " tcp_synack_retries =", nsx(A, "sysctl -n net.ipv4.tcp_synack_retries").strip())
print("=== (a) three sequential clients, backlog=1")
amac, bmac = setup()
peer = Peer(amac, bmac)
td = Tcpdump()
with ns(A):
    ls = socket.socket(); ls.bind((A_IP, 5000)); ls.listen(1)
ca = counters(A)
cl = []
for i in range(3):
    with ns(B):
        c = socket.socket()
    nb_connect(c, (A_IP, 5000)); cl.append(c)
    time.sleep(0.3)
    print(f" after client {i + 1}: listener side {lstate()}")
    print(f"                 client side {cstate()}")
print(" counter delta A:", cdelta(ca, counters(A)))
time.sleep(4)
print(" t~5 s: client side", cstate())
print(" counter delta A:", cdelta(ca, counters(A)))
s1, _ = ls.accept()
print(" accepted one connection at t~5 s")
time.sleep(3.5)
print(" t~8.5 s: client side", cstate(), "\n   listener side", lstate())
print(" counter delta A:", cdelta(ca, counters(A)))
print(" client 3 SYN times (s, relative to its first SYN):",
      [round(t - [t for (t, d, p) in peer.pkts if d == "out" and p[TCP].flags == "S" and p[TCP].sport == cl[2].getsockname()[1]][0], 2)
       for (t, d, p) in peer.pkts if d == "out" and p[TCP].flags == "S" and p[TCP].sport == cl[2].getsockname()[1]])
dump("tcpdump (a)", td.stop()); peer.close()

print("\n=== (b) one real client queued; two scapy clients (ports 40001/40002) both get SYN-ACK, then both ACK")
amac, bmac = setup()
peer = Peer(amac, bmac)
td = Tcpdump()
with ns(A):
    ls = socket.socket(); ls.bind((A_IP, 5000)); ls.listen(1)
with ns(B):
    c1 = socket.socket()
c1.connect((A_IP, 5000)); time.sleep(0.2)
nsx(B, "nft add table ip q4")
nsx(B, "nft add chain ip q4 in '{ type filter hook input priority 0; }'")
nsx(B, "nft add rule ip q4 in tcp dport { 40001, 40002 } drop")
ca = counters(A)
t0 = time.time()
OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (100, 0)), ("NOP", None), ("WScale", 7)]
def syn(port):
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=port, dport=5000, flags="S", seq=1000, window=64240, options=OPTS))
def synack(port, since):
    r = peer.wait(lambda p: p[TCP].dport == port and p[TCP].flags == "SA", 3, since)
    return r[1] if r else None
def ack(port, sa, data=b""):
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=port, dport=5000, flags="PA" if data else "A", seq=1001,
              ack=sa[TCP].seq + 1, window=502, options=[("NOP", None), ("NOP", None), ("Timestamp", (200, tsopt(sa)[0]))]) / data)
syn(40001); syn(40002)
sa1, sa2 = synack(40001, t0), synack(40002, t0)
print(" both SYN-ACKed:", bool(sa1), bool(sa2))
print(" listener side", lstate())
ack(40001, sa1); time.sleep(0.1)
print(" after ACK from 40001: listener side", lstate())
ack(40002, sa2); time.sleep(0.1)
print(" after ACK from 40002: listener side", lstate())
print(" counter delta A:", cdelta(ca, counters(A)))
ack(40002, sa2, b"hello"); time.sleep(0.1)
print(" after data from 40002: listener side", lstate())
print(" counter delta A:", cdelta(ca, counters(A)))
time.sleep(3)
print(" SYN-ACKs to 40002 so far (s after t0):", [round(t - t0, 2) for (t, d, p) in peer.pkts if d == "in" and p[TCP].dport == 40002 and p[TCP].flags == "SA"])
s1, _ = ls.accept()
print(" accepted one connection at", round(time.time() - t0, 2))
r = peer.wait(lambda p: p[TCP].dport == 40002 and p[TCP].flags == "SA", 8, time.time())
print(" next SYN-ACK to 40002 at", round(r[0] - t0, 2) if r else None)
if r:
    ack(40002, r[1]); time.sleep(0.2)
print(" after ACKing it: listener side", lstate())
print(" counter delta A:", cdelta(ca, counters(A)))
print(" all segments A sent to 40002 (s after t0):")
for (t, d, p) in peer.pkts:
    if d == "in" and p[TCP].dport == 40002:
        print(f"   {t - t0:6.2f} {p[TCP].flags} seq={p[TCP].seq} ack={p[TCP].ack}")
dump("tcpdump (b)", td.stop()); peer.close()
