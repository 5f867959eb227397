// The packetdrill lexer and parser: one test per language form, and errors with line:column.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lex, DrillSyntaxError } from '../../src/drill/lexer.ts';
import { parse, secondsToUs } from '../../src/drill/parser.ts';
import type { DrillEvent, Expr, SyscallSpec, TcpPacketSpec } from '../../src/drill/ast.ts';

const one = (src: string): DrillEvent => {
  const s = parse(src);
  assert.equal(s.events.length, 1, 'one event');
  return s.events[0]!;
};
const call = (src: string): SyscallSpec => {
  const b = one(src).body;
  assert.equal(b.kind, 'syscall');
  return (b as { call: SyscallSpec }).call;
};
const pkt = (src: string): TcpPacketSpec => {
  const b = one(src).body;
  assert.equal(b.kind, 'packet');
  return (b as { packet: TcpPacketSpec }).packet;
};
/** Expressions without positions, for deepEqual. */
function strip(e: Expr): unknown {
  const { line: _l, col: _c, ...rest } = e as Expr & Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  if (e.kind === 'or') out['parts'] = e.parts.map(strip);
  if (e.kind === 'neg') out['e'] = strip(e.e);
  if (e.kind === 'list') out['items'] = e.items.map(strip);
  if (e.kind === 'call') out['args'] = e.args.map(strip);
  if (e.kind === 'struct') out['fields'] = e.fields.map((f) => ({ ...(f.name ? { name: f.name } : {}), ...(f.index ? { index: strip(f.index) } : {}), value: strip(f.value) }));
  if (e.kind === 'num') delete out['text'];
  return out;
}
function syntaxError(src: string): DrillSyntaxError {
  try {
    parse(src);
  } catch (e) {
    if (e instanceof DrillSyntaxError) return e;
    throw e;
  }
  assert.fail(`expected a syntax error for ${JSON.stringify(src)}`);
}

test('lexer: tokens carry line and column; comments and newlines are whitespace', () => {
  const t = lex('0.100 < S. 0:0(0) // comment\n  /* block\n comment */ +.1 `sysctl -q x=1` %{ assert 1 }% "s\\n" ... --mss=1000');
  const kinds = t.map((x) => `${x.kind}:${x.text}@${x.line}:${x.col}`);
  assert.deepEqual(kinds.slice(0, 11), [
    'num:0.100@1:1', 'punct:<@1:7', 'word:S@1:9', 'punct:.@1:10', 'num:0@1:12', 'punct::@1:13', 'num:0@1:14', 'punct:(@1:15', 'num:0@1:16', 'punct:)@1:17',
    'punct:+@3:13',
  ]);
  assert.equal(t[3]!.spaceBefore, false, '"." glued to "S"');
  assert.deepEqual(t.slice(11).map((x) => [x.kind, x.text]), [
    ['num', '.1'], ['shell', 'sysctl -q x=1'], ['code', ' assert 1 '], ['string', 's\n'], ['ellipsis', '...'], ['option', 'mss=1000'], ['eof', ''],
  ]);
  assert.equal(lex('0x1F')[0]!.value, 31);
  assert.equal(lex('0123abcd')[0]!.kind, 'word', 'a TFO cookie glued to digits is a word');
});

test('lexer: unterminated comment, string, shell and code report their start', () => {
  for (const [src, msg] of [['x /* never', '/* comment'], ['x "abc', 'string'], ['x `ls', 'shell'], ['x %{ 1', 'code block']] as const) {
    assert.throws(() => lex(src), (e: unknown) => e instanceof DrillSyntaxError && e.line === 1 && e.col === 3 && e.message.includes(msg));
  }
});

