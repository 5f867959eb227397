"""Q5: A is in CLOSE_WAIT (B closed), B's socket is fully closed (orphaned,
FIN_WAIT2 timewait-socket).  A then send()s: what comes back, and what do
A's recv()/send() return afterwards?"""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def run(title, unread, ops):
    print(f"\n=== {title}")
    amac, bmac = setup()
    peer = Peer(amac, bmac)
    td = Tcpdump()
    with ns(B):
        ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        a = socket.socket()
    a.connect((B_IP, 5000)); b, _ = ls.accept()
    a.send(b"req"); b.recv(10)
    if unread:
        b.send(b"unread")
    b.close()                        # B: FIN, orphan -> FIN_WAIT2 after A's ACK
    time.sleep(0.3)
    print("  ss A:", [l for l in ss(A, "dport = :5000").splitlines() if "5000" in l])
    print("  ss B:", [l for l in ss(B, "sport = :5000").splitlines() if "5000" in l and "LISTEN" not in l])
    ca, cb = counters(A), counters(B)
    a.settimeout(1)
    for name, fn in ops(a):
        try_op(name, fn)
        time.sleep(0.2)
    print("  ss A after:", [l for l in ss(A, "dport = :5000").splitlines() if "5000" in l] or "(none)")
    print("  ss B after:", [l for l in ss(B, "sport = :5000").splitlines() if "5000" in l and "LISTEN" not in l] or "(none)")
    print("  counter delta A:", cdelta(ca, counters(A)))
    print("  counter delta B:", cdelta(cb, counters(B)))
    rel_trace(peer)
    dump("tcpdump " + title, td.stop())
    peer.close()

seq1 = lambda a: [("A send(b'data')", lambda: a.send(b"data")), ("A recv() #1", lambda: a.recv(100)),
                  ("A recv() #2", lambda: a.recv(100)), ("A send() #2", lambda: a.send(b"more")),
                  ("A send() #3", lambda: a.send(b"more"))]
seq2 = lambda a: [("A send(b'data')", lambda: a.send(b"data")), ("A send() #2", lambda: a.send(b"more")),
                  ("A send() #3", lambda: a.send(b"more")), ("A recv() #1", lambda: a.recv(100)),
                  ("A recv() #2", lambda: a.recv(100))]
run("no unread data; send, then recv x2, send x2", False, seq1)
run("6 unread bytes at A; send, then recv x2, send x2", True, seq1)
run("no unread data; send, then send x2, recv x2", False, seq2)
