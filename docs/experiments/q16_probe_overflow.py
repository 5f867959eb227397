"""Q16: what was expected from the kernel source only, now observed.
(a) zero-window probes when each probe's answer comes 150 ms late: is the probe timer re-armed
    from the answer (tcp_ack -> tcp_ack_probe) or from the probe? TCPWinProbe per probe?
(b) close() of a listener with a SYN_RECV request: does TcpAttemptFails move when the request
    is dropped (at close or when its timer runs out)?
(c) tcp_max_tw_buckets = 0: orphaned FIN_WAIT2, TIME_WAIT after an active close, and CLOSING
    after a simultaneous close: which sockets remain, counters, and the answer to a late FIN."""
import socket, sys, threading, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]


def handshake_zero_window(peer, port=5000, sport_wait=5.0):
    """A connects to B:port; the scapy peer (B's stack silent) answers with a zero window."""
    with ns(A):
        a = socket.socket()
        a.setblocking(False)
    try:
        a.connect((B_IP, port))
    except BlockingIOError:
        pass
    got = peer.wait(lambda p: p[TCP].flags == "S", timeout=sport_wait)
    syn = got[1]
    isn_b = 5000
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=port, dport=syn[TCP].sport, flags="SA", seq=isn_b, ack=syn[TCP].seq + 1,
                                          window=0, options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (100, tsopt(syn)[0])), ("NOP", None), ("WScale", 7)]))
    peer.wait(lambda p: p[TCP].flags == "A" and p[TCP].dport == port, timeout=2)
    return a, syn, isn_b


def case_a():
    print("=== (a) zero-window probes, each answered 150 ms late")
    amac, bmac = setup(silent_peer=True)
    peer = Peer(amac, bmac)
    a, syn, isn_b = handshake_zero_window(peer)
    ca = counters(A)
    t0 = time.time()
    a.send(b"x" * 1000)  # queued: the window is zero
    answered = set()
    acks = []
    end = t0 + 6.0
    while time.time() < end:
        for t, p in peer.from_a(t0):
            if p[TCP].dport != 5000 or t in answered or len(p[TCP].payload) != 0:
                continue
            answered.add(t)
            def answer(p=p):
                time.sleep(0.150)
                ts = tsopt(p)
                peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=5000, dport=p[TCP].sport, flags="A", seq=isn_b + 1, ack=syn[TCP].seq + 1,
                                                      window=0, options=[("NOP", None), ("NOP", None), ("Timestamp", (200, ts[0] if ts else 0))]))
                acks.append(time.time() - t0)
            threading.Thread(target=answer, daemon=True).start()
        time.sleep(0.005)
    probes = [round(t - t0, 3) for t, p in peer.from_a(t0) if p[TCP].dport == 5000 and len(p[TCP].payload) == 0]
    acks.sort()
    print("  probe times (s):", probes)
    print("  answer times (s):", [round(x, 3) for x in acks])
    print("  probe - previous probe:", [round(b - a_, 3) for a_, b in zip(probes, probes[1:])])
    print("  probe - previous answer:", [round(b - a_, 3) for a_, b in zip(acks, probes[1:])])
    print("  counter delta A:", cdelta(ca, counters(A)))
    print(ss(A, "dport = :5000"))
    peer.close()


def case_b():
    print("\n=== (b) listener close() with a SYN_RECV request; counters at close and after the request's timer")
    amac, bmac = setup()
    peer = Peer(amac, bmac)
    with ns(A):
        ls = socket.socket(); ls.bind((A_IP, 5000)); ls.listen(8)
    nsx(B, "nft add table ip q40")
    nsx(B, "nft add chain ip q40 in '{ type filter hook input priority 0; }'")
    nsx(B, "nft add rule ip q40 in tcp dport 40000 drop")
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=40000, dport=5000, flags="S", seq=1000, window=64240, options=OPTS))
    time.sleep(0.3)
    print(ss(A, "sport = :5000"))
    ca = counters(A)
    ls.close()
    time.sleep(0.3)
    print("  0.3 s after close, counter delta A:", cdelta(ca, counters(A)))
    print(ss(A, "sport = :5000"))
    time.sleep(3.0)
    print("  3.3 s after close (the SYN-ACK timer would have fired at 1 s and 3 s), counter delta A:", cdelta(ca, counters(A)))
    print(ss(A, "sport = :5000"))
    synacks = [round(t - time.time(), 3) for t, p in peer.from_a() if p[TCP].flags == "SA"]
    print("  SYN-ACKs sent in all:", len(synacks))
    peer.close()


