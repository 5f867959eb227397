"""Kernel checks behind test/drill scripts that rest on no earlier observation
(docs/linux-observations.md "Q15. Facts pinned by the drill corpus").

    /usr/bin/python3 docs/experiments/d01_drill_checks.py

A = la (kernel under test), B = lb. In each case B's kernel does the handshake
and is then silenced (nft), so A's segments go unanswered unless the scapy peer
answers; times are measured on vb's AF_PACKET tap.
"""
import socket
import struct
import threading
import time

from common import (A, B, A_IP, B_IP, IP, TCP, Raw, Peer, ns, setup, silence, sh, sysctl, errname, flags)

TCP_USER_TIMEOUT = 18
TCP_INFO = 11


def pair(port):
    """An established A(server)<->B(client) pair; returns (a_sock, b_sock)."""
    with ns(A):
        l = socket.socket()
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind((A_IP, port))
        l.listen(4)
    with ns(B):
        c = socket.create_connection((A_IP, port))
    a, _ = l.accept()
    l.close()
    return a, c


def from_a_data(peer, since):
    return [(t, p) for t, p in peer.from_a(since) if flags(p) != "S"]


def main():
    amac, bmac = setup(sysctls={"net.ipv4.tcp_rmem": "'4096 131072 6291456'"})
    peer = Peer(amac, bmac)
    try:
        # (a) tcp_minshall_check: a 3000-byte write, nothing acknowledged: the tail goes out at once.
        a, c = pair(5001)
        silence(B)
        t0 = time.time()
        a.send(b"x" * 3000)
        time.sleep(0.1)
        segs = [(round((t - t0) * 1000, 1), len(p[TCP].payload), flags(p)) for t, p in from_a_data(peer, t0)]
        print("(a) 3000-byte write, no ACKs: segments (ms, len, flags) in the first 100 ms:", segs)
        silence(B, on=False)
        a.close(); c.close()
        time.sleep(0.2)

        # (b) FIN carrying data on a fresh connection: the ACK is delayed by ~40 ms.
        a, c = pair(5002)
        time.sleep(0.05)
        silence(B)
        last = [p for t, p in peer.from_a(0) if p[TCP].dport == c.getsockname()[1]][-1]
        seq, ack = last[TCP].ack, last[TCP].seq + (1 if "S" in flags(last) else 0)
        bport = c.getsockname()[1]
        tsval = [o[1][0] for t, d, p in peer.pkts if d == "out" and p[TCP].sport == bport for o in p[TCP].options if o[0] == "Timestamp"][-1]
        t0 = time.time()
        peer.send(IP(src=B_IP, dst=A_IP) / TCP(sport=c.getsockname()[1], dport=5002, flags="FPA", seq=seq, ack=ack, window=502,
                                               options=[("NOP", None), ("NOP", None), ("Timestamp", (tsval + 10, 0))]) / Raw(b"y" * 10))
        r = peer.wait(lambda p: p[TCP].ack == seq + 11, timeout=1, since=t0)
        print(f"(b) FIN+10 bytes on a fresh connection: ACK of it after {(r[0] - t0) * 1000:.1f} ms" if r else
              f"(b) no ACK: {[(round((t - t0) * 1000, 1), flags(p), p[TCP].seq - ack, p[TCP].ack - seq) for t, p in peer.from_a(t0)]}")
        silence(B, on=False)
        a.close(); c.close()
        time.sleep(0.2)

        # (c) keepalive with TCP_USER_TIMEOUT 2500 ms (idle 2, intvl 1, cnt 3): when does the reset come?
        a, c = pair(5003)
        silence(B)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 2)
        a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
        a.setsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT, 2500)
        t0 = time.time()
        res = {}

        def rd():
            try:
                res["r"] = a.recv(10)
            except OSError as e:
                res["r"] = errname(e)
            res["t"] = time.time() - t0
        th = threading.Thread(target=rd)
        th.start()
        th.join(6)
        segs = [(round(t - t0, 2), flags(p)) for t, p in from_a_data(peer, t0)]
        print("(c) keepalive + TCP_USER_TIMEOUT 2500: segments (s, flags):", segs, "recv:", res)
        silence(B, on=False)
        a.close(); c.close()
        time.sleep(0.2)

        # (d) tcpi_rto and tcpi_backoff after two retransmission timeouts.
        a, c = pair(5004)
        silence(B)
        t0 = time.time()
        a.send(b"z" * 10)
        snaps = []
        while time.time() - t0 < 2.5:
            info = a.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 104)
            state, ca_state, retransmits, probes, backoff = struct.unpack_from("BBBBB", info, 0)
            rto, = struct.unpack_from("I", info, 8)
            if not snaps or snaps[-1][1:] != (retransmits, backoff, rto):
                snaps.append((round((time.time() - t0) * 1000), retransmits, backoff, rto))
            time.sleep(0.005)
        times = [round((t - t0) * 1000) for t, p in from_a_data(peer, t0) if len(p[TCP].payload)]
        print("(d) TCP_INFO changes (ms, tcpi_retransmits, tcpi_backoff, tcpi_rto):", snaps)
        print(f"(d) after 2 timeouts (sends at {times} ms): tcpi_retransmits={retransmits} tcpi_backoff={backoff} tcpi_rto={rto} ca_state={ca_state}")
        silence(B, on=False)
        a.close(); c.close()
        time.sleep(0.2)

        # (e) SO_LINGER {1,1}, FIN never acknowledged: how long does close() block?
        a, c = pair(5005)
        silence(B)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 1))
        t0 = time.time()
        a.close()
        print(f"(e) SO_LINGER {{1,1}}, FIN unacknowledged: close() returned after {time.time() - t0:.3f} s")
        silence(B, on=False)
        c.close()
    finally:
        peer.close()
        for n in (A, B):
            sh(f"ip netns del {n}", check=False)


if __name__ == "__main__":
    main()
