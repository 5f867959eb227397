"""Q7: data arriving at an orphaned FIN_WAIT1 / FIN_WAIT2 socket (A closed it).
After a normal handshake + 3 bytes each way, lb's kernel is silenced, so A's FIN
is never ACKed by it; the scapy peer on vb plays B from then on.
Also (vi): a peer FIN arriving in FIN_WAIT1 (simultaneous close -> CLOSING)."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *

def conn(linger2=None):
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
    if linger2 is not None:
        a.setsockopt(socket.IPPROTO_TCP, TCP_LINGER2, linger2)
    silence(B)
    a.close()
    time.sleep(0.1)
    st = St(peer)
    print(f"  A state after close: {a_state()}")
    print(f"  A snd_nxt rel {st.ra(st.a_nxt)} (FIN at rel {st.ra(st.a_nxt) - 1}), A rcv_nxt rel {st.rb(st.b_nxt)}")
    return peer, td, ls, b, st

def end(peer, td, title):
    print("  A state:", a_state())
    dump("tcpdump " + title, td.stop())
    peer.close()

print("=== (i) orphaned FIN_WAIT1: data that does not ACK our FIN")
peer, td, ls, b, st = conn()
st.inject("data", "PA", st.b_nxt, st.a_nxt - 1, b"late data")
end(peer, td, "(i)")

print("\n=== (ii) orphaned FIN_WAIT1: data that also ACKs our FIN")
peer, td, ls, b, st = conn()
st.inject("data+ACK of FIN", "PA", st.b_nxt, st.a_nxt, b"late data")
print("  A state:", a_state())
st.inject("same data again (retransmission)", "PA", st.b_nxt, st.a_nxt, b"late data")
end(peer, td, "(ii)")

print("\n=== (iii) orphaned FIN_WAIT2 (timewait sock, fin_timeout=60): ACK FIN, then data")
peer, td, ls, b, st = conn()
st.inject("pure ACK of FIN", "A", st.b_nxt, st.a_nxt)
print("  A state:", a_state())
st.inject("data", "PA", st.b_nxt, st.a_nxt, b"late data")
end(peer, td, "(iii)")

print("\n=== (iv) orphaned FIN_WAIT2, full socket (TCP_LINGER2=100): ACK FIN, then data")
peer, td, ls, b, st = conn(linger2=100)
st.inject("pure ACK of FIN", "A", st.b_nxt, st.a_nxt)
print("  A state:", a_state())
st.inject("data", "PA", st.b_nxt, st.a_nxt, b"late data")
end(peer, td, "(iv)")

print("\n=== (v) orphaned FIN_WAIT2 (timewait sock): ACK FIN, then data+FIN, then FIN alone")
peer, td, ls, b, st = conn()
st.inject("pure ACK of FIN", "A", st.b_nxt, st.a_nxt)
st.inject("FIN alone (seq=rcv_nxt)", "FA", st.b_nxt, st.a_nxt)
print("  A state:", a_state())
end(peer, td, "(v)")

print("\n=== (vi) orphaned FIN_WAIT1: peer's FIN that does not ACK our FIN (simultaneous close)")
peer, td, ls, b, st = conn()
st.inject("FIN, ack=our FIN seq (not acking it)", "FA", st.b_nxt, st.a_nxt - 1)
print("  A state:", a_state())
st.inject("ACK of our FIN", "A", st.b_nxt + 1, st.a_nxt)
print("  A state:", a_state())
end(peer, td, "(vi)")
