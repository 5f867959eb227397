"""A listener whose accept queue is full: backlog 1 holds 2 connections; it never accepts."""
import socket, time
from common import listener, ready, serve

full = listener(9300, backlog=1)
clients = []

def connect(n):
    for _ in range(int(n)):
        c = socket.socket(); c.setblocking(False); c.connect_ex(('127.0.0.1', 9300)); clients.append(c); time.sleep(0.02)
    return {'clients': len(clients)}

connect(5)
time.sleep(1.3)  # past the first SYN retransmission (initial RTO 1 s)
ready(clients=len(clients))
serve({'connect': connect})
