"""Q4: close() with unread data, SO_LINGER {1,0}, and what the peer's recv/send see.
A (la) is the side that aborts; B (lb) is a normal Linux peer."""
import socket, struct, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def pair():
    amac, bmac = setup()
    peer = Peer(amac, bmac)
    td = Tcpdump()
    with ns(B):
        ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        a = socket.socket()
    a.connect((B_IP, 5000)); b, _ = ls.accept()
    a.send(b"req"); b.recv(10)        # some data both ways so seq != ISN+1
    b.send(b"resp!"); a.recv(10)
    return peer, td, ls, a, b

def peer_side(b, label):
    print(f"  B ({label}):")
    b.settimeout(1)
    try_op("B recv() #1", lambda: b.recv(100))
    try_op("B recv() #2", lambda: b.recv(100))
    try_op("B send()", lambda: b.send(b"x"))
    try_op("B send() #2", lambda: b.send(b"x"))

def case(title, prep, abort):
    print(f"\n=== {title}")
    peer, td, ls, a, b = pair()
    prep(a, b)
    time.sleep(0.2)
    ca, cb = counters(A), counters(B)
    t0 = time.time()
    abort(a)
    time.sleep(0.3)
    print("  ss A:", ss(A, "dport = :5000").strip().splitlines()[1:] or "(no socket)")
    peer_side(b, title)
    print("  counter delta A:", cdelta(ca, counters(A)))
    print("  counter delta B:", cdelta(cb, counters(B)))
    rel_trace(peer, 0)
    dump("tcpdump " + title, td.stop())
    peer.close()

LINGER0 = struct.pack("ii", 1, 0)
case("close() with 7 unread bytes at A", lambda a, b: b.send(b"unread!"), lambda a: a.close())
case("SO_LINGER {1,0} close(), nothing unread",
     lambda a, b: None, lambda a: (a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0), a.close()))
case("SO_LINGER {1,0} close() while B has 6 unread bytes from A",
     lambda a, b: a.send(b"queued"), lambda a: (a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0), a.close()))
case("close() with unread data at A while B has 6 unread bytes from A",
     lambda a, b: (a.send(b"queued"), b.send(b"unread!")), lambda a: a.close())
