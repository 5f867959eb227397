"""Shared harness for the Linux TCP observation experiments (docs/linux-observations.md).

Run every experiment as root with Debian's interpreter (it has python3-scapy):
    /usr/bin/python3 docs/experiments/NAME.py

Topology built by setup():
    netns "la"  (kernel under test, "A")  10.99.0.1/24 on veth "va"
    netns "lb"  (peer, "B")               10.99.0.2/24 on veth "vb"
Traffic never leaves these two namespaces.  Offloads (tso/gso/gro/tx-csum)
are switched off so tcpdump shows wire-sized segments with real checksums.
Congestion control is set to reno in both namespaces.

One Python process drives both namespaces: `with ns("la"): s = socket.socket()`
creates a socket living in la (a socket stays in the netns it was created in).
The scapy "peer" uses an AF_PACKET socket on vb (sniffs and injects at L2, so
it bypasses nftables in lb; nft rules in lb only silence lb's own kernel TCP).
"""
import contextlib
import ctypes
import os
import socket
import struct
import subprocess
import threading
import time

from scapy.all import Ether, IP, TCP, Raw  # noqa: F401

A, B = "la", "lb"
A_IP, B_IP = "10.99.0.1", "10.99.0.2"

_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_CLONE_NEWNET = 0x40000000
_orig_ns_fd = os.open("/proc/self/ns/net", os.O_RDONLY)

# socket option numbers not in python's socket module
TCP_LINGER2 = 8
TCP_CONGESTION = 13
TCP_INFO = 11


@contextlib.contextmanager
def ns(name):
    fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(fd, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")
        yield
    finally:
        _libc.setns(_orig_ns_fd, _CLONE_NEWNET)
        os.close(fd)


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.stderr}")
    return r.stdout


def nsx(n, cmd, check=True):
    return sh(f"ip netns exec {n} {cmd}", check)


def sysctl(n, key, val):
    nsx(n, f"sysctl -q -w {key}={val}")


def setup(mtu=1500, silent_peer=False, sysctls=None):
    for n in (A, B):
        sh(f"ip netns del {n}", check=False)
    for n in (A, B):
        sh(f"ip netns add {n}")
        nsx(n, "ip link set lo up")
    sh(f"ip link add va netns {A} type veth peer name vb netns {B}")
    nsx(A, f"ip addr add {A_IP}/24 dev va")
    nsx(B, f"ip addr add {B_IP}/24 dev vb")
    for n, d in ((A, "va"), (B, "vb")):
        nsx(n, f"ip link set {d} mtu {mtu}")
        nsx(n, f"ethtool -K {d} tso off gso off gro off tx off rx off", check=False)
        nsx(n, f"ip link set {d} up")
        sysctl(n, "net.ipv4.tcp_congestion_control", "reno")
        for k, v in (sysctls or {}).items():
            sysctl(n, k, v)
    amac = nsx(A, "cat /sys/class/net/va/address").strip()
    bmac = nsx(B, "cat /sys/class/net/vb/address").strip()
    nsx(A, f"ip neigh replace {B_IP} lladdr {bmac} dev va nud permanent")
    nsx(B, f"ip neigh replace {A_IP} lladdr {amac} dev vb nud permanent")
    if silent_peer:
        silence(B)
    return amac, bmac


def silence(n, on=True):
    """Drop every TCP segment delivered to namespace n's own stack (input hook)
    and every TCP segment its stack sends (output hook)."""
    if on:
        nsx(n, "nft add table ip quiet")
        nsx(n, "nft add chain ip quiet in '{ type filter hook input priority 0; }'")
        nsx(n, "nft add chain ip quiet out '{ type filter hook output priority 0; }'")
        nsx(n, "nft add rule ip quiet in ip protocol tcp drop")
        nsx(n, "nft add rule ip quiet out ip protocol tcp drop")
    else:
        nsx(n, "nft delete table ip quiet", check=False)