def pair(sysctls):
    amac, bmac = setup(sysctls=sysctls)
    peer = Peer(amac, bmac)
    with ns(B):
        ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        a = socket.socket()
    a.connect((B_IP, 5000))
    b, _ = ls.accept()
    a.send(b"req"); b.recv(10)
    return peer, ls, a, b


def case_c():
    print("\n=== (c) net.ipv4.tcp_max_tw_buckets = 0 in A")
    # c1: orphaned FIN_WAIT2 (A closes, B never does)
    peer, ls, a, b = pair({})
    sysctl(A, "net.ipv4.tcp_max_tw_buckets", 0)
    ca = counters(A)
    a.close(); time.sleep(0.3)
    print("  c1 orphaned FIN_WAIT2: A sockets 0.3 s after close():")
    print(ss(A, "dport = :5000"))
    print("  counter delta A:", cdelta(ca, counters(A)))
    t1 = time.time()
    b.close(); time.sleep(0.3)
    print("  B's FIN then gets:", [(flags(p), p[TCP].sport) for t, p in peer.from_a(t1)])
    peer.close()
    # c2: TIME_WAIT from a full socket: A shutdown(SHUT_WR) (FIN_WAIT2, not orphaned), then B closes
    peer, ls, a, b = pair({})
    sysctl(A, "net.ipv4.tcp_max_tw_buckets", 0)
    ca = counters(A)
    a.shutdown(socket.SHUT_WR); time.sleep(0.1)
    print("  c2 after shutdown(SHUT_WR):", [l for l in ss(A, "dport = :5000").splitlines() if "5000" in l])
    b.close(); time.sleep(0.3)
    print("  c2 after B's FIN (TIME_WAIT would start): A sockets:", [l for l in ss(A, "dport = :5000").splitlines() if "5000" in l])
    print("  counter delta A:", cdelta(ca, counters(A)))
    t1 = time.time()
    try_op("  A recv() after", lambda: a.recv(10))
    peer.close()
    # c3: CLOSING, with the scapy peer as B: A's FIN is answered by B's FIN that does not ack it,
    #     then (0.3 s later) by the ACK of A's FIN.
    amac, bmac = setup(silent_peer=True)
    sysctl(A, "net.ipv4.tcp_max_tw_buckets", 0)
    peer = Peer(amac, bmac)
    with ns(A):
        a = socket.socket()
        a.setblocking(False)
    try:
        a.connect((B_IP, 5000))
    except BlockingIOError:
        pass
    syn = peer.wait(lambda p: p[TCP].flags == "S")[1]
    isn_b = 7000
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=5000, dport=syn[TCP].sport, flags="SA", seq=isn_b, ack=syn[TCP].seq + 1, window=64240,
                                          options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (100, tsopt(syn)[0])), ("NOP", None), ("WScale", 7)]))
    peer.wait(lambda p: p[TCP].flags == "A")
    time.sleep(0.1)
    ca = counters(A)
    t1 = time.time()
    a.close()
    fin = peer.wait(lambda p: "F" in str(p[TCP].flags), since=t1)[1]
    ts = tsopt(fin)[0]
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=5000, dport=syn[TCP].sport, flags="FA", seq=isn_b + 1, ack=fin[TCP].seq,
                                          window=502, options=[("NOP", None), ("NOP", None), ("Timestamp", (101, ts))]))
    time.sleep(0.1)
    print("  c3 after the crossing FIN: A:", [l for l in ss(A, "dport = :5000").splitlines() if "5000" in l])
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=5000, dport=syn[TCP].sport, flags="A", seq=isn_b + 2, ack=fin[TCP].seq + 1,
                                          window=502, options=[("NOP", None), ("NOP", None), ("Timestamp", (102, ts))]))
    time.sleep(0.2)
    print("  c3 after the ACK of A's FIN (CLOSING -> TIME_WAIT would start): A:", [l for l in ss(A, "dport = :5000").splitlines() if "5000" in l])
    print("  counter delta A:", cdelta(ca, counters(A)))
    t2 = time.time()
    peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=5000, dport=syn[TCP].sport, flags="FA", seq=isn_b + 1, ack=fin[TCP].seq + 1,
                                          window=502, options=[("NOP", None), ("NOP", None), ("Timestamp", (103, ts))]))
    time.sleep(0.2)
    print("  c3 a retransmitted FIN from B then gets:", [(flags(p), p[TCP].seq, p[TCP].ack) for t, p in peer.from_a(t2)])
    rel_trace(peer)
    peer.close()


case_a()
case_b()
case_c()
for n in (A, B):
    sh(f"ip netns del {n}", check=False)
