// 简体中文: the scenarios' titles, explanations, questions, "what to notice" and parameters.
// Keyed by scenario id; a missing scenario or field shows in English. A `notice` list must have as
// many items as the English one (otherwise the English list is shown). State names, flags, sysctl
// and API names stay in English, as in the Chinese articles the lab follows.

import type { ScenarioText } from './types.ts';

const LAT = '单向链路延迟';
const KEEPIDLE = 'TCP_KEEPIDLE，空闲多少秒后发送第一个探测报文（tcp_keepalive_time）';
const KEEPINTVL = 'TCP_KEEPINTVL，两次探测之间的秒数（tcp_keepalive_intvl）';
const KEEPCNT = 'TCP_KEEPCNT，多少个探测无应答后判定连接已死（tcp_keepalive_probes）';
const REQUESTS = '客户端发出的请求数';

export const ZH_SCENARIOS: Record<string, ScenarioText> = {
  'handshake-close': {
    title: '三次握手、一个请求、四次挥手、TIME_WAIT',
    explain: '客户端建立连接（SYN、SYN-ACK、ACK），发送一个请求并读取响应，然后先关闭。服务器读到流结束（EOF）后稍晚一点关闭，所以关闭时的四个报文段都能看到。客户端是主动关闭方，会把这个四元组在 TIME_WAIT 中保留 60 秒；服务器经过 CLOSE_WAIT 和 LAST_ACK。',
    question: '哪一方经过哪些状态？Linux 上的 TIME_WAIT 持续多久？',
    notice: [
      '客户端：收到 SYN-ACK 时 SYN_SENT -> ESTABLISHED；服务器：收到最后的 ACK 时 SYN_RECV -> ESTABLISHED',
      '服务器在 40 ms 的延迟确认（delayed ACK）超时后才确认客户端的 FIN（它处于 pingpong 模式），等应用程序关闭时再发出自己的 FIN',
      '客户端的 TIME_WAIT 恰好持续 60 秒（TCP_TIMEWAIT_LEN），然后变为 CLOSED',
    ],
    params: { latency_ms: LAT, server_close_delay_ms: '服务器应用程序读到 EOF 后多久才关闭' },
  },
  'simultaneous-open': {
    title: '同时打开：两个 SYN 交叉而过，双方都经过 SYN_RECV',
    explain: '两台主机各自绑定一个已知端口，并在同一时刻互相 connect()，于是两个 SYN 在线路上交叉而过。每一方在 SYN_SENT 状态下收到对方的 SYN，回复一个带有自己初始序列号的 SYN-ACK 并进入 SYN_RECV；随后每个 SYN-ACK 都完成了对方的打开过程。最终形成一条连接，而任何一方都没有监听（RFC 9293 §3.5，图 8）。',
    question: '没有监听的一方，TCP 连接也能建立吗？',
    notice: [
      '双方：CLOSED -> SYN_SENT -> SYN_RECV -> ESTABLISHED',
      '有四个报文段带 SYN：两个 SYN 和两个 SYN-ACK',
    ],
    params: { latency_ms: LAT },
  },
  'connect-refused': {
    title: 'connect() 到一个关闭的端口：RST，ECONNREFUSED',
    explain: '客户端连接一个没有程序监听的端口。服务器内核用复位报文回答这个 SYN：RST|ACK，序列号为 0，并确认该 SYN（RFC 9293 §3.10.7.1）。客户端的 connect() 以 ECONNREFUSED（“Connection refused”，连接被拒绝）失败，并计入 AttemptFails。',
    question: '“连接被拒绝”在线路上是什么样子？',
    notice: [
      '服务器：R.，seq 0，ack = SYN + 1',
      '客户端：发出 SYN 一个往返之后得到 ECONNREFUSED；TcpAttemptFails 为 1，服务器 TcpOutRsts 为 1',
    ],
    params: { latency_ms: LAT, port: '关闭的端口' },
  },
  'syn-to-dead-host': {
    title: '向一台死机发送 SYN：SYN 重传，然后 ETIMEDOUT',
    explain: '客户端连接一个主机已宕机的地址：永远没有应答。Linux 会重传 SYN：在 6.x 内核上先按 tcp_syn_linear_timeouts（4）次、每次间隔 1 秒重传，然后超时时间逐次翻倍，再重传 tcp_syn_retries（6）次，最终在第一个 SYN 之后约 131 秒以 ETIMEDOUT 放弃（用 --set linear_timeouts=0 则为 127 秒，即经典的 1+2+4+…+64 秒）。',
    question: '没有人应答时，connect() 要多久才失败？',
    notice: [
      'SYN 分别在 0、1、2、3、4、5、7、11、19、35、67 秒发出',
      '131 秒时 ETIMEDOUT；TcpExtTCPSynRetrans 为 10',
    ],
    params: { latency_ms: LAT, syn_retries: 'net.ipv4.tcp_syn_retries', linear_timeouts: 'net.ipv4.tcp_syn_linear_timeouts（Linux 6.x）' },
  },
  'simultaneous-close': {
    title: '同时关闭：双方都经过 CLOSING，并都进入 TIME_WAIT',
    explain: '两个应用程序在同一时刻调用 close()，于是两个 FIN 在线路上交叉而过。每一方在仍处于 FIN_WAIT1 时收到对方的 FIN，进入 CLOSING；当自己的 FIN 被确认后进入 TIME_WAIT。这是双方都持有 TIME_WAIT 的少见情况。',
    question: '两端同时关闭会发生什么？',
    notice: [
      '双方：ESTABLISHED -> FIN_WAIT1 -> CLOSING -> TIME_WAIT',
      '两个 TIME_WAIT 都在 60 秒后结束',
    ],
    params: { latency_ms: LAT, close_at_ms: '两个应用程序关闭的时刻' },
  },
  'close-unsent-data': {
    title: '发送队列中还有 1 MB 时 close()：数据不会丢失，FIN 最后发出',
    explain: '服务器向一个读得很慢的客户端写入 1 MB，最后一次 write 一返回就调用 close()。close() 不会丢弃已排队的数据：socket 立即进入 FIN_WAIT1，随着客户端窗口打开继续发送（窗口为零时发送窗口探测），并在最后一个字节之后带上 FIN。',
    question: '应用程序关闭时，发送缓冲区里还没发出的数据会怎样？',
    notice: [
      '服务器：在调用 close() 时就 ESTABLISHED -> FIN_WAIT1，远早于 FIN 出现在线路上',
      '客户端窗口降为 0，服务器发送窗口探测（seq = SND.UNA - 1，不带数据）',
      'FIN 的序列号紧接在最后一个数据字节之后；客户端在读到 EOF 之前读完了每一个字节',
    ],
    params: { latency_ms: LAT, bytes: '服务器在关闭前写入的字节数', read_chunk: '客户端每次读取的字节数', read_every_ms: '客户端两次读取之间的间隔', sndbuf: '服务器发送缓冲区大小（字节，tcp_wmem 默认值）；Linux 自动调优会把它增长到 4 MB' },
  },
  'close-unread-data': {
    title: '接收缓冲区中还有未读数据时 close()：发送 RST 而不是 FIN',
    explain: '客户端发送一个请求，后面还跟着服务器永远不会读取的字节。服务器作出响应后关闭，而这些字节仍在它的接收缓冲区中。此时 Linux（RFC 2525 §2.17）会中止连接：发送 RST 而不是 FIN，并计入 TCPAbortOnClose。客户端先读到已经收到的响应，下一次读取则以 ECONNRESET 失败。',
    question: '为什么一个没有读完全部数据就关闭的服务器会把连接复位？',
    notice: [
      '服务器：close() 之后紧跟着 R.（seq = SND.NXT），服务器直接进入 CLOSED：没有 FIN_WAIT，也没有 TIME_WAIT',
      '服务器计数器 TcpExtTCPAbortOnClose = 1',
      '客户端：RST 到达时出现错误 ECONNRESET；读完响应数据之后的读取返回 ECONNRESET',
    ],
    params: { latency_ms: LAT, unread_bytes: '服务器留下未读的字节数' },
  },
  'linger-zero': {
    title: 'SO_LINGER {1, 0}：用 RST 中止关闭，没有 TIME_WAIT',
    explain: '客户端把 SO_LINGER 设为 l_onoff=1、l_linger=0，在请求得到响应后关闭。Linux 丢弃所有排队的数据，发送 RST 并立即释放连接：没有 FIN 交换，双方都没有 TIME_WAIT。服务器以 ECONNRESET 得知这一点。',
    question: '怎样关闭连接才不留下 TIME_WAIT？这会让对端付出什么代价？',
    notice: [
      '客户端：close() -> R.，并立即 CLOSED；TcpExtTCPAbortOnData = 1（Linux 把 linger 为 0 的中止计在这里）',
      '服务器：ECONNRESET；任何一方都没有 TIME_WAIT',
    ],
    params: { latency_ms: LAT },
  },
  'half-close': {
    title: '半关闭：shutdown(SHUT_WR) 后继续读取（rsh 的例子）',
    explain: '客户端发送完输入后调用 shutdown(SHUT_WR)：它的 FIN 告诉服务器不会再有输入，但连接在另一个方向上仍然打开。服务器读到流结束，继续发送一段时间的输出，然后关闭。这就是关闭需要四个报文段的原因：每个方向各自关闭。',
    question: '一方发出 FIN 之后还能继续接收吗？',
    notice: [
      '客户端：shutdown 时 FIN_WAIT1 -> FIN_WAIT2，之后数据继续到达并被确认',
      '服务器：发送期间处于 CLOSE_WAIT，close() 之后进入 LAST_ACK',
      '客户端：收到服务器的 FIN 后进入 TIME_WAIT（它先关闭）',
    ],
    params: { latency_ms: LAT, chunks: '服务器读到 EOF 后发送的输出块数' },
  },
  'close-vs-shutdown': {
    title: 'close() 与 shutdown(SHUT_WR)：一个不再接收，另一个只是不再发送',
    explain: '两个客户端发送请求后都不再发送数据。第一个调用 close()：它再也不能接收，所以响应到达时它的内核用 RST 回答，服务器的下一次写入失败。第二个调用 shutdown(SHUT_WR)：它的 FIN 告诉服务器不会再有输入，但它仍会读完整个响应再关闭。close() 丢掉整个 socket；shutdown() 只结束一个方向。',
    question: '为什么过早 close() 的客户端会让服务器看到 “connection reset by peer”？',
    notice: [
      '客户端 1：FIN，然后用 R 回应响应数据（TCPAbortOnData）；服务器的下一次写入：EPIPE',
      '客户端 2：FIN，然后读完响应和 EOF；没有复位',
    ],
    params: { latency_ms: LAT, response_delay_ms: '服务器多久之后作出响应' },
  },
  'shared-socket': {
    title: '两个持有者共享一个 socket：一方 close() 在线路上没有任何动作，shutdown() 则有',
    explain: 'fork() 或 dup() 之后，两个描述符指向同一个 socket。close() 只减少一个引用：只有最后一个持有者关闭时连接才会关闭，所以第一次 close() 什么也不发送。shutdown() 作用于 socket 本身，与持有者数量无关：SHUT_WR 立即发送 FIN。',
    question: '为什么 fork() 之后父进程关闭 socket 并不会关闭连接？',
    notice: [
      '连接 1：第一次 close() 什么也不发送；FIN 要到第二次 close() 才发出',
      '连接 2：一个持有者的 shutdown(SHUT_WR) 发出 FIN，而另一个持有者仍然持有该 socket',
    ],
    params: { latency_ms: LAT },
  },
  'close-behind-zero-window': {
    title: '零窗口后面还有未发送数据时 close()：立即进入 FIN_WAIT1，FIN 需要等待',
    explain: '服务器向一个不读取数据的客户端写入 200 kB；客户端的接收缓冲区被填满，通告零窗口。服务器随后调用 close()。Linux 立即进入 FIN_WAIT1，尽管剩下的数据和 FIN 都还发不出去：它以退避的间隔探测窗口（ACK，SEQ = SND.UNA - 1）。当客户端开始读取，窗口打开，数据开始流动，FIN 跟在最后一个字节之后。',
    question: '对端停止读取时，close() 会怎样？',
    notice: [
      '服务器：close() 时就进入 FIN_WAIT1，远早于它的 FIN',
      '客户端：win 0；服务器：间隔越来越长的窗口探测',
      '每一个字节都到达，然后是 FIN',
    ],
    params: { latency_ms: LAT, read_after_ms: '客户端何时开始读取' },
  },
  'linger-n': {
    title: 'SO_LINGER {1, N}：close() 等待数据被确认，或等待 N 秒',
    explain: '把 SO_LINGER 设为 {on, N} 后，close() 会阻塞，直到发出的所有数据都被确认（socket 离开 FIN_WAIT1），或者过了 N 秒。这里客户端写入 100 kB 后关闭；当最后一个字节和 FIN 被确认时 close() 返回。用 --set unreachable=1 时对端先消失：close() 在 N 秒后返回，而成为孤儿的 socket 继续重传 FIN。',
    question: '带超时的 SO_LINGER 如何改变 close()？',
    notice: [
      '调用事件 “close = 0, returns: ...” 标出 close() 返回的时刻',
      'unreachable=1：恰好 N 秒后返回',
    ],
    params: { latency_ms: LAT, seconds: 'l_linger', unreachable: '1：服务器在关闭前刚好消失' },
  },
  'listener-close-pending': {
    title: '关闭一个还有未 accept 连接的监听 socket：逐个发送 RST，半开连接被丢弃',
    explain: '服务器在监听，但 accept() 得很慢。三个客户端完成了握手，在 accept 队列中等待；第四个客户端的最后一个 ACK 丢失了，所以它在服务器上仍是半开连接（SYN_RECV）。随后服务器关闭监听 socket。Linux 复位每一个已完成但没人 accept 的连接，并悄悄丢弃那个半开连接；那个客户端以为自己已经连上，直到它发送数据时才知道（来自一个没有 socket 的端口的 RST）。',
    question: '服务器停止监听时，排队中的连接会怎样？',
    notice: [
      '服务器：关闭监听 socket 时向三个客户端发送 R.；对第四个什么也不发',
      '客户端 1-3：ECONNRESET；客户端 4：发送数据时收到 RST',
    ],
    params: { latency_ms: LAT },
  },
  'abnormal-close': {
    title: '异常关闭研究：对端关闭后写入（收到 RST），然后读取，再写入（EPIPE）',
    explain: '服务器关闭了它的 socket，而客户端仍然打开着；客户端随后写入、读取、再写入。在服务器的 FIN 之后，客户端的写入在本地仍然成功，但数据到达的是一个已经不存在的 socket，服务器内核用 RST 回答。之后 Linux 把这次复位报告为 EPIPE（而不是 ECONNRESET：因为先收到了流结束），读取先返回仍在缓冲区里的数据、然后返回 0，下一次写入以 EPIPE（“Broken pipe”）失败。用 --set peer_reset=1 时，服务器在客户端请求未读的情况下关闭，因此发送 RST 而不是 FIN：错误是 ECONNRESET（“Connection reset by peer”），只报告一次，报给最先到来的那个调用。',
    question: '对端离开之后，应用程序会看到哪些错误，顺序如何？',
    notice: [
      'peer_reset=0：FIN；客户端的写入引来服务器的 R；read() = 缓冲的欢迎消息（with_data=1），然后是 0；write() = EPIPE',
      'peer_reset=1：服务器关闭时发出 R；之后的第一个调用得到 ECONNRESET；再之后 write() = EPIPE',
    ],
    params: { latency_ms: LAT, with_data: '1：客户端读取时还没读过服务器的欢迎消息', peer_reset: '1：服务器带着未读数据关闭（用 RST 代替 FIN）' },
  },
  'peer-process-killed': {
    title: '对端进程被杀死：它的内核替它关闭每个 socket（FIN，或在有未读数据时 RST）',
    explain: '一个服务器进程持有两条连接：一条空闲，另一条上客户端发来了进程从未读取的字节。进程被杀死（kill -9）。它的内核像 close() 那样关闭它所有的描述符：空闲的连接收到 FIN（客户端读到流结束），有未读数据的连接收到 RST（客户端得到 ECONNRESET）。进程崩溃不等于主机崩溃：对端总会得到通知。',
    question: '服务器进程死掉时，客户端会看到什么？',
    notice: [
      '服务器：在同一时刻，空闲连接上发出 F.，另一条上发出 R.',
      '客户端：第一条上读到 EOF，第二条上得到 ECONNRESET',
    ],
    params: { latency_ms: LAT },
  },
  'keepalive-dead-peer': {
    title: 'Keepalive 发现对端已死：9 个无应答的探测，RST，ETIMEDOUT',
    explain: '客户端在一条随后变得空闲的连接上启用了 SO_KEEPALIVE；一秒后服务器一声不响地从网络上消失了（断电、拔线）。沉默了 tcp_keepalive_time（7200 秒）之后，客户端发送一个探测报文（一个 SEQ = SND.UNA - 1 且不带数据的 ACK），然后每 75 秒发送一个。第 9 个探测在 75 秒内仍无应答时，Linux 发送 RST 并向应用程序报告 ETIMEDOUT。',
    question: 'Linux 要多久才能发现一个空闲的对端已经不在了？',
    notice: [
      '客户端：最后一个报文段收到 7200 秒后发出第一个探测，然后每 75 秒一个：恰好 9 个探测',
      '客户端：第 9 个探测 75 秒后（最后一个报文段之后 7875 秒）发出 R. 并报告错误 ETIMEDOUT；TcpExtTCPKeepAlive = 9，TcpExtTCPAbortOnTimeout = 1',
    ],
    params: { latency_ms: LAT, keepidle: KEEPIDLE, keepintvl: KEEPINTVL, keepcnt: KEEPCNT },
  },
  'keepalive-alive-peer': {
    title: 'Keepalive 遇到存活的对端：每个探测都被确认，连接保持',
    explain: '同样的空闲连接，但服务器还活着。它的内核用一个重复 ACK 回答每个探测（探测报文恰好落在它的接收窗口之下）。任何 ACK 都会重置客户端的探测计数，下一个探测要再等一个完整的空闲周期。应用程序对此毫无察觉。',
    question: '对端正常时，一个 keepalive 探测的代价是多少？',
    notice: ['客户端：每 7200 秒一个探测，每个都由服务器的一个 ACK 回答；连接保持 ESTABLISHED'],
    params: { latency_ms: LAT, keepidle: KEEPIDLE, keepintvl: KEEPINTVL, keepcnt: KEEPCNT, hours: '观察多长时间' },
  },
  'keepalive-rebooted-peer': {
    title: 'Keepalive 遇到重启过的对端：探测被 RST 回答',
    explain: '服务器主机在连接空闲时重启，丢失了全部 TCP 状态，而且没有发出任何报文。客户端的第一个 keepalive 探测到达一个不认识这条连接的内核，后者用 RST 回答（其序列号就是探测报文的 ACK，恰好等于客户端的 RCV.NXT）。客户端接受这个复位并报告 ECONNRESET。',
    question: '对端重启后，半开连接如何被清理？',
    notice: ['服务器：1000 秒时丢失全部状态；客户端：7200 秒时发出一个探测，服务器回答 R，客户端看到 ECONNRESET'],
    params: { latency_ms: LAT, keepidle: KEEPIDLE, keepintvl: KEEPINTVL, keepcnt: KEEPCNT },
  },
  'nat-idle-timeout': {
    title: 'NAT 或防火墙会忘记空闲连接：低于其超时的 keepalive 能让连接保持',
    explain: '客户端和服务器之间有一个有状态的中间设备（NAT 或防火墙），它会删除空闲超过 nat_idle_s（这里是 5 分钟；很多设备更短）的流表项，然后悄悄丢弃该流的报文。客户端发送一个请求，空闲 10 分钟后再发送一个：中间设备已经不认识这个流，请求和每一次重传都消失了，客户端要在 tcp_retries2（约 15 分钟）之后才以 ETIMEDOUT 得知。用 --set keepalive_s=120（TCP_KEEPIDLE 和 TCP_KEEPINTVL 低于中间设备的超时）时，探测报文使流表项保持新鲜，第二个请求成功。',
    question: '为什么经过 NAT 的空闲连接会悄无声息地死掉？keepalive 如何帮忙？',
    notice: [
      'x dropped (filtered)：中间设备忘记该流之后，第二个请求及其重传被丢弃',
      'keepalive_s=0：约 15 分钟后 ETIMEDOUT；keepalive_s=120：每 120 秒一个探测，第二个请求得到响应',
    ],
    params: { latency_ms: LAT, nat_idle_s: '中间设备忘记空闲这么久的流', idle_s: '客户端在两个请求之间空闲多久', keepalive_s: '客户端 TCP keepalive 的空闲时间和间隔（0 = 关闭）' },
  },
  'heartbeat-vs-keepalive': {
    title: '应用层心跳与 TCP keepalive：一个挂起的服务器进程',
    explain: '服务器进程在 30 秒时挂起（死锁）：它不再读取也不再应答，但它的内核一切正常。客户端同时使用 TCP keepalive（空闲 60 秒后探测，每 10 秒一次）和应用层心跳（每 10 秒一个 ping，需要在 5 秒内收到 pong，连续三次没收到就判定连接已死）。内核一直在回答 keepalive 探测，所以 TCP 认为对端永远活着；只有心跳在大约 30 秒后发现应用程序已经不在了，并关闭连接。keepalive 证明的是对端的内核和路径；心跳证明的是应用程序。',
    question: 'TCP 已经有 keepalive，为什么协议还要加上自己的心跳？',
    notice: [
      '连接 1：挂起之后它的 ping 被服务器内核确认，但从未得到应答；连续三次没收到 pong 后客户端关闭连接',
      '连接 2：每 60 秒的 keepalive 探测都由服务器内核回答；连接保持 ESTABLISHED',
    ],
    params: { latency_ms: LAT, hang_at_s: '服务器进程何时挂起' },
  },
  'time-wait-last-ack-lost': {
    title: '为什么需要 TIME_WAIT：最后的 ACK 丢失，重传的 FIN 由 TIME_WAIT 回答',
    explain: '客户端先关闭；服务器回应自己的 FIN；客户端最后的 ACK 丢失了。处于 LAST_ACK 的服务器在 RTO 之后重传它的 FIN。由于客户端把四元组保留在 TIME_WAIT 中，它会再次确认这个 FIN（并重新开始 60 秒计时），服务器干净地关闭。用 --set time_wait_ms=0（跳过 TIME_WAIT）时，重传的 FIN 找不到任何 socket：客户端内核用 RST 回答，服务器的应用程序得到 ECONNRESET。',
    question: '连接已经关闭了，TIME_WAIT 还有什么用？',
    notice: [
      '客户端最后的 ACK 被丢弃（x）',
      '默认：服务器重传的 FIN 由 TIME_WAIT 确认；服务器无错误地进入 CLOSED',
      'time_wait_ms=0：FIN 得到 R；服务器看到 ECONNRESET',
    ],
    params: { latency_ms: LAT, time_wait_ms: '客户端 TIME_WAIT 的长度（Linux：60000，固定）' },
  },
  'old-duplicate-no-time-wait': {
    title: '没有 TIME_WAIT 时，一个旧的重复报文段会破坏同一四元组上的新连接',
    explain: '客户端在第一条连接上发送 “AAAA”；这个报文段的一个副本在网络中被延迟了。连接关闭，并且由于跳过了 TIME_WAIT，客户端立即在同一个四元组上打开一条新连接。为了展示其中的危险，两台主机在这里使用可预测的初始序列号，就像老的协议栈那样（Linux 的 RFC 6528 初始序列号让这很不可能发生，而 TIME_WAIT 让它不可能发生）：旧报文段落在新连接的窗口之内，服务器的应用程序把 “AAAA” 当作新客户端发送的数据读了出来。用 --set time_wait_ms=60000 时，四元组保持在 TIME_WAIT，connect() 不能复用它（EADDRNOTAVAIL），旧报文段死在 TIME_WAIT 中。用 --set timestamps=1（Linux 的默认值）时，即使没有 TIME_WAIT，PAWS（RFC 7323）也会凭较旧的时间戳拒绝这个旧副本。',
    question: '如果一个四元组在旧报文段消失之前就被复用，会出什么问题？',
    notice: [
      '第一条连接数据的延迟副本在第二条连接期间到达',
      '默认：服务器在第二条连接上先读到 AAAA，然后才是真正的 BBBB',
      'time_wait_ms=60000：第二次 connect() 以 EADDRNOTAVAIL 失败；timestamps=1：PAWS 拒绝；都不会有数据被破坏',
    ],
    params: { latency_ms: LAT, time_wait_ms: '客户端 TIME_WAIT 的长度（Linux：60000）', delay_ms: '旧副本在网络中游荡多久', timestamps: '两台主机上的 net.ipv4.tcp_timestamps（1：PAWS 拒绝旧副本）' },
  },
  'time-wait-pileup': {
    title: '短连接造成的 TIME_WAIT 堆积，以及 tcp_max_tw_buckets',
    explain: '客户端以稳定的速率建立短连接，并且每次都先关闭，所以每条连接都会在客户端留下一个持续 60 秒的 TIME_WAIT 条目：每秒 20 个连接时大约有 1,200 个。每个条目都很小（Linux 保留的是一个 minisock，而不是完整的 socket），但占用着它的四元组。超过 tcp_max_tw_buckets（--set max_tw_buckets=500）之后，Linux 对新的关闭不再保留 TIME_WAIT，并计入 TCPTimeWaitOverflow。tcp_fin_timeout 不会缩短 TIME_WAIT：它管的是孤儿 FIN_WAIT2。',
    question: '给定的连接速率会产生多少 TIME_WAIT socket？这些限制起什么作用？',
    notice: [
      '客户端的统计采样（S）：TIME_WAIT 增长到 速率 × 60 后保持不变',
      'max_tw_buckets 低于该值时：TcpExtTCPTimeWaitOverflow 记录没有进入 TIME_WAIT 的关闭次数',
    ],
    params: { latency_ms: LAT, rate: '每秒连接数', seconds: '持续多久', max_tw_buckets: 'net.ipv4.tcp_max_tw_buckets' },
  },
  'short-connections-port-exhaustion': {
    title: '短连接速率超过（端口范围）/ 60 秒：EADDRNOTAVAIL，除非启用 tcp_tw_reuse 或由服务器先关闭',
    explain: '客户端对同一个 server:port 的每个请求都新建一条连接并先关闭，所以每条连接都在客户端留下一个 TIME_WAIT，把它的临时端口占住 60 秒。当每秒连接数超过（ip_local_port_range 中的端口数）/ 60 秒时，端口范围被用尽，connect() 以 EADDRNOTAVAIL（“cannot assign requested address”）失败。启用 tcp_tw_reuse=1（并使用时间戳）时，connect() 会接管存在超过 1 秒的 TIME_WAIT 端口；如果由服务器先关闭，TIME_WAIT 留在服务器上，客户端的端口立即释放。',
    question: '客户端什么时候会用完临时端口？什么办法真正有效？',
    notice: [
      '默认：60 秒内建立的连接数达到端口数时出现 EADDRNOTAVAIL（200 个端口、每秒 10 个：约 20 秒后）',
      'tw_reuse=1：没有错误，TcpExtTWRecycled 记录复用次数',
      'server_closes_first=1：没有错误，TIME_WAIT 在服务器上',
    ],
    params: { latency_ms: LAT, ports: '客户端 ip_local_port_range 的大小', rate: '每秒新建连接数', seconds: '客户端持续多久', tw_reuse: '客户端的 net.ipv4.tcp_tw_reuse（0、1，或 2 = 仅回环）', server_closes_first: '1：服务器在响应后关闭（TIME_WAIT 移到服务器）' },
  },
  'syn-flood': {
    title: 'SYN 洪泛：伪造的 SYN 填满 SYN 队列；SYN cookie 让监听端继续对其他人开放',
    explain: '攻击者从伪造的地址发送 SYN，这些地址从不回应 SYN-ACK。监听端保留的每一个都是 SYN 队列中的一个半开请求（SYN_RECV），在大约一分钟内重传它的 SYN-ACK；队列的容量是 listen 的 backlog。在 tcp_syncookies=1（Linux 的默认值）时，遇到队列已满的 SYN 会得到一个 SYN cookie 作为回答：SYN-ACK 的序列号编码了这个请求（MSS 是一张表中的下标，选项放在时间戳里），什么也不保留，所以正常客户端照常连接。在 tcp_syncookies=0 时，队列满期间监听端丢弃所有 SYN，正常客户端把 SYN 重传进同一个已满的队列。',
    question: 'SYN 洪泛填满的是什么？SYN cookie 如何让服务器保持可达？',
    notice: [
      '服务器每秒一条注释：整个洪泛期间 SYN 队列一直处于上限（backlog + 1 个请求）',
      'syncookies=1：TcpExtTCPReqQFullDoCookies 和 TcpExtSyncookiesSent 统计洪泛，TcpExtSyncookiesRecv 统计正常客户端：每一个都连接成功，它们的连接都从 cookie 开始（MSS 取表中的 1460）',
      'syncookies=0：TcpExtTCPReqQFullDrop 和 TcpExtListenDrops 统计被丢弃的 SYN，其中也有正常客户端的：它们在 1、3、7 秒……重传 SYN，停留在 SYN_SENT',
      '内存：请求占用一个 request_sock（Linux 上 320 字节），cookie 什么也不占：100,000 个 SYN 的开销从不超过 backlog 那么多',
    ],
    params: { latency_ms: LAT, syncookies: '服务器的 net.ipv4.tcp_syncookies：0 从不，1 在 SYN 队列满时，2 总是', syns: '发送的伪造 SYN 数', flood_s: '洪泛持续的秒数', clients: '正常客户端数，每 150 毫秒一个', backlog: '服务器 listen() 的 backlog' },
  },
  'close-wait-leak': {
    title: 'CLOSE_WAIT 泄漏：一个从不关闭连接的应用程序',
    explain: '客户端发出一个请求后关闭连接。服务器应用程序作出响应，但从不对它的 socket 调用 close()（一个经典的 bug，比如响应体从未被消费）。每条连接都停留在服务器的 CLOSE_WAIT 中，占着 socket 和缓冲区：没有任何内核定时器会结束 CLOSE_WAIT，只有 close() 或进程退出才行。客户端一侧停在 FIN_WAIT2，直到 tcp_fin_timeout（60 秒）将其删除。',
    question: 'CLOSE_WAIT socket 从哪里来？什么能清除它们？',
    notice: [
      '服务器的 socket 最终停在 CLOSE_WAIT 并一直留在那里',
      '客户端的孤儿 FIN_WAIT2 条目在 60 秒后消失',
    ],
    params: { latency_ms: LAT, connections: '客户端连接数' },
  },
  'fin-wait2-orphan': {
    title: '孤儿 FIN_WAIT2 与 tcp_fin_timeout；对端留在 CLOSE_WAIT',
    explain: '客户端关闭；服务器确认了 FIN，但从不关闭自己这一侧（一个应用程序 bug），于是服务器停在 CLOSE_WAIT。客户端的 socket 已被应用程序关闭，成为 FIN_WAIT2 中的孤儿：Linux 只保留它 tcp_fin_timeout（60 秒，这里可用 --set fin_timeout 修改），然后悄悄丢弃（ss 显示它带着一个 timewait 定时器）。如果应用程序只调用了 shutdown(SHUT_WR)，FIN_WAIT2 就没有这个定时器（--set shutdown_only=1）：它会永远等待对端。',
    question: 'tcp_fin_timeout 真正控制的是什么？',
    notice: [
      '客户端：FIN_WAIT1 -> FIN_WAIT2，然后在 fin_timeout 之后 FIN_WAIT2 -> CLOSED，线路上什么也没有',
      '服务器：一直处于 CLOSE_WAIT',
      'shutdown_only=1：客户端一直停在 FIN_WAIT2',
    ],
    params: { latency_ms: LAT, fin_timeout: 'net.ipv4.tcp_fin_timeout（秒）', shutdown_only: '1：客户端只关闭自己的发送方向，而不是 close()' },
  },
  'connection-statistics': {
    title: '连接统计：按状态和按远端地址统计的 socket 数随时间的变化',
    explain: '一台服务器为来自三个地址的三类客户端服务：10.0.0.1 建立短连接并先关闭，10.0.0.11 保持长连接，10.0.0.12 会关闭连接，但服务器的应用程序从不关闭自己这一侧。场景每 10 秒按状态和按远端地址统计一次服务器的 socket，就像经典的 “TCP 连接状态统计” 脚本用 netstat 或 ss 做的那样：CLOSE_WAIT 的堆积直接指向来自 10.0.0.12 的客户端，以及服务器的 bug。',
    question: '怎样找出是谁造成了 TIME_WAIT 或 CLOSE_WAIT 的堆积？',
    notice: [
      '服务器的 S 采样：来自 10.0.0.11 的 ESTABLISHED，来自 10.0.0.12 的 CLOSE_WAIT 不断增长',
      '服务器上没有 TIME_WAIT：短连接客户端先关闭，TIME_WAIT 由它们持有',
    ],
    params: { latency_ms: LAT },
  },
  'proxy-idle-timeout': {
    title: '代理的空闲超时与后端的 keep-alive：谁先关闭，以及 502',
    explain: '客户端通过一个 L4 代理（负载均衡器的 TCP 配置：空闲超时，超时时复位）保持一条到后端的连接，后端会关闭空闲 5 秒的连接。当代理的空闲超时比后端的 keep-alive 长时（F5 默认 300 秒），后端先关闭：它的 FIN 与客户端的下一个请求交叉而过，后端复位这个迟到的请求，代理把复位传递下去，请求失败（HTTP 代理会回答 502）。当代理的空闲超时更短时（--set proxy_idle_ms=3000），由代理先结束空闲连接，向双方发送复位；客户端为下一个请求重新连接，没有任何失败。规则：在每一跳上，复用连接的一方必须比接受连接的一方先超时。',
    question: '为什么 keep-alive 后端前面的负载均衡器会偶尔产生 502？哪个超时必须更短？',
    notice: [
      '代理空闲超时 300 秒：后端发出第一个 FIN；下一个请求被复位；出现失败',
      '代理空闲超时 3 秒：代理先复位双方；客户端重新连接；没有失败',
      '代理的 TIME_WAIT 持续 2 秒（它的配置），其他的持续 60 秒',
    ],
    params: { latency_ms: LAT, requests: REQUESTS, backend_keepalive_ms: '后端关闭空闲这么久的连接', proxy_idle_ms: '代理配置的空闲超时（F5 默认 300 秒）', gap_ms: '客户端在收到响应后到下一个请求之间的停顿' },
  },
  'lb-tcp-profile': {
    title: '负载均衡器的 TCP 配置：空闲超时、keep-alive 间隔和 TIME_WAIT 长度',
    explain: '客户端通过一个 L4 负载均衡器建立一条连接，发出一个请求，然后空闲的时间超过配置所允许的时长。该配置每隔一个 keep-alive 间隔向双方发送 TCP keepalive 探测（它们会得到应答，但不算流量：空闲计时器照常运行），在空闲超时到期时结束连接（开启超时复位时向双方发送复位，否则用 FIN），并且只把自己的 TIME_WAIT socket 保留其 time-wait 超时那么久（F5：2 秒），而不是 Linux 固定的 60 秒。',
    question: '负载均衡器配置中的空闲超时、keep-alive 间隔和 TIME_WAIT 长度对一条空闲连接有什么影响？',
    notice: [
      '每隔一个 keep-alive 间隔向双方发送 keepalive 探测，每个都被确认',
      '空闲超时到期时：向客户端和后端发送 RST（reset_on_timeout=0 时则是 FIN）',
      '使用 FIN 时，代理的 TIME_WAIT 在 time_wait_ms 后结束，而不是 60 秒',
      '客户端的下一个请求需要一条新连接',
    ],
    params: { latency_ms: LAT, idle_timeout_s: '配置的空闲超时（F5 默认 300 秒）', keepalive_interval_s: '配置的 keep-alive 间隔（F5 默认 1800 秒；0 = 关闭）', reset_on_timeout: '1：空闲超时时复位双方（F5 默认）；0：用 FIN 关闭', time_wait_ms: '配置的 TIME_WAIT 长度（F5 time-wait-timeout 2000 毫秒）', client_idle_s: '客户端在下一个请求前空闲多久' },
  },
  'long-vs-short-connections': {
    title: '长连接与短连接：200 个请求的代价',
    explain: '同样的 200 次请求/响应交换，先在一条长连接上进行，再用 200 条短连接（每个请求一条，由客户端先关闭）。短连接为每个请求付出一次握手（一个往返）和一次关闭，发送的报文段大约是三倍，并留下 200 个持续 60 秒的 TIME_WAIT 条目；长连接只付出一次代价，但在空闲时也占着资源（socket、缓冲区、每个中间设备里的一个表项）。',
    question: '保持连接能省下什么？又要付出什么？',
    notice: ['每个阶段结束时的注释：发送的报文段数、握手次数、TIME_WAIT 数、耗时'],
    params: { latency_ms: LAT, requests: '每个阶段的请求数' },
  },
  'http10-close': {
    title: '不带 keep-alive 的 HTTP/1.0：每个请求一条连接，服务器先关闭',
    explain: 'HTTP/1.0 客户端把每个请求都放在一条新连接上发送，并且不请求 keep-alive。服务器（Node 的 http 模块）通过关闭连接来标志响应结束，因此由它发出第一个 FIN，每条连接在它这一侧都会在 TIME_WAIT 中停留 60 秒。',
    question: '为什么 HTTP/1.0 服务器会积累 TIME_WAIT socket？',
    notice: ['每个请求一个 SYN', '每次响应后由服务器发出第一个 FIN', 'TIME_WAIT 只在服务器上'],
    params: { latency_ms: LAT, requests: REQUESTS },
  },
  'http10-keepalive': {
    title: '带 Connection: keep-alive 的 HTTP/1.0：请求共享一条连接',
    explain: '同样的 HTTP/1.0 客户端请求 `Connection: keep-alive`。服务器在响应中带上 Content-Length（这样响应不需要关闭连接也有明确的结尾），并保持连接。所有请求都走同一条连接；客户端用完后关闭它，所以唯一的 TIME_WAIT 在客户端。',
    question: 'keep-alive 对 HTTP/1.0 有什么改变？',
    notice: ['所有请求只有一个 SYN', '客户端发出第一个 FIN', '一个 TIME_WAIT，在客户端'],
    params: { latency_ms: LAT, requests: REQUESTS },
  },
  'http11-keepalive': {
    title: 'HTTP/1.1 keep-alive：一条连接上的 Content-Length 与 chunked，max=100 以及 5 秒空闲关闭',
    explain: 'HTTP/1.1 连接默认是持久的。Node 的服务器发送 `Keep-Alive: timeout=5`；设置 maxRequestsPerSocket=100 时，它用 `Connection: close` 回答第 100 个请求，客户端（Node 的 http.Agent）随即关闭这条连接：客户端发出第一个 FIN 并持有这个 TIME_WAIT。空闲连接在最后一次响应 6 秒后由服务器关闭（Node 20 的定时为 keepAliveTimeout 加 1 秒），所以那个 TIME_WAIT 属于服务器。响应在 Content-Length 和 chunked 两种分帧方式之间交替；两者都能在不关闭连接的情况下干净地结束。',
    question: '一条 HTTP/1.1 连接能存活多久？由谁结束它？',
    notice: [
      '第 1-100 个请求走第一条连接（从第 2 个起 reusedSocket 为 true），然后是一条新连接',
      '第 100 个响应之后客户端发出第一个 FIN（TIME_WAIT 在客户端）',
      '空闲 6 秒后服务器发出第一个 FIN（TIME_WAIT 在服务器）',
    ],
    params: { latency_ms: LAT, requests: REQUESTS, keepalive_timeout_ms: '服务器的 keepAliveTimeout' },
  },
  'http11-connection-close': {
    title: '客户端发送 Connection: close 的 HTTP/1.1：TIME_WAIT 归先发 FIN 的一方',
    explain: '客户端发送 `Connection: close`，并且因为没有更多要发送的内容，请求一发出就关闭自己的发送方向：它的 FIN 先发出，所以 TIME_WAIT 落在客户端。光有这个头部并不能转移 TIME_WAIT：收到 `Connection: close` 的服务器会在响应后关闭（RFC 9112 §9.6；Node 会立即关闭），所以用 --set client_half_close=0 时由服务器发出第一个 FIN 并持有 TIME_WAIT。',
    question: '客户端能让 TIME_WAIT 不落在服务器上吗？',
    notice: [
      '每个请求一条连接',
      'client_half_close=1：客户端先发 FIN，TIME_WAIT 在客户端',
      'client_half_close=0：服务器先发 FIN，TIME_WAIT 在服务器',
    ],
    params: { latency_ms: LAT, requests: REQUESTS, client_half_close: '1：客户端在发出请求后关闭自己的发送方向' },
  },
  'http11-keepalive-race': {
    title: 'keep-alive 竞态：连接池中的请求撞上服务器的空闲关闭（复用的 socket 上出现 ECONNRESET）',
    explain: '客户端连接池（启用 keepAlive 的 Node http.Agent）保留空闲连接以便复用，而且不理会服务器的 `Keep-Alive: timeout=5` 提示。服务器在最后一次响应 6 秒后关闭空闲连接。当下一个请求恰好在服务器的 FIN 到达之前发出时，它到达的是一个服务器已经关闭的 socket：服务器内核用 RST 回答，请求在一个复用的 socket 上以 ECONNRESET（“socket hang up”）失败。POST 不是幂等的，所以不能盲目重试。',
    question: '为什么使用连接池的 HTTP 客户端会随机出现 “socket hang up” 错误？',
    notice: [
      '失败的请求都有 reusedSocket: true',
      '服务器对关闭之后到达的请求数据发送 RST（TCPAbortOnData）',
    ],
    params: { latency_ms: LAT, requests: REQUESTS, server_keepalive_ms: '服务器的 keepAliveTimeout（Node 在其后 1 秒关闭空闲 socket）' },
  },
  'http11-keepalive-race-fixed': {
    title: '修复 keep-alive 竞态：客户端的空闲超时比服务器的短',
    explain: '同样的流量，但连接池在 4 秒后关闭它的空闲连接（http.Agent 的 `timeout`），远早于服务器的 6 秒。在每一跳上，复用连接的一方必须先超时：这样被复用的连接就永远不会是服务器正在关闭的那条，也就没有请求会失败。',
    question: '怎样配置连接池才能让这种竞态不可能发生？',
    notice: ['没有失败的请求', '空闲连接由客户端关闭（TIME_WAIT 在客户端）'],
    params: { latency_ms: LAT, requests: REQUESTS, server_keepalive_ms: '服务器的 keepAliveTimeout（Node 在其后 1 秒关闭空闲 socket）', client_idle_ms: '连接池的空闲超时（http.Agent timeout）' },
  },
  'http2-multiplex-idle': {
    title: 'HTTP/2：一条连接上 100 个并发请求，空闲超时后 GOAWAY，一个 TIME_WAIT',
    explain: 'HTTP/2 客户端（node:http2）一次发出 100 个请求；它们作为流在同一条 TCP 连接上多路复用。当连接空闲达到服务器的空闲超时，服务器发送 GOAWAY 然后关闭：它发出第一个 FIN，并持有整个交换过程中唯一的 TIME_WAIT。',
    question: 'HTTP/2 完成 100 个请求需要多少连接和 TIME_WAIT？',
    notice: ['一个 SYN', 'GOAWAY，然后是服务器的 FIN', '恰好一个 TIME_WAIT，在服务器上'],
    params: { latency_ms: LAT, requests: REQUESTS, idle_timeout_ms: '服务器关闭空闲这么久的会话' },
  },
  'http-versions-compared': {
    title: 'HTTP/1.0、HTTP/1.1 与 HTTP/2 完成同样的 100 个请求：连接数、握手、TIME_WAIT、耗时',
    explain: '同样的 100 个请求，一个接一个，重复三次：用不带 keep-alive 的 HTTP/1.0（每个请求一条连接，由服务器关闭），用 HTTP/1.1 keep-alive（复用一条连接），以及用 HTTP/2（一条连接，100 个请求全部作为并发流）。每个阶段之后的注释统计打开的 TCP 连接数、各方留下的 TIME_WAIT 条目数和耗时：持久连接省掉了每个请求的握手和关闭，多路复用省掉了等待。',
    question: '完成同样的工作，各个 HTTP 版本在 TCP 层面的代价是多少？',
    notice: ['HTTP/1.0：100 条连接，服务器上 100 个 TIME_WAIT', 'HTTP/1.1：1 条连接', 'HTTP/2：1 条连接，耗时最短'],
    params: { latency_ms: LAT, requests: REQUESTS },
  },
  'blind-rst': {
    title: '盲注 RST 攻击：猜中窗口内的 RST 只换来挑战 ACK，传输照常完成',
    explain: '一个不在路径上的攻击者知道四元组（地址和端口很容易猜到），冒充客户端向服务器伪造 RST，想中断客户端的上传。' +
      '它看不到序列号，只能不停地猜；实验里每个猜测都落在服务器的接收窗口内，但从不恰好等于 RCV.NXT。' +
      '在 RFC 5961 之前，窗口内的任何 RST 都会复位连接，64 KB 的窗口意味着每 2^32/65536 = 65536 次猜测就能命中一次。' +
      'Linux（tcp_validate_incoming）只在 RST 恰好位于 RCV.NXT（或自己 SACK 块的最右边缘）时才复位，对窗口内的其他 RST 回复一个挑战 ACK（challenge ACK）给真正的客户端，真正的客户端如有需要会发出序列号正确的 RST。' +
      '挑战 ACK 每个套接字每 500 ms 最多一个（tcp_invalid_ratelimit，TcpExtTCPACKSkippedChallenge），攻击者无法借它放大流量。' +
      '使用 --set exact_guess=N 时第 N 个猜测恰好命中：服务器被复位（ECONNRESET），客户端的下一个报文段收到 RST。',
    question: '不在路径上的攻击者能靠猜测复位一条 TCP 连接吗？',
    notice: [
      '服务器：收到来自 10.0.0.1 的 R 报文段，但客户端从未发送过它们（是攻击者从自己的链路发来的）',
      '第一个 RST 得到一个发往客户端的“challenge ACK”；500 ms 内的后续 RST 什么也得不到（TcpExtTCPACKSkippedChallenge）',
      '上传完成：服务器记下它读到的正是客户端写入的字节；任何一方都没有 ECONNRESET',
      'exact_guess=10：第 10 个 RST 复位了服务器的套接字（TcpEstabResets，ECONNRESET），客户端的下一段数据收到 RST',
    ],
    params: {
      latency_ms: LAT,
      bandwidth_mbps: '链路带宽（Mbit/s），让传输持续一段时间',
      bytes: '客户端上传的字节数',
      rsts: '攻击者发送的猜测 RST 数量',
      interval_ms: '两次猜测之间的间隔',
      exact_guess: '第几个猜测（1..rsts）恰好等于 RCV.NXT；0 表示没有',
      invalid_ratelimit_ms: '服务器的 net.ipv4.tcp_invalid_ratelimit（同一套接字两个挑战 ACK 之间的毫秒数）',
    },
  },
  'blind-data-injection': {
    title: '盲注数据：ACK 不可接受的伪造数据被丢弃，数据流保持原样',
    explain: '同一个不在路径上的攻击者这次冒充客户端向上传流中伪造数据，希望服务器把它当作客户端发送的数据交给应用程序。' +
      '实验甚至把每个伪造报文段都恰好放在服务器的 RCV.NXT 处，那里的数据本会被接受。但攻击者还得猜 ACK 号：' +
      'Linux（tcp_ack）丢弃确认了从未发送的字节（超过 SND.NXT）的报文段，或比 SND.UNA 落后超过已确认字节总数的报文段' +
      '（RFC 5961 §5.2；上传中的服务器什么都没发送过，所以只有 SND.UNA 本身可以接受），并回复一个挑战 ACK（每个套接字每 500 ms 一个）。' +
      '伪造的字节永远到不了应用程序：服务器读到的正是客户端写入的内容。',
    question: '不在路径上的攻击者能把数据塞进一条 TCP 数据流吗？',
    notice: [
      '服务器：收到来自 10.0.0.1 的 P. 报文段，其 ACK 要么超过服务器发送过的数据（奇数个），要么远远落后（偶数个）',
      '每个都被丢弃（“challenge ACK”每 500 ms 最多一个；其余计入 TcpExtTCPChallengeACK 之外的 TcpExtTCPACKSkippedChallenge）',
      '服务器记下它读到的正是客户端写入的字节：没有攻击者的 “X” 字节',
    ],
    params: {
      latency_ms: LAT,
      bandwidth_mbps: '链路带宽（Mbit/s），让传输持续一段时间',
      bytes: '客户端上传的字节数',
      injections: '攻击者发送的伪造数据报文段数量',
      interval_ms: '两个伪造报文段之间的间隔',
      payload: '每个伪造报文段携带的字节数',
    },
  },
  'ofo-flood': {
    title: '乱序洪泛：微小的伪造报文段填满接收队列；修剪让内存保持有界',
    explain: '攻击者冒充客户端地址，在客户端上传期间向服务器的 RCV.NXT 之上、窗口之内喷射 1 字节的报文段。' +
      '每个都进入乱序队列，占用一整个缓冲区（Linux 6.18 上 1 字节数据计入 sk_rmem_alloc 832 字节）。' +
      '一旦计入的内存将超过 sk_rcvbuf，Linux（tcp_try_rmem_schedule）调用 tcp_prune_queue（PruneCalled）：它合并队列，但不合并由单个微小报文段组成的区间（CVE-2018-5390：复制它们耗费的 CPU 比节省的更多），' +
      '然后 tcp_prune_ofo_queue 从最高序列号往下丢弃乱序数据（OfoPruned），仍放不下的报文段被丢弃（TCPOFODrop）。' +
      '按序数据总是优先：修剪为它腾出空间，所以上传逐字节完整地完成，接收内存从不超过 sk_rcvbuf。' +
      '（实验中的攻击者能看到连接，伪造的正是客户端将在该位置发送的字节：这里讲的是内存；伪造字节见 blind-data-injection。）',
    question: '大量微小的乱序报文段能让接收端耗尽内存吗？',
    notice: [
      '服务器每秒一次的记录：它的接收内存（sk_rmem_alloc）保持在 sk_rcvbuf 之下，而乱序队列一次次被填满又被修剪',
      'TcpExtPruneCalled 和 TcpExtOfoPruned 统计修剪次数，TcpExtTCPOFODrop 统计找不到空间的伪造报文段，TcpExtTCPOFOQueue 统计入队的报文段',
      '上传完成：服务器记下它读到的正是客户端写入的字节，用时 5.9 秒，而没有洪泛时（forged=0）为 3.3 秒：每次修剪都会收紧通告窗口（tcp_clamp_window）',
      '跟踪中省略了伪造的报文段和它们引发的带 SACK 的重复 ACK（各有数千个）：只有计数器显示它们',
    ],
    params: {
      latency_ms: LAT,
      bandwidth_mbps: '链路带宽（Mbit/s），让传输持续一段时间',
      bytes: '客户端上传的字节数',
      forged: '攻击者发送的 1 字节伪造报文段数量',
      flood_s: '洪泛持续的秒数（每毫秒一批）',
    },
  },
  'orphan-flood': {
    title: '孤儿洪泛：客户端带着服务器从不读取的数据关闭；超过 tcp_max_orphans 的被复位',
    explain: '许多客户端连接到一个只接受连接、从不读取的服务器。每个客户端写入的数据超过服务器窗口能容纳的量，然后调用 close()：套接字成为孤儿（不再属于任何进程），' +
      '处于 FIN_WAIT1，数据和 FIN 仍排在零窗口之后，内核自己不断探测窗口。' +
      '孤儿占用的内存无人能释放，所以 Linux 限制它们：tcp_check_oom 在 close() 时（tcp_close）以及孤儿的每次重传或探测定时器触发时（tcp_out_of_resources）把孤儿数与 net.ipv4.tcp_max_orphans 比较。' +
      '超过时，孤儿被复位（线路上的 RST，TCPAbortOnMemory），内核记录 “too many orphaned sockets”。' +
      '比较用的计数是每 100 ms 刷新一次的副本（tcp_orphan_cache，自 5.15 起），所以 100 ms 内的一批 close 可能在复位开始前越过上限。',
    question: '进程带着未发送的数据关闭后留下的套接字，由什么来限制？',
    notice: [
      '每个客户端写入数据，服务器的窗口被填满并降为 0；连接 300 ms 后客户端关闭：FIN_WAIT1，成为孤儿，数据仍在排队',
      '一旦缓存的孤儿数超过 max_orphans，close() 改为复位：客户端发出 R.，记录 “too many orphaned sockets”，TcpExtTCPAbortOnMemory',
      '保留下来的孤儿探测零窗口；每次探测都会再次检查上限（tcp_out_of_resources）：默认参数下，600 ms 的刷新看到 20 个孤儿（400-590 ms 关闭），之后最老的 8 个被各自的探测复位（828-898 ms），直到 900 ms 的刷新看到 12 个',
      '内核日志行有速率限制（net_info_ratelimited：每 5 秒 10 条）：36 次复位只有 10 条记录',
      '客户端每秒一次的记录：当前的孤儿数、上限看到的孤儿数，以及各状态的套接字数',
    ],
    params: {
      latency_ms: LAT,
      clients: '连接、写入并关闭的客户端数量，每 10 ms 一个',
      bytes: '每个客户端在 close() 之前交给一次 send() 的字节数（发送缓冲区能收多少收多少）',
      server_rcvbuf: '服务器监听套接字的 SO_RCVBUF（Linux 会将其翻倍）',
      max_orphans: '客户端主机上的 net.ipv4.tcp_max_orphans（Linux 默认：已建立连接哈希表的一半，这里是 131072）',
    },
  },
  'sack-abuse': {
    title: 'SACK 滥用：MSS 极小、带精心构造 SACK 块的对端；重传队列保持有界',
    explain: '一个客户端宣告 MSS 1 并从服务器下载，确认时落后四个报文段，并对这些报文段各自的中间部分发送 SACK。' +
      '2019 年这是针对 Linux 的攻击：MSS 极小时，写队列中的一个 skb 包含许多报文段、许多分片；结束于 skb 内部的 SACK 块会让 tcp_fragment 把它拆开，' +
      '于是构造的块能让重传队列远远超过发送缓冲区（CVE-2019-11478，资源过度消耗），或让 skb 的 16 位报文段计数溢出（CVE-2019-11477，“SACK Panic”）。' +
      '修复：net.ipv4.tcp_min_snd_mss（默认 48）为对端可强加的 MSS 设下限，所以服务器发送 48 字节的报文段；写队列已远超 sk_sndbuf 时 tcp_fragment 拒绝拆分（TCPWqueueTooBig）；tcp_gso_segs 设有上限。' +
      'linger 每个队列条目发送一个数据包，从不因 SACK 拆分条目（部分覆盖的块不标记任何东西），所以这里队列只受发送缓冲区限制；记录每秒显示一次。',
    question: '对端的 SACK 块能让发送端的重传队列无限增长吗？',
    notice: [
      '服务器的 SYN-ACK：MSS 是它自己的；数据报文段每个 48 字节：tcp_min_snd_mss 把客户端的 MSS 1 提到了下限',
      '客户端的每个 ACK 落后四个报文段，并带有位于这些报文段内部的 SACK 块：没有一个标记报文段（TcpExtTCPSACKDiscard 也不计数：它们是有效的块）',
      '服务器每秒一次的记录：重传队列（报文段数、在途字节）是发送队列的一部分，发送队列从不超过发送缓冲区（随 tcp_wmem 自动调整增长）',
      '传输完成：最后一条记录说明每个字节都按序到达',
      '跟踪只保留前 300 ms 的报文段以及带 SYN 或 FIN 的报文段：其余的由计数器统计',
    ],
    params: {
      latency_ms: LAT,
      mss: '滥用客户端宣告的 MSS（服务器以 tcp_min_snd_mss 为下限）',
      bandwidth_mbps: '链路带宽（Mbit/s），让传输持续一段时间',
      bytes: '服务器发送的字节数',
      sndbuf: '服务器套接字的 SO_SNDBUF（Linux 会将其翻倍）；0 = tcp_wmem 自动调整',
    },
  },
  slowloris: {
    title: 'Slowloris：每次只发一个字节请求头的客户端，以及 node:http 的 headersTimeout（408）',
    explain: 'Slowloris 攻击者向 Web 服务器打开大量连接，每个请求的头部一次只发一个字节、永不发完，以占满服务器的所有连接名额。' +
      '这里 50 个这样的客户端每秒向 Node 自己的 node:http 服务器滴入一个字节，同时一个正常客户端每 2 秒发出一个普通请求。' +
      'node:http 限制接收请求头的时间：每隔 connectionsCheckingInterval（这里 1 秒，默认 30 秒）它检查一次，请求开始超过 headersTimeout（这里 10 秒，默认 60 秒）仍未收完头部的连接会过期，' +
      '服务器回复 `HTTP/1.1 408 Request Timeout` 并关闭连接（FIN 紧跟在 408 之后）。正常请求始终得到服务。' +
      'TCP 看不出任何异常：每条慢连接都是 ESTABLISHED 并被确认；只有应用程序才能区分慢客户端和慢网络。',
    question: '服务器如何防御尽可能慢地发送请求的客户端？',
    notice: [
      '慢客户端的连接立即进入 ESTABLISHED；每个每隔一秒发送 1 字节的报文段，服务器确认它们（延迟确认）',
      '每条慢连接在发出第一个字节后约 10 到 11 秒收到 “HTTP/1.1 408 Request Timeout” 和服务器的 FIN（http 事件：状态 408）',
      '每 2 秒一次的正常 GET 始终得到 200，各自使用自己的连接',
      'headers_timeout_ms=0：慢客户端一直占着连接直到运行结束',
    ],
    params: {
      latency_ms: LAT,
      clients: '慢客户端的数量',
      byte_interval_ms: '慢客户端每隔多少毫秒发送一个字节',
      headers_timeout_ms: '服务器的 headersTimeout（0 表示不限制；Node 默认 60000）',
      checking_interval_ms: '服务器的 connectionsCheckingInterval（Node 默认 30000）',
      legit_interval_ms: '每隔多少毫秒发出一个正常请求',
    },
  },
};