class Tcpdump:
    def __init__(self, n=A, iface="va", filt="tcp", extra="-ttttt"):
        self.path = f"/tmp/tcpdump.{n}.{iface}.{os.getpid()}.txt"
        self.f = open(self.path, "w")
        self.p = subprocess.Popen(
            f"ip netns exec {n} tcpdump -i {iface} -nn -S -v -l {extra} {filt}",
            shell=True, stdout=self.f, stderr=subprocess.PIPE, text=True)
        # wait for "listening on"
        self.p.stderr.readline()
        time.sleep(0.2)

    def stop(self):
        time.sleep(0.3)
        self.p.terminate()
        try:
            self.p.wait(3)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.f.close()
        with open(self.path) as f:
            return f.read()


def counters(n=A):
    out = nsx(n, "nstat -asz")
    d = {}
    for line in out.splitlines():
        p = line.split()
        if len(p) >= 2 and not line.startswith("#"):
            try:
                d[p[0]] = int(p[1])
            except ValueError:
                pass
    return d


def cdelta(before, after, skip=("IpExt", "Ip", "Udp", "Icmp")):
    res = {}
    for k, v in after.items():
        dv = v - before.get(k, 0)
        if dv and not any(k.startswith(s) and not k.startswith("Tcp") for s in skip):
            res[k] = dv
    return res


def ss(n=A, filt=""):
    return nsx(n, f"ss -tanoie {filt}")


def errname(e):
    import errno
    return f"{errno.errorcode.get(e.errno, e.errno)} ({e.strerror})"


def try_op(label, fn):
    try:
        r = fn()
        print(f"  {label} -> returned {r!r}")
        return r
    except OSError as e:
        print(f"  {label} -> raised {errname(e)}")
        return e


class Peer:
    """Raw L2 peer on vb inside lb: records every frame (both directions) and injects."""

    def __init__(self, amac, bmac, n=B, iface="vb"):
        self.amac, self.bmac = amac, bmac
        with ns(n):
            self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            self.s.bind((iface, 0))
        self.s.settimeout(0.1)
        self.pkts = []  # (time, direction 'in'/'out' from B's view, scapy pkt)
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop_ev.is_set():
            try:
                data, addr = self.s.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            p = Ether(data)
            if TCP not in p:
                continue
            d = "out" if addr[2] == socket.PACKET_OUTGOING else "in"
            with self.lock:
                self.pkts.append((time.time(), d, p))

    def close(self):
        self.stop_ev.set()
        self.t.join(1)
        self.s.close()

    def send(self, ip_tcp):
        frame = Ether(src=self.bmac, dst=self.amac) / ip_tcp
        self.s.send(bytes(frame))

    def from_a(self, since=0.0):
        with self.lock:
            return [(t, p) for (t, d, p) in self.pkts if d == "in" and t >= since]

    def wait(self, pred, timeout=5.0, since=0.0):
        end = time.time() + timeout
        seen = 0
        while time.time() < end:
            lst = self.from_a(since)
            for t, p in lst[seen:]:
                if pred(p):
                    return t, p
            seen = len(lst)
            time.sleep(0.01)
        return None

    def last_from_a(self):
        lst = self.from_a()
        return lst[-1][1] if lst else None


def tsopt(p):
    for o in p[TCP].options:
        if o[0] == "Timestamp":
            return o[1]
    return None


def flags(p):
    return str(p[TCP].flags)


def dump(title, text):
    print(f"----- {title} -----")
    print(text.rstrip())
    print("-" * (12 + len(title)))


