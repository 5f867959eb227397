import socket, errno, time, os, struct, subprocess, sys
sys.argv += []
exec(open(__import__("os").path.join(__import__("os").path.dirname(__file__), "s01_syn_sent.py")).read().split("case = sys.argv[1]")[0].replace("def syn_sent", "def _unused"))
case = sys.argv[1]
OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]
if case.startswith("retries"):
    sh("sysctl -q -w net.ipv4.tcp_synack_retries=2")
ls = socket.socket(); ls.bind(("10.9.0.1", 80)); ls.listen(8)
sport = [40000]
def syn(seq=1000, port=None):
    inj(sport=port or sport[0], dport=80, flags="S", seq=seq, window=64240, options=OPTS)
    time.sleep(0.05)
    sa = [p for _, p in pk if IP in p and p[IP].src == "10.9.0.1" and p[TCP].flags == "SA" and p[TCP].dport == (port or sport[0])][-1]
    return sa[TCP]
def ts(v, e): return [("NOP", None), ("NOP", None), ("Timestamp", (v, e))]
def tsv(p): return dict(p.options)["Timestamp"][0]
def st(): return sh("ss -tanoi | grep 10.9.0.2").strip() or "(none)"
c0 = nstat(); t0 = time.time()
if case == "dupsyn":
    sa = syn()
    syn(); time.sleep(0.05)
    print("   after dup SYN:", st())
    syn(); time.sleep(0.05)
    show(t0, "dup SYN twice (second within 500 ms)")
elif case == "badack":
    sa = syn()
    inj(sport=40000, dport=80, flags="A", seq=1001, ack=sa.seq + 5, window=502, options=ts(1001, tsv(sa)))
    time.sleep(0.1); print("   after bad ACK:", st())
    show(t0, "ACK with ack=ISS+5")
elif case == "rstinwin":
    sa = syn()
    inj(sport=40000, dport=80, flags="R", seq=1011, window=0)
    time.sleep(0.1); print("   after in-window RST (rcv_nxt+10):", st())
    show(t0, "RST in window")
elif case == "rstexact":
    sa = syn()
    inj(sport=40000, dport=80, flags="R", seq=1001, window=0)
    time.sleep(0.1); print("   after exact RST:", st())
    show(t0, "RST exact")
elif case == "rstout":
    sa = syn()
    inj(sport=40000, dport=80, flags="R", seq=1001 + 1000000, window=0)
    time.sleep(0.1); print("   after out-of-window RST:", st())
    show(t0, "RST outside window")
elif case == "syninwin":
    sa = syn()
    inj(sport=40000, dport=80, flags="S", seq=1011, window=64240, options=OPTS)
    time.sleep(0.1); print("   after SYN seq=rcv_nxt+10:", st())
    show(t0, "SYN with another seq, in window")
elif case == "oow":
    sa = syn()
    inj(sport=40000, dport=80, flags="A", seq=1001 + 1000000, ack=sa.seq + 1, window=502, options=ts(1001, tsv(sa)))
    time.sleep(0.1); print("   after out-of-window ACK:", st())
    show(t0, "ACK (good ack) with seq far beyond window")
elif case == "noack":
    sa = syn()
    inj(sport=40000, dport=80, flags="P", seq=1001, window=502, options=ts(1001, tsv(sa)), data=b"hello")
    time.sleep(0.1); print("   after data without ACK:", st())
    show(t0, "data without ACK flag")
elif case == "data":
    sa = syn()
    inj(sport=40000, dport=80, flags="PA", seq=1001, ack=sa.seq + 1, window=502, options=ts(1001, tsv(sa)), data=b"hello")
    time.sleep(0.3); print("   after ACK+data:", st())
    show(t0, "final ACK carrying 5 bytes")
elif case == "fin":
    sa = syn()
    inj(sport=40000, dport=80, flags="FA", seq=1001, ack=sa.seq + 1, window=502, options=ts(1001, tsv(sa)))
    time.sleep(0.3); print("   after FIN|ACK:", st())
    show(t0, "final ACK carrying FIN")
elif case == "retries":
    sa = syn()
    time.sleep(8.5); print("   after 8.5 s:", st())
    show(t0, "synack_retries=2, never ACKed")
    inj(sport=40000, dport=80, flags="A", seq=1001, ack=sa.seq + 1, window=502, options=ts(1001, tsv(sa)))
    time.sleep(0.1)
    show(t0 + 8.5, "late ACK")
print("   counters", delta(c0, nstat()))
sn.stop()