test('times: absolute, relative, any, absolute and relative ranges', () => {
  assert.deepEqual(one('0.1 > . 1:1(0)').time, { kind: 'abs', us: 100_000 });
  assert.deepEqual(one('+.25 > . 1:1(0)').time, { kind: 'rel', us: 250_000 });
  assert.deepEqual(one('* > . 1:1(0)').time, { kind: 'any' });
  assert.deepEqual(one('0.1~0.2 > . 1:1(0)').time, { kind: 'absRange', us: 100_000, endUs: 200_000 });
  assert.deepEqual(one('+0~+0.05 > . 1:1(0)').time, { kind: 'relRange', us: 0, endUs: 50_000 });
  assert.equal(secondsToUs('0.0000015'), 2);
  assert.equal(secondsToUs('924.6'), 924_600_000);
});

test('blocking calls: T...END on a system call', () => {
  const ev = one('+.1...0.2 connect(3, ..., ...) = 0');
  assert.deepEqual(ev.time, { kind: 'rel', us: 100_000 });
  assert.equal((ev.body as { call: SyscallSpec }).call.endUs, 200_000);
  assert.equal(syntaxError('0...1 > . 1:1(0)').message, '1:7: only system calls can block (T...END)');
});

test('option lines, untimed init and cleanup commands', () => {
  const s = parse('--tolerance_usecs=10000\n--ip_version=ipv6\n--strict_segments\n`sysctl -q net.ipv4.tcp_sack=0`\n0 close(3) = 0\n`echo done`\n');
  assert.deepEqual(s.options.map((o) => [o.name, o.value, o.line]), [['tolerance_usecs', '10000', 1], ['ip_version', 'ipv6', 2], ['strict_segments', undefined, 3]]);
  assert.deepEqual(s.init.map((c) => [c.kind, c.text]), [['shell', 'sysctl -q net.ipv4.tcp_sack=0']]);
  assert.deepEqual(s.cleanup.map((c) => [c.kind, c.text]), [['shell', 'echo done']]);
  assert.equal(syntaxError('0 close(3) = 0\n--mss=1000\n').message, '2:1: option lines (--name=value) must come before the first event');
});

test('timed shell commands and %{ python }% blocks', () => {
  assert.deepEqual(one('+0 `sysctl -q net.ipv4.tcp_fin_timeout=5`').body, { kind: 'shell', command: 'sysctl -q net.ipv4.tcp_fin_timeout=5' });
  assert.deepEqual(one('+0 %{\nassert tcpi_state == 1\n}%').body, { kind: 'code', code: '\nassert tcpi_state == 1\n' });
});

test('system call: return value, errno and free-text note', () => {
  const c = call('0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)');
  assert.equal(c.name, 'connect');
  assert.deepEqual(strip(c.ret), { kind: 'neg', e: { kind: 'num', value: 1 } });
  assert.equal(c.errno, 'EINPROGRESS');
  assert.equal(c.note, 'Operation now in progress');
  const f = call("0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR|O_NONBLOCK, isn't (nested))");
  assert.deepEqual(strip(f.ret), { kind: 'num', value: 2 });
  assert.equal(f.note, "flags O_RDWR|O_NONBLOCK, isn't (nested)");
  assert.equal(call('0 close(3) = 0').errno, undefined);
});

test('arguments: ..., integers, symbols joined with |, negative numbers, strings', () => {
  const c = call('0 socket(..., SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP) = 3');
  assert.deepEqual(c.args.map(strip), [
    { kind: 'ellipsis' },
    { kind: 'or', parts: [{ kind: 'sym', name: 'SOCK_STREAM' }, { kind: 'sym', name: 'SOCK_NONBLOCK' }] },
    { kind: 'sym', name: 'IPPROTO_TCP' },
  ]);
  assert.deepEqual(call('0 setsockopt(3, SOL_TCP, TCP_LINGER2, [-1], 4) = 0').args.map(strip)[3], { kind: 'list', items: [{ kind: 'neg', e: { kind: 'num', value: 1 } }] });
  assert.deepEqual(strip(call('0 write(4, "hello", 5) = 5').args[1]!), { kind: 'str', value: 'hello' });
});

test('arguments: [n] int pointers and getsockopt optlen', () => {
  const c = call('0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0');
  assert.deepEqual(c.args.slice(3).map(strip), [{ kind: 'list', items: [{ kind: 'num', value: 0 }] }, { kind: 'list', items: [{ kind: 'num', value: 4 }] }]);
});