def rel_trace(peer, t0=0.0, title="segments on the wire (from vb's AF_PACKET tap)"):
    """Print every captured segment with seq/ack relative to the ISNs of the
    first SYN / SYN-ACK seen (A->B = sent by la, B->A = sent by lb's kernel;
    frames injected by the scapy peer are not captured by its own socket)."""
    time.sleep(0.2)
    with peer.lock:
        pk = list(peer.pkts)
    isn = {}
    for t, d, p in pk:
        f = str(p[TCP].flags)
        if "S" in f:
            isn.setdefault(d, p[TCP].seq)
    print(f"----- {title} -----")
    if not t0 and pk:
        t0 = pk[0][0]
    for t, d, p in pk:
        if t < t0:
            continue
        tp = p[TCP]
        me, other = ("in", "out") if d == "in" else ("out", "in")
        who = "A->B" if d == "in" else "B->A"
        rs = tp.seq - isn.get(me, 0)
        ra = (tp.ack - isn.get(other, 0)) if "A" in str(tp.flags) else "-"
        print(f"  {t - t0:8.3f} {who} {str(tp.flags):4s} seq={rs} ack={ra} len={len(tp.payload)} win={tp.window} ts={tsopt(p)}")
    print("-----")


class St:
    """Sequence state of the A<->B connection learned from the vb tap.
    Values are absolute; rel_a()/rel_b() convert to ISN-relative."""

    def __init__(self, peer):
        time.sleep(0.2)
        with peer.lock:
            pk = list(peer.pkts)
        self.peer = peer
        self.a_isn = self.b_isn = None
        self.a_nxt = self.b_nxt = 0
        for t, d, p in pk:
            tp = p[TCP]
            f = str(tp.flags)
            end = tp.seq + len(tp.payload) + ("S" in f) + ("F" in f)
            if d == "in":
                if "S" in f and self.a_isn is None:
                    self.a_isn = tp.seq
                self.a_nxt = end if self.a_nxt == 0 or ((end - self.a_nxt) & 0xffffffff) < 1 << 31 else self.a_nxt
                self.aport, self.bport = tp.sport, tp.dport
                if tsopt(p):
                    self.a_ts = tsopt(p)[0]
            else:
                if "S" in f and self.b_isn is None:
                    self.b_isn = tp.seq
                self.b_nxt = end if self.b_nxt == 0 or ((end - self.b_nxt) & 0xffffffff) < 1 << 31 else self.b_nxt
                if tsopt(p):
                    self.b_ts = tsopt(p)[0]

    def ra(self, x):
        return (x - self.a_isn) & 0xffffffff

    def rb(self, x):
        return (x - self.b_isn) & 0xffffffff

    def inject(self, label, flags, seq, ack=None, data=b"", ts=True, wait=0.5, window=64, quiet_counters=False):
        opts = []
        if ts:
            self.b_ts += 10
            opts = [("NOP", None), ("NOP", None), ("Timestamp", (self.b_ts, self.a_ts))]
        tcp = TCP(sport=self.bport, dport=self.aport, flags=flags, seq=seq & 0xffffffff,
                  ack=(ack or 0) & 0xffffffff, window=window, options=opts)
        pkt = IP(src=B_IP, dst=A_IP) / tcp / (Raw(data) if data else b"")
        c0 = counters(A)
        t0 = time.time()
        print(f"  >> {label}: inject {flags} seq=rel {self.rb(seq)} ack=rel {self.ra(ack) if ack is not None else '-'} len={len(data)}")
        self.peer.send(pkt)
        time.sleep(wait)
        resp = self.peer.from_a(t0)
        if not resp:
            print(f"     response: none within {wait} s")
        for t, p in resp:
            tp = p[TCP]
            if tsopt(p):
                self.a_ts = tsopt(p)[0]
            ack_s = f"ack=rel {self.rb(tp.ack)}" if "A" in str(tp.flags) else f"ack=(raw {tp.ack}, no ACK flag)"
            print(f"     response: {str(tp.flags)} seq=rel {self.ra(tp.seq)} {ack_s} len={len(tp.payload)} win={tp.window} ts={tsopt(p)}")
        if not quiet_counters:
            print("     counter delta A:", cdelta(c0, counters(A)))
        return resp


def a_state(port_filter="dport = :5000"):
    l = [x for x in ss(A, port_filter).splitlines() if ":5000" in x and not x.startswith("LISTEN")]
    return l[0] if l else "(no socket)"
