"""Q17: RFC 5961 limits and edges on an ESTABLISHED socket in la (linger's blind branch).
The host-wide tcp_challenge_ack_limit (per netns), tcp_invalid_ratelimit, a RST at the right
edge of the SACK blocks A advertises, and data carrying an ACK of unsent data."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def conn(sysctls=None):
    amac, bmac = setup(sysctls=sysctls)
    peer = Peer(amac, bmac)
    with ns(B):
        ls = socket.socket(); ls.bind((B_IP, 5000)); ls.listen(8)
    with ns(A):
        a = socket.socket()
    a.connect((B_IP, 5000)); b, _ = ls.accept()
    a.send(b"req"); b.recv(10); b.send(b"rsp"); a.recv(10)
    time.sleep(0.1)
    silence(B)
    return peer, ls, a, St(peer)

print("=== tcp_challenge_ack_limit=1, tcp_invalid_ratelimit=0")
peer, ls, a, st = conn({"net.ipv4.tcp_challenge_ack_limit": 1, "net.ipv4.tcp_invalid_ratelimit": 0})
print("  limit", nsx(A, "sysctl -n net.ipv4.tcp_challenge_ack_limit").strip(), "ratelimit", nsx(A, "sysctl -n net.ipv4.tcp_invalid_ratelimit").strip())
c0 = counters(A)
for i in range(3):
    st.inject(f"RST seq=rcv_nxt+{100 * (i + 1)} back to back", "R", st.b_nxt + 100 * (i + 1), wait=0.01)
time.sleep(1.2)
st.inject("RST seq=rcv_nxt+400, 1.2 s later (a new second)", "R", st.b_nxt + 400, wait=0.3)
print("  total delta:", cdelta(c0, counters(A)))
peer.close()

print("\n=== tcp_invalid_ratelimit=0 (per-socket limit off), default host limit")
peer, ls, a, st = conn({"net.ipv4.tcp_invalid_ratelimit": 0})
for i in range(3):
    st.inject(f"RST seq=rcv_nxt+{100 * (i + 1)}", "R", st.b_nxt + 100 * (i + 1), wait=0.02)
peer.close()

print("\n=== data with ack=snd_nxt+1000")
peer, ls, a, st = conn()
st.inject("data seq=rcv_nxt len 3, ack=snd_nxt+1000", "PA", st.b_nxt, st.a_nxt + 1000, b"zzz", wait=0.3)
a.setblocking(False)
try_op("A recv", lambda: a.recv(10))
peer.close()

print("\n=== RST at the right edge of A's SACK block")
peer, ls, a, st = conn()
st.inject("data seq=rcv_nxt+100 len 10 (out of order)", "PA", st.b_nxt + 100, st.a_nxt, b"0123456789", wait=0.3)
st.inject("RST seq=rcv_nxt+105 (inside the block)", "R", st.b_nxt + 105, wait=0.3)
st.inject("RST seq=rcv_nxt+110 (the block's right edge)", "R", st.b_nxt + 110, wait=0.3)
print("  A state:", a_state())
try_op("A recv", lambda: a.recv(10))
peer.close()
