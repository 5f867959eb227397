"""Q2: keepalive probes (IDLE=2, INTVL=1, CNT=3): answered by a normal Linux peer,
then against a silenced peer (nft drop in lb), then a peer that answers with RST."""
import socket, sys, threading, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def connect():
    with ns(B):
        ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        c = socket.socket()
    c.connect((B_IP, 5000)); s, _ = ls.accept()
    c.send(b"hello"); s.recv(100)
    s.send(b"world"); c.recv(100)
    return ls, c, s

def keepalive(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 2)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)

def blocking_recv(c, res, t0):
    try:
        r = c.recv(100)
        res.append((time.time() - t0, f"returned {r!r}"))
    except OSError as e:
        res.append((time.time() - t0, f"raised {errname(e)}"))

def show_peer_view(peer, isn_a, isn_b, t0):
    print("segments seen on vb (t rel. to SO_KEEPALIVE; seq/ack relative to A's ISN / B's ISN):")
    with peer.lock:
        pk = list(peer.pkts)
    for t, d, p in pk:
        if t < t0: continue
        tp = p[TCP]
        src = "A->B" if d == "in" else "B->A"
        if src == "A->B":
            rs, ra = tp.seq - isn_a, tp.ack - isn_b
        else:
            rs, ra = tp.seq - isn_b, tp.ack - isn_a
        print(f"  {t - t0:7.3f} {src} {str(tp.flags):4s} seq={rs} ack={ra} len={len(tp.payload)} win={tp.window} ts={tsopt(p)}")

def isns(peer):
    time.sleep(0.3)
    syn = [p for (t, d, p) in peer.pkts if d == "in" and p[TCP].flags == "S"][0]
    synack = [p for (t, d, p) in peer.pkts if d == "out" and p[TCP].flags == "SA"][0]
    return syn[TCP].seq, synack[TCP].seq

def case_silent():
    amac, bmac = setup()
    peer = Peer(amac, bmac)
    td = Tcpdump()
    ls, c, s = connect()
    isn_a, isn_b = isns(peer)
    print(f"A ISN={isn_a} B ISN={isn_b}")
    c0 = counters(A)
    t0 = time.time()
    keepalive(c)
    res = []
    th = threading.Thread(target=blocking_recv, args=(c, res, t0)); th.start()
    time.sleep(4.6)                      # 2 probes answered by a live peer
    print("ss at t=4.6 (answered probes):"); print(ss(A, "dport = :5000"))
    silence(B)
    print(f"peer silenced at t={time.time() - t0:.3f}")
    for i in range(12):                  # poll ss while probing, bounded
        time.sleep(0.5)
        out = ss(A, "dport = :5000")
        line = [l for l in out.splitlines() if "5000" in l]
        print(f"  t={time.time() - t0:5.2f} ss: {line[0].split()[0] if line else '(gone)'} {[w for w in (line[0].split() if line else []) if w.startswith('timer')]}")
        if not line: break
    th.join(10)
    print("app recv() result (t, outcome):", res)
    try_op("second recv()", lambda: c.recv(100))
    try_op("send()", lambda: c.send(b"x"))
    print("counter delta A:", cdelta(c0, counters(A)))
    dump("tcpdump A va", td.stop())
    show_peer_view(peer, isn_a, isn_b, t0)
    peer.close()

def case_rst():
    amac, bmac = setup()
    peer = Peer(amac, bmac)
    td = Tcpdump()
    ls, c, s = connect()
    isn_a, isn_b = isns(peer)
    silence(B)
    c0 = counters(A)
    t0 = time.time()
    keepalive(c)
    res = []
    th = threading.Thread(target=blocking_recv, args=(c, res, t0)); th.start()
    r = peer.wait(lambda p: p[TCP].flags == "A" and len(p[TCP].payload) == 0, timeout=5, since=t0)
    assert r, "no probe"
    probe = r[1]
    # what a rebooted Linux host answers to an ACK for an unknown connection: RST, seq = SEG.ACK
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=5000, dport=probe[TCP].sport, flags="R", seq=probe[TCP].ack, window=0))
    th.join(3)
    print("app recv() result:", res)
    try_op("second recv()", lambda: c.recv(100))
    try_op("send()", lambda: c.send(b"x"))
    print("ss after RST:"); print(ss(A, "dport = :5000"))
    print("counter delta A:", cdelta(c0, counters(A)))
    dump("tcpdump A va", td.stop())
    show_peer_view(peer, isn_a, isn_b, t0)
    peer.close()

if "rst" in sys.argv[1:]:
    case_rst()
else:
    case_silent()
