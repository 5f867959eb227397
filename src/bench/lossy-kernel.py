#!/usr/bin/env python3
"""The kernel side of `linger bench lossy`: one bulk TCP transfer between two network namespaces,
run by src/bench/lossy-kernel.ts (`ip netns exec NS python3 lossy-kernel.py CMD ...`). Each
command prints JSON lines; times are time.monotonic() (CLOCK_MONOTONIC, shared by every network
namespace), so the sender's and the sink's stamps compare. Bounded by an alarm (LOSSY_ALARM s).

  sink HOST PORT                 accept one connection, read to EOF: {"event":"eof","bytes","last"}
  send HOST PORT BYTES CC        connect with TCP_CONGESTION=CC set per socket, send, shut down
                                 writing, wait for the peer's EOF: {"event":"connected","at"},
                                 {"event":"done","cc","retrans","segs"}
  relay IF_A IF_B DELAY_MS LOSS SEED
                                 a link emulated in user space, for kernels without sch_netem:
                                 Ethernet frames between IF_A and IF_B (AF_PACKET), each delayed
                                 DELAY_MS one way, those from IF_A to IF_B dropped with probability
                                 LOSS. Stops on SIGTERM: {"event":"relay","forwarded","from_a","lost","drops"}
"""
import heapq, json, os, random, select, signal, socket, struct, sys, time

def out(**kw):
    print(json.dumps(kw), flush=True)

TCP_CONGESTION = getattr(socket, 'TCP_CONGESTION', 13)

def sink(host, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(1)
    out(event='ready')
    s, _ = ls.accept()
    n = 0
    last = time.monotonic()
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        n += len(d)
        last = time.monotonic()
    s.close()
    out(event='eof', bytes=n, last=last)

def send(host, port, nbytes, cc):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, cc.encode())
    s.connect((host, int(port)))
    out(event='connected', at=time.monotonic())
    block = memoryview(bytes(65536))
    left = int(nbytes)
    while left > 0:
        k = min(left, len(block))
        s.sendall(block[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    got = s.getsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, 16).split(b'\0')[0].decode()
    # struct tcp_info: tcpi_total_retrans at byte 100, tcpi_segs_out at 136 (include/uapi/linux/tcp.h).
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    retrans = struct.unpack_from('I', info, 100)[0] if len(info) >= 104 else None
    segs = struct.unpack_from('I', info, 136)[0] if len(info) >= 140 else None
    s.close()
    out(event='done', cc=got, retrans=retrans, segs=segs)

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
PACKET_IGNORE_OUTGOING = 23
SOL_PACKET = 263
PACKET_STATISTICS = 6

def relay(if_a, if_b, delay_ms, loss, seed):
    delay = float(delay_ms) / 1000
    loss = float(loss)
    rng = random.Random(int(seed))
    socks = {}
    for name in (if_a, if_b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((name, 0))
        s.setblocking(False)
        socks[name] = s
    a, b = socks[if_a], socks[if_b]
    peer = {a.fileno(): b, b.fileno(): a}
    queue = []  # (due, seq, out socket, frame): one delay for all, so FIFO per direction
    seq = 0
    counts = {'forwarded': 0, 'from_a': 0, 'lost': 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    out(event='ready')
    while not stop:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, o, frame = heapq.heappop(queue)
            o.send(frame)
            counts['forwarded'] += 1
        timeout = max(0.0, queue[0][0] - now) if queue else 0.5
        try:
            ready, _, _ = select.select([a, b], [], [], timeout)
        except InterruptedError:
            continue
        for s in ready:
            while True:
                try:
                    frame, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                if s is a:
                    counts['from_a'] += 1
                    if rng.random() < loss:
                        counts['lost'] += 1
                        continue
                seq += 1
                heapq.heappush(queue, (time.monotonic() + delay, seq, peer[s.fileno()], frame))
    drops = 0
    for s in (a, b):
        st = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        drops += struct.unpack('II', st)[1]
    out(event='relay', drops=drops, **counts)

if __name__ == '__main__':
    signal.alarm(int(os.environ.get('LOSSY_ALARM', '600')))
    cmd, args = sys.argv[1], sys.argv[2:]
    {'sink': sink, 'send': send, 'relay': relay}[cmd](*args)
