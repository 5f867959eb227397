"""Q3: TIME_WAIT behaviour.  A is the server and closes first (so A holds the
TIME_WAIT socket 10.99.0.1:5000 <-> 10.99.0.2:port and keeps its listener).
After the handshake-close, lb is silenced and the scapy peer on vb injects
segments that look like they come from B's old socket."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

class TW:
    pass

def make_tw(rfc1337=0):
    amac, bmac = setup(sysctls={"net.ipv4.tcp_rfc1337": rfc1337})
    peer = Peer(amac, bmac)
    td = Tcpdump()
    with ns(A):
        ls = socket.socket(); ls.bind((A_IP, 5000)); ls.listen(8)
    with ns(B):
        c = socket.socket()
    c.connect((A_IP, 5000)); s, _ = ls.accept()
    c.send(b"hi"); s.recv(10); s.send(b"hello"); c.recv(10)
    s.close()                      # A: active close -> FIN_WAIT1/2
    c.recv(10)                     # B sees EOF
    c.close()                      # B: FIN -> A TIME_WAIT
    time.sleep(0.3)
    silence(B)
    w = TW()
    w.peer, w.td, w.ls = peer, td, ls
    with peer.lock:
        pk = list(peer.pkts)
    syn = [p for (t, d, p) in pk if d == "out" and p[TCP].flags == "S"][0]
    synack = [p for (t, d, p) in pk if d == "in" and p[TCP].flags == "SA"][0]
    bfin = [p for (t, d, p) in pk if d == "out" and "F" in str(p[TCP].flags)][0]
    afin = [p for (t, d, p) in pk if d == "in" and "F" in str(p[TCP].flags)][0]
    lastb = [p for (t, d, p) in pk if d == "out"][-1]
    lasta = [p for (t, d, p) in pk if d == "in"][-1]
    w.isn_b, w.isn_a = syn[TCP].seq, synack[TCP].seq
    w.bport = syn[TCP].sport
    w.rcv_nxt = bfin[TCP].seq + 1          # A's rcv_nxt in TIME_WAIT
    w.snd_nxt = afin[TCP].seq + 1          # A's snd_nxt (tw_snd_nxt)
    w.b_ts = tsopt(lastb)[0]
    w.a_ts = tsopt(lasta)[0]
    print(f"A ISN={w.isn_a} B ISN={w.isn_b}; A tw_snd_nxt={w.snd_nxt} (rel {w.snd_nxt - w.isn_a}); "
          f"A rcv_nxt={w.rcv_nxt} (rel {w.rcv_nxt - w.isn_b}); B port {w.bport}")
    return w

def tw_line(w):
    out = ss(A, "state time-wait")
    l = [x for x in out.splitlines() if f":{w.bport}" in x]
    return l[0] if l else "(no TIME-WAIT entry)"

def inject(w, label, flags, seq, ack=None, data=b"", ts=True):
    opts = []
    if ts:
        w.b_ts += 100
        opts = [("NOP", None), ("NOP", None), ("Timestamp", (w.b_ts, w.a_ts))]
    tcp = TCP(sport=w.bport, dport=5000, flags=flags, seq=seq, ack=ack or 0, window=64, options=opts)
    pkt = IP(src=B_IP, dst=A_IP) / tcp / (Raw(data) if data else b"")
    c0 = counters(A)
    t0 = time.time()
    print(f"\n## {label}: inject {flags} seq=rel {seq - w.isn_b} ack=rel {(ack - w.isn_a) if ack else '-'} len={len(data)}")
    print("  before:", tw_line(w))
    w.peer.send(pkt)
    time.sleep(1.0)
    resp = w.peer.from_a(t0)
    if not resp:
        print("  response: none within 1 s")
    for t, p in resp:
        tp = p[TCP]
        if tsopt(p):
            w.a_ts = tsopt(p)[0]
        print(f"  response +{(t - t0) * 1000:.1f} ms: {str(tp.flags)} seq=rel {tp.seq - w.isn_a} (abs {tp.seq}) "
              f"ack=rel {tp.ack - w.isn_b} win={tp.window} ts={tsopt(p)}")
    print("  after: ", tw_line(w))
    print("  counter delta A:", cdelta(c0, counters(A)))

def main():
    print("=== case 1: rfc1337=0, FIN retransmit, bare ACK, OOW data, RSTs")
    w = make_tw(0)
    print("TW right after close:", tw_line(w)); time.sleep(3)
    inject(w, "retransmitted FIN", "FA", w.rcv_nxt - 1, w.snd_nxt)
    time.sleep(2)
    inject(w, "bare in-window ACK (seq=rcv_nxt)", "A", w.rcv_nxt, w.snd_nxt)
    time.sleep(2)
    inject(w, "out-of-window data (seq=rcv_nxt+100000)", "PA", w.rcv_nxt + 100000, w.snd_nxt, b"0123456789")
    time.sleep(2)
    inject(w, "old duplicate data (seq=rcv_nxt-3, len 2)", "PA", w.rcv_nxt - 3, w.snd_nxt, b"hi")
    time.sleep(2)
    inject(w, "RST seq=rcv_nxt+1 (not exact)", "R", w.rcv_nxt + 1)
    inject(w, "RST seq=rcv_nxt (rfc1337=0)", "R", w.rcv_nxt)
    dump("tcpdump case 1", w.td.stop()); w.peer.close()

    print("\n=== case 2: rfc1337=1, RST seq=rcv_nxt")
    w = make_tw(1)
    time.sleep(3)
    inject(w, "RST seq=rcv_nxt (rfc1337=1)", "R", w.rcv_nxt)
    inject(w, "RST|ACK seq=rcv_nxt (rfc1337=1)", "RA", w.rcv_nxt, w.snd_nxt)
    w.td.stop(); w.peer.close()

    print("\n=== case 3: SYN with higher seq to the TIME_WAIT 4-tuple (listener still open)")
    w = make_tw(0)
    time.sleep(1)
    inject(w, "SYN seq=rcv_nxt+1000", "S", w.rcv_nxt + 1000, ts=True)
    print(f"  expected ISN if tw_snd_nxt+65535+2: {(w.snd_nxt + 65537) & 0xffffffff}")
    print(ss(A, f"'( sport = :5000 )'"))
    dump("tcpdump case 3", w.td.stop()); w.peer.close()

    print("\n=== case 4: SYN with LOWER seq but newer timestamp")
    w = make_tw(0)
    time.sleep(1)
    inject(w, "SYN seq=rcv_nxt-1000, TSval newer", "S", w.rcv_nxt - 1000, ts=True)
    print(f"  expected ISN if tw_snd_nxt+65535+2: {(w.snd_nxt + 65537) & 0xffffffff}")
    w.td.stop(); w.peer.close()

    print("\n=== case 5: SYN with LOWER seq and no timestamp")
    w = make_tw(0)
    time.sleep(1)
    inject(w, "SYN seq=rcv_nxt-1000, no TS", "S", w.rcv_nxt - 1000, ts=False)
    w.td.stop(); w.peer.close()

main()
