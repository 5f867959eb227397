"""Q1: handshake options/windows (loopback in a netns, veth MTU 1500) and the
receiver's advertised window while a non-reading receiver gets 100 KB."""
import re, socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def run(case):
    amac, bmac = setup()
    if case == "lo":
        srv_ns, cli_ns, ip, td = A, A, "127.0.0.1", Tcpdump(A, "lo", "tcp port 5000")
    else:
        srv_ns, cli_ns, ip, td = B, A, B_IP, Tcpdump(A, "va", "tcp port 5000")
    with ns(srv_ns):
        ls = socket.socket(); ls.bind((ip, 5000)); ls.listen(8)
    with ns(cli_ns):
        c = socket.socket()
    c.connect((ip, 5000))
    s, _ = ls.accept()
    time.sleep(0.3)
    c.send(b"x" * 100)          # first data segment
    time.sleep(0.3)
    print("ss after handshake + 100 B (client ns):"); print(ss(cli_ns, "'( sport = :5000 or dport = :5000 )'"))
    # 100 KB to a receiver that never reads
    c.setblocking(False)
    total, payload, end = 0, b"y" * 102400, time.time() + 5
    while total < len(payload) and time.time() < end:
        try:
            total += c.send(payload[total:])
        except BlockingIOError:
            time.sleep(0.05)
    time.sleep(1.0)
    print(f"client queued {total} of 102400 bytes of the 100 KB send")
    print("ss (receiver ns):"); print(ss(srv_ns, "'( sport = :5000 )'"))
    print("ss (client ns):"); print(ss(cli_ns, "'( dport = :5000 )'"))
    txt = td.stop()
    dump(f"tcpdump {case}", txt)
    # receiver -> sender ACK windows
    wins = re.findall(rf"{re.escape(ip)}\.5000 > [\d.]+: Flags \[([^\]]+)\].*?ack (\d+), win (\d+)", txt, re.S)
    print("receiver ACKs (flags, ack, raw win):")
    for f, a, w in wins:
        print(f"  {f:4s} ack {a:>12s} win {w}")
    c.close(); s.close(); ls.close()

for case in [a for a in sys.argv[1:] if a != "fill"] or ([] if "fill" in sys.argv else ["lo", "veth"]):
    print(f"========== {case} ==========")
    run(case)


def fill():
    """Extra: keep sending to the non-reading receiver (veth) until the window is 0,
    watch zero-window probes for 3 s, then read everything and show the window update."""
    amac, bmac = setup()
    peer = Peer(amac, bmac)
    td = Tcpdump(A, "va", "tcp port 5000", extra="-ttttt")
    with ns(B):
        ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        c = socket.socket()
    c.connect((B_IP, 5000)); s, _ = ls.accept()
    c.setblocking(False)
    total, end = 0, time.time() + 3
    while time.time() < end:
        try:
            total += c.send(b"z" * 65536)
        except BlockingIOError:
            time.sleep(0.02)
    print(f"queued {total} bytes before blocking for good")
    time.sleep(3)
    print("ss receiver:"); print(ss(B, "'( sport = :5000 )'"))
    print("ss sender:"); print(ss(A, "'( dport = :5000 )'"))
    got = 0
    s.setblocking(False)
    try:
        while True:
            d = s.recv(1 << 20)
            if not d: break
            got += len(d)
    except BlockingIOError:
        pass
    print(f"receiver read {got} bytes")
    time.sleep(0.5)
    txt = td.stop()
    open("/tmp/exp/q01_fill_tcpdump.txt", "w").write(txt)
    wins = re.findall(rf"^ (\S+) .*?\n\s+{re.escape(B_IP)}\.5000 > [\d.]+: Flags \[([^\]]+)\].*?ack (\d+), win (\d+)", txt, re.M)
    print("receiver ACKs (time, flags, ack, raw win):")
    for t, f, a, w in wins:
        print(f"  {t} {f:4s} ack {a:>12s} win {w}")
    st = St(peer)
    print("zero-length segments from the sender while the window was 0 (persist probes), rel. to ISNs:")
    with peer.lock:
        pk = list(peer.pkts)
    zero = False
    for t, d, p in pk:
        tp = p[TCP]
        if d == "out" and tp.window == 0:
            zero = True
        if d == "out" and tp.window > 0 and zero:
            print(f"  window reopened: B->A win={tp.window} ack=rel {st.ra(tp.ack)}")
            break
        if zero and d == "in" and len(tp.payload) == 0:
            print(f"  {t - pk[0][0]:7.3f} A->B {tp.flags} seq=rel {st.ra(tp.seq)} ack=rel {st.rb(tp.ack)} (snd_una=rel {st.ra(tp.seq) + 1}?)")
    peer.close()
    c.close(); s.close(); ls.close()

if "fill" in sys.argv:
    fill()