test('arguments: struct linger and struct timeval', () => {
  assert.deepEqual(strip(call('0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0').args[3]!), {
    kind: 'struct', fields: [{ name: 'onoff', value: { kind: 'num', value: 1 } }, { name: 'linger', value: { kind: 'num', value: 0 } }],
  });
  assert.equal((call('0 setsockopt(3, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=0, tv_usec=200000}, 16) = 0').args[3] as { fields: unknown[] }).fields.length, 2);
});

test('arguments: pollfd arrays', () => {
  const c = call('0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}, {fd=4, events=POLLIN}], 2, 0) = 1');
  const arr = c.args[0]!;
  assert.equal(arr.kind, 'list');
  assert.deepEqual((arr as { items: Expr[] }).items.map((i) => (i as { fields: Array<{ name: string }> }).fields.map((f) => f.name)), [['fd', 'events', 'revents'], ['fd', 'events']]);
});

test('arguments: epoll events, iovecs, msghdr with name(index)=value, sockaddr with htons/inet_addr', () => {
  assert.deepEqual(strip(call('0 epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, fd=4}) = 0').args[3]!), {
    kind: 'struct', fields: [
      { name: 'events', value: { kind: 'or', parts: [{ kind: 'sym', name: 'EPOLLIN' }, { kind: 'sym', name: 'EPOLLET' }] } },
      { name: 'fd', value: { kind: 'num', value: 4 } },
    ],
  });
  assert.deepEqual(strip(call('0 writev(4, [{..., 30}, {..., 20}], 2) = 50').args[1]!), {
    kind: 'list', items: [
      { kind: 'struct', fields: [{ value: { kind: 'ellipsis' } }, { value: { kind: 'num', value: 30 } }] },
      { kind: 'struct', fields: [{ value: { kind: 'ellipsis' } }, { value: { kind: 'num', value: 20 } }] },
    ],
  });
  const m = call('0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 50}], msg_flags=0}, 0) = 50').args[1] as { fields: Array<{ name: string; index?: Expr }> };
  assert.deepEqual(m.fields.map((f) => [f.name, f.index ? strip(f.index) : null]), [['msg_name', { kind: 'ellipsis' }], ['msg_iov', { kind: 'num', value: 1 }], ['msg_flags', null]]);
  assert.deepEqual(strip(call('0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0').args[1]!), {
    kind: 'struct', fields: [
      { name: 'sa_family', value: { kind: 'sym', name: 'AF_INET' } },
      { name: 'sin_port', value: { kind: 'call', name: 'htons', args: [{ kind: 'num', value: 8080 }] } },
      { name: 'sin_addr', value: { kind: 'call', name: 'inet_addr', args: [{ kind: 'str', value: '192.0.2.1' }] } },
    ],
  });
});

test('packets: direction, flags (glued letters, ".", "-"), sequence range, ack, win, urg', () => {
  const p = pkt('0 < S. 0:0(0) ack 1 win 65535 urg 3');
  assert.deepEqual([p.dir, p.flags, p.start, p.end, p.len, p.ack, p.win, p.urg], ['<', 'S.', 0, 0, 0, 1, 65535, 3]);
  assert.equal(pkt('0 > . 1:1(0) ack 1').flags, '.');
  assert.equal(pkt('0 > FP. 1:11(10) ack 1').flags, 'FP.');
  assert.equal(pkt('0 < - 1000:1010(10) win 1').flags, '');
  assert.equal(pkt('0 < SEW 0:0(0) win 1').flags, 'SEW');
  assert.equal(pkt('0 > P. 4294967295:9(10)').end, 9, 'sequence numbers wrap');
  assert.equal(pkt('0 > . 1:1(0)').win, undefined, 'outbound win is optional');
});

