"""Q9: segments to a port with no socket in la (scapy peer on vb, lb silenced),
plus a real connect() from la to a closed port in lb (ECONNREFUSED)."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

amac, bmac = setup()
peer = Peer(amac, bmac)
td = Tcpdump()
silence(B)

def probe(label, flags, seq, ack=0, data=b"", opts=None):
    c0 = counters(A)
    t0 = time.time()
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=41000, dport=6000, flags=flags, seq=seq, ack=ack, window=1000,
                                          options=opts or []) / (Raw(data) if data else b""))
    time.sleep(0.3)
    r = peer.from_a(t0)
    print(f"{label}: sent {flags} seq={seq} ack={ack} len={len(data)}")
    if not r:
        print("   response: none")
    for t, p in r:
        tp = p[TCP]
        print(f"   response: {tp.flags} seq={tp.seq} ack={tp.ack} win={tp.window} len={len(tp.payload)} options={tp.options}")
    print("   counter delta A:", cdelta(c0, counters(A)))

probe("SYN", "S", 1000)
probe("SYN with TS option", "S", 1000, opts=[("MSS", 1460), ("Timestamp", (5, 0))])
probe("SYN + 10 bytes data", "S", 1000, data=b"0123456789")
probe("ACK", "A", 1000, 5555)
probe("data+ACK (len 10)", "PA", 1000, 5555, b"0123456789")
probe("FIN+ACK", "FA", 1000, 5555)
probe("FIN without ACK", "F", 1000)
probe("data without ACK (len 10)", "P", 1000, 0, b"0123456789")
probe("RST", "R", 1000)
probe("RST+ACK", "RA", 1000, 5555)
probe("SYN+ACK (unexpected)", "SA", 1000, 5555)
probe("no flags at all", "", 1000)

silence(B, False)
print("\nreal connect() from la to 10.99.0.2:6000 (closed):")
cb = counters(B)
with ns(A):
    c = socket.socket()
c.settimeout(2)
try_op("connect", lambda: c.connect((B_IP, 6000)))
print("   counter delta B:", cdelta(cb, counters(B)))
dump("tcpdump", td.stop())
