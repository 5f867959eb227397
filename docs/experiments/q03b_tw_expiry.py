"""Q3b: plain TIME_WAIT expiry: ss timer at close, entry gone after 60 s, counters."""
import socket, sys, time
sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import *
# own namespace names so this can run beside the other experiments
import common
common.A, common.B = "ea", "eb"
A, B = "ea", "eb"
setup()
with ns(B):
    ls = socket.socket(); ls.bind((common.B_IP, 5000)); ls.listen(8)
with ns(A):
    c = socket.socket()
c.connect((common.B_IP, 5000)); s, _ = ls.accept()
c0 = counters(A)
c.close(); s.recv(10); s.close()
t0 = time.time()
time.sleep(0.2)
print("t=0.2", ss(A, "state time-wait").splitlines()[-1])
for i in range(70):
    time.sleep(1)
    out = ss(A, "state time-wait").splitlines()
    if len(out) < 2:
        print(f"TIME-WAIT entry gone at t~{time.time() - t0:.1f}s"); break
    if i % 10 == 0:
        print(f"t={time.time() - t0:.1f}", out[-1])
print("counter delta A (close .. expiry):", cdelta(c0, counters(A)))
for n in (A, B):
    sh(f"ip netns del {n}", check=False)