test('packets: every TCP option, <...> and no option list', () => {
  const p = pkt('0 < S 0:0(0) win 1 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7,eol,sack 1:11 21:31,md5,FO 0123abcd,FOEXP,exp-tfo 1>');
  assert.deepEqual((p.options as Array<{ kind: string }>).map((o) => o.kind), ['mss', 'sackOK', 'TS', 'nop', 'wscale', 'eol', 'sack', 'md5', 'FO', 'FOEXP', 'unknown']);
  const opts = p.options as unknown as Array<Record<string, unknown>>;
  assert.deepEqual([opts[0]!['value'], opts[2]!['val'], opts[2]!['ecr'], opts[4]!['value'], opts[6]!['blocks'], opts[8]!['cookie'], opts[10]!['name']],
    [1460, 100, 0, 7, [[1, 11], [21, 31]], '0123abcd', 'exp']);
  assert.equal(pkt('0 > S. 0:0(0) ack 1 <...>').options, 'any');
  assert.equal(pkt('0 > . 1:1(0) ack 1').options, undefined);
  assert.deepEqual(pkt('0 > . 1:1(0) ack 1 <>').options, []);
});

test('packets: IP information ([ect0], (tos 0x..)), UDP and ICMP lines', () => {
  const p = pkt('0 < [ect0] (tos 0x10) S 0:0(0) win 1');
  assert.deepEqual(p.ip, { ecn: 'ect0', tos: 16 });
  const u = parse('0 > udp (1472)\n+0 close(3) = 0').events[0]!;
  assert.equal(u.body.kind, 'packet');
  assert.deepEqual((u.body as { packet: unknown }).packet, { proto: 'udp', dir: '>', text: '( 1472 )' });
  const s = parse('0 < icmp unreachable frag_needed mtu 1200 [1:1001(1000)]\n+0 close(3) = 0');
  assert.equal((s.events[0]!.body as { packet: { proto: string } }).packet.proto, 'icmp');
  assert.equal(s.events.length, 2);
});

test('parse errors point at the line and column of the offending token', () => {
  const cases: Array<[string, string]> = [
    ['0 < S 0:0(0)', '1:3: an inbound packet needs a window (win N)'],
    ['0 > S 0:5(0)', '1:7: inconsistent sequence numbers: 0:5 is not 0 bytes (end must be start + length)'],
    ['0 > X. 1:1(0)', '1:5: expected TCP flags (S F R P E W U . or -), found "X"'],
    ['0 > . 1:1(0) <mss 1460', '1:23: expected ">" to end the option list (or "," between options), found end of file'],
    ['\n\n  +0 close(3) 0', '3:15: expected "=" and the return value after close(...), found "0"'],
    ['0 close(3) = 0 einval', '1:16: expected an errno name (EAGAIN, EINPROGRESS, ...) after the return value, found "einval"'],
    ['+ > . 1:1(0)', '1:3: expected a time after "+", found ">"'],
    ['0 frobnicate', '1:3: expected a packet (< or >), a system call, a `shell command` or a %{ code }% block after the time, found "frobnicate"'],
    ['0~1 close(3) = 0', '1:1: a time range (T1~T2) is allowed only for outbound packets'],
    ['0 > S. 0:0(0) ack 1 <TS val 1>', '1:30: expected "ecr" in the TS option, found ">"'],
    ['0 < . 1:1(0) win 1 <...>', '1:20: "<...>" (any options) is allowed only for outbound packets'],
    ['0 setsockopt(3, {onoff=1, linger=0, 8) = 0', '1:38: expected "}" to close the struct, found ")"'],
  ];
  for (const [src, msg] of cases) assert.equal(syntaxError(src).message, msg, src);
});

test('event text keeps the source for reports; comments do not end up in it', () => {
  const s = parse('// header\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing\n+0 > S. 0:0(0) ack 1\n   <mss 1460>\n');
  assert.equal(s.events[0]!.text, '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3');
  assert.equal(s.events[1]!.text, '+0 > S. 0:0(0) ack 1 <mss 1460>');
  assert.deepEqual([s.events[1]!.line, s.events[1]!.col], [3, 1]);
});
