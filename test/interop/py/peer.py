#!/usr/bin/env python3
"""The kernel side of the interop suite and of the TUN bench: one small program with
subcommands, run inside a network namespace (`ip netns exec NS python3 peer.py ...`).
Every run prints one JSON line per event it wants to report ("ready", "result", ...).
Everything is bounded: a socket timeout on every call and an overall alarm."""
import hashlib, json, os, signal, socket, struct, sys, time

def out(**kw):
    print(json.dumps(kw), flush=True)

def fam(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET

def sockopts(s, a):
    if a.get('keepalive'):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, int(a['keepalive']))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, int(a.get('keepintvl', 1)))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, int(a.get('keepcnt', 3)))
    if a.get('rcvbuf'):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(a['rcvbuf']))

def pattern(n):
    # deterministic bytes, same as test/interop/lib.ts pattern()
    block = bytes((i * 7 + 13) & 0xff for i in range(65536))
    return block, n

def send_bytes(s, n):
    block, _ = pattern(n)
    h = hashlib.sha256()
    left = n
    mv = memoryview(block)
    while left > 0:
        k = min(left, len(block))
        s.sendall(mv[:k])
        h.update(mv[:k])
        left -= k
    return h.hexdigest()

def recv_all(s, limit=None):
    h = hashlib.sha256()
    n = 0
    while True:
        d = s.recv(262144)
        if not d:
            break
        h.update(d)
        n += len(d)
    return n, h.hexdigest()

def tcp_info_state(s):
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]

def err_name(e):
    import errno
    return errno.errorcode.get(e.errno, str(e.errno)) if getattr(e, 'errno', None) else type(e).__name__

def wait_cmd():
    line = sys.stdin.readline()
    return line.strip()

def run(cmd, a):
    to = float(a.get('timeout', 30))
    if cmd == 'connect':
        # connect, then follow the script of actions given as a comma list
        s = socket.socket(fam(a['host']), socket.SOCK_STREAM)
        sockopts(s, a)
        s.settimeout(to)
        t0 = time.time()
        try:
            s.connect((a['host'], int(a['port'])))
        except OSError as e:
            out(event='connect-error', error=err_name(e)); return
        out(event='connected', local=s.getsockname()[1], mss=s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
        actions(s, a, t0)
    elif cmd == 'listen':
        ls = socket.socket(fam(a['host']), socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a['host'], int(a['port'])))
        ls.listen(16)
        ls.settimeout(to)
        out(event='ready')
        count = int(a.get('accept', 1))
        for _ in range(count):
            try:
                s, peer = ls.accept()
            except OSError as e:
                out(event='accept-error', error=err_name(e)); return
            sockopts(s, a)
            s.settimeout(to)
            out(event='accepted', peer=peer[1])
            actions(s, a, time.time())
        ls.close()

def actions(s, a, t0):
    for act in [x for x in a.get('do', '').split(',') if x]:
        name, _, arg = act.partition(':')
        try:
            if name == 'send':
                digest = send_bytes(s, int(arg))
                out(event='sent', bytes=int(arg), sha256=digest, secs=time.time() - t0)
            elif name == 'write':
                s.sendall(arg.encode())
                out(event='wrote', data=arg)
            elif name == 'recvall':
                n, digest = recv_all(s)
                out(event='eof', bytes=n, sha256=digest, secs=time.time() - t0)
            elif name == 'recv':
                d = s.recv(int(arg or 65536))
                out(event='recv', bytes=len(d), data=d[:200].decode('latin1'))
            elif name == 'recvn':
                want = int(arg); got = 0
                while got < want:
                    d = s.recv(min(262144, want - got))
                    if not d: break
                    got += len(d)
                out(event='recvn', bytes=got)
            elif name == 'shutwr':
                s.shutdown(socket.SHUT_WR); out(event='shutwr')
            elif name == 'close':
                s.close(); out(event='closed'); return
            elif name == 'linger0':
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); out(event='linger0')
            elif name == 'sleep':
                time.sleep(float(arg)); out(event='slept', secs=float(arg))
            elif name == 'wait':
                # wait for a line on stdin (the test says when to go on)
                out(event='waiting', tag=arg); l = wait_cmd(); out(event='go', tag=arg, line=l)
            elif name == 'state':
                out(event='state', state=tcp_info_state(s))
            elif name == 'recvwait':
                # block in recv until data, EOF or an error (keepalive, reset); report which
                try:
                    d = s.recv(65536)
                    out(event='recv', bytes=len(d))
                except OSError as e:
                    out(event='recv-error', error=err_name(e))
            else:
                out(event='bad-action', action=name); return
        except OSError as e:
            out(event='error', action=name, error=err_name(e))
            try:
                s.close()
            except OSError:
                pass
            return
    out(event='done')

if __name__ == '__main__':
    signal.alarm(int(os.environ.get('PEER_ALARM', '120')))
    cmd = sys.argv[1]
    args = dict(x.split('=', 1) for x in sys.argv[2:])
    run(cmd, args)
    out(event='exit')
