"""Q10: RFC 5961 behaviour of an ESTABLISHED socket in la.  Real handshake + 3 bytes
each way, then lb is silenced and the scapy peer plays B.
net.ipv4.tcp_challenge_ack_limit is left at its default (printed)."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def conn():
    amac, bmac = setup()
    peer = Peer(amac, bmac)
    td = Tcpdump()
    with ns(B):
        ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        a = socket.socket()
    a.connect((B_IP, 5000)); b, _ = ls.accept()
    a.send(b"req"); b.recv(10); b.send(b"rsp"); a.recv(10)
    time.sleep(0.1)
    silence(B)
    st = St(peer)
    print(f"  A snd_nxt rel {st.ra(st.a_nxt)}, A rcv_nxt rel {st.rb(st.b_nxt)}")
    return peer, td, ls, a, st

print("tcp_challenge_ack_limit =", nsx(A, "sysctl -n net.ipv4.tcp_challenge_ack_limit").strip(),
      " tcp_invalid_ratelimit =", nsx(A, "sysctl -n net.ipv4.tcp_invalid_ratelimit").strip())

print("=== RSTs")
peer, td, ls, a, st = conn()
st.inject("RST seq=rcv_nxt+100 (in window, not exact)", "R", st.b_nxt + 100, wait=0.7)
st.inject("same again 0.7 s later", "R", st.b_nxt + 100, wait=0.1)
st.inject("same again 0.1 s later (within tcp_invalid_ratelimit)", "R", st.b_nxt + 200, wait=0.7)
st.inject("RST seq=rcv_nxt-1 (just left of window)", "R", st.b_nxt - 1, wait=0.7)
st.inject("RST seq=rcv_nxt+10000000 (beyond window)", "R", st.b_nxt + 10000000, wait=0.7)
st.inject("RST|ACK seq=rcv_nxt+100", "RA", st.b_nxt + 100, st.a_nxt, wait=0.7)
print("  A state:", a_state())
a.settimeout(0.5)
st.inject("RST seq=rcv_nxt (exact)", "R", st.b_nxt, wait=0.5)
print("  A state:", a_state())
try_op("A recv", lambda: a.recv(10))
dump("tcpdump RSTs", td.stop()); peer.close()

print("\n=== SYN in ESTABLISHED")
peer, td, ls, a, st = conn()
st.inject("SYN seq=rcv_nxt+100 (in window)", "S", st.b_nxt + 100, wait=0.7)
st.inject("SYN seq=rcv_nxt-1000 (old)", "S", st.b_nxt - 1000, wait=0.7)
st.inject("SYN|ACK seq=rcv_nxt", "SA", st.b_nxt, st.a_nxt, wait=0.7)
print("  A state:", a_state())
dump("tcpdump SYN", td.stop()); peer.close()

print("\n=== bad ACKs / out-of-window data in ESTABLISHED")
peer, td, ls, a, st = conn()
st.inject("ACK of unsent data (ack=snd_nxt+1000)", "A", st.b_nxt, st.a_nxt + 1000, wait=0.7)
st.inject("ACK way too old (ack=snd_nxt-2^30)", "A", st.b_nxt, st.a_nxt - (1 << 30), wait=0.7)
st.inject("data, seq=rcv_nxt+10000000 (beyond window)", "PA", st.b_nxt + 10000000, st.a_nxt, b"zz", wait=0.7)
st.inject("data, old duplicate seq=rcv_nxt-3", "PA", st.b_nxt - 3, st.a_nxt, b"rsp", wait=0.7)
st.inject("segment without ACK flag, seq=rcv_nxt, 2 bytes", "P", st.b_nxt, None, b"zz", wait=0.7)
print("  A state:", a_state())
dump("tcpdump bad", td.stop()); peer.close()
