"""State-test experiments (test/tcp/*): run as root in a throwaway namespace:
    unshare -n /usr/bin/python3 docs/experiments/s01_syn_sent.py CASE   (badsynack close linger0 shutdown rst simopen)
    unshare -n /usr/bin/python3 docs/experiments/s02_syn_recv.py CASE   (dupsyn badack rstinwin rstexact rstout syninwin oow noack data fin retries)
A veth pair va (kernel, 10.9.0.1) / vb (scapy peer, L2) inside the anonymous namespace."""
import socket, errno, time, os, struct, subprocess, threading, sys
from scapy.all import Ether, IP, TCP, Raw, sendp, AsyncSniffer, get_if_hwaddr, conf
conf.verb = 0
def sh(c): return subprocess.run(c, shell=True, capture_output=True, text=True).stdout
sh("ip link set lo up; ip link add va type veth peer name vb; ip addr add 10.9.0.1/24 dev va; ip link set va up; ip link set vb up")
sh("ethtool -K va tso off gso off gro off tx off rx off; ethtool -K vb tso off gso off gro off tx off rx off")
amac, bmac = get_if_hwaddr("va"), get_if_hwaddr("vb")
sh(f"ip neigh add 10.9.0.2 lladdr {bmac} dev va")
def nstat():
    out = sh("nstat -asz")
    d = {}
    for l in out.splitlines()[1:]:
        p = l.split()
        if len(p) >= 2 and p[1].isdigit(): d[p[0]] = int(p[1])
    return d
def delta(a, b):
    return {k: b[k]-a.get(k,0) for k in b if b[k]-a.get(k,0) and not k.startswith(("Ip","Udp","Icmp"))}
pk = []
sn = AsyncSniffer(iface="vb", prn=lambda p: pk.append((time.time(), p)), store=False, filter="tcp")
sn.start(); time.sleep(0.5)
def inj(**kw):
    payload = kw.pop("data", b"")
    p = Ether(src=bmac, dst=amac)/IP(src="10.9.0.2", dst="10.9.0.1")/TCP(**kw)
    if payload: p = p/Raw(payload)
    sendp(p, iface="vb")
def show(t0, label):
    print(f"--- {label}")
    for t, p in pk:
        if t < t0 or IP not in p: continue
        if p[IP].src != "10.9.0.1": continue
        tp = p[TCP]
        print(f"   +{t-t0:7.3f} A->B {str(tp.flags):4} seq={tp.seq} ack={tp.ack} win={tp.window} len={len(tp.payload)} opts={tp.options}")
def t(label, fn):
    try:
        r = fn(); print(f"   {label}: returned {r!r}")
    except OSError as e:
        print(f"   {label}: {errno.errorcode.get(e.errno, e.errno)}")
def syn_sent():
    s = socket.socket(); s.setblocking(False)
    try: s.connect(("10.9.0.2", 80))
    except BlockingIOError: pass
    time.sleep(0.05)
    syn = [p for _, p in pk if IP in p and p[IP].src == "10.9.0.1" and p[TCP].flags == "S"][-1]
    return s, syn[TCP]

case = sys.argv[1]
if case == "badsynack":
    c0 = nstat(); t0 = time.time()
    s, syn = syn_sent()
    inj(sport=80, dport=syn.sport, flags="SA", seq=5000, ack=syn.seq + 100, window=65160)
    time.sleep(0.6)
    show(t0, "bad SYN-ACK (ack=ISS+100) in SYN_SENT")
    print("   counters", delta(c0, nstat()))
    print(sh("ss -tanoi | grep 10.9.0.2"))
elif case == "close":
    c0 = nstat(); t0 = time.time()
    s, syn = syn_sent()
    s.close(); time.sleep(0.1)
    inj(sport=80, dport=syn.sport, flags="SA", seq=5000, ack=syn.seq + 1, window=65160)
    time.sleep(0.3)
    show(t0, "close() in SYN_SENT, then SYN-ACK")
    print("   counters", delta(c0, nstat()))
elif case == "linger0":
    c0 = nstat(); t0 = time.time()
    s, syn = syn_sent()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close(); time.sleep(0.2)
    show(t0, "SO_LINGER{1,0} close() in SYN_SENT")
    print("   counters", delta(c0, nstat()))
elif case == "shutdown":
    c0 = nstat(); t0 = time.time()
    s, syn = syn_sent()
    s.shutdown(socket.SHUT_WR); time.sleep(0.2)
    show(t0, "shutdown(SHUT_WR) in SYN_SENT")
    print("   counters", delta(c0, nstat()))
    t("recv", lambda: s.recv(10)); t("recv", lambda: s.recv(10)); t("send", lambda: s.send(b"x"))
elif case == "rst":
    c0 = nstat(); t0 = time.time()
    s, syn = syn_sent()
    inj(sport=80, dport=syn.sport, flags="R", seq=0, window=0)
    time.sleep(0.1)
    print("   after bare RST:", sh("ss -tan | grep 10.9.0.2").strip())
    inj(sport=80, dport=syn.sport, flags="RA", seq=0, ack=syn.seq + 5, window=0)
    time.sleep(0.1)
    print("   after RST|ACK bad ack:", sh("ss -tan | grep 10.9.0.2").strip())
    inj(sport=80, dport=syn.sport, flags="A", seq=0, ack=syn.seq + 1, window=0)
    time.sleep(0.1)
    print("   after bare ACK with good ack:", sh("ss -tan | grep 10.9.0.2").strip())
    inj(sport=80, dport=syn.sport, flags="RA", seq=0, ack=syn.seq + 1, window=0)
    time.sleep(0.1)
    show(t0, "RSTs in SYN_SENT")
    print("   counters", delta(c0, nstat()))
    t("recv", lambda: s.recv(10)); t("recv", lambda: s.recv(10)); t("send", lambda: s.send(b"x"))
elif case == "simopen":
    c0 = nstat(); t0 = time.time()
    s, syn = syn_sent()
    inj(sport=80, dport=syn.sport, flags="S", seq=7000, window=64240, options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (111, 0)), ("NOP", None), ("WScale", 7)])
    time.sleep(0.1)
    print("   state:", sh("ss -tanoi | grep 10.9.0.2").strip())
    inj(sport=80, dport=syn.sport, flags="SA", seq=7000, ack=syn.seq + 1, window=64240, options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (112, 0)), ("NOP", None), ("WScale", 7)])
    time.sleep(0.1)
    print("   state:", sh("ss -tanoi | grep 10.9.0.2").strip())
    show(t0, "simultaneous open")
    print("   counters", delta(c0, nstat()))
sn.stop()
