// A host's configuration in two tables: Linux's own sysctls (net.ipv4.* and net.core.somaxconn)
// with Linux's defaults (Documentation/networking/ip-sysctl.rst), every one of them honoured by
// the engine; and linger's model knobs, which are Linux constants or a device's settings that
// a scenario may change but no Linux sysctl sets. Times are in the unit the name says.
// Sysctls Linux has whose value linger fixes are in FIXED_SYSCTLS: only that value is accepted.

/** Linux sysctls, named without their net.ipv4. (or net.core.) prefix. */
export interface Sysctls {
  /** [min, max] inclusive, as net.ipv4.ip_local_port_range. */
  ip_local_port_range: [number, number];
  tcp_fin_timeout: number; // s
  tcp_tw_reuse: 0 | 1 | 2; // 2 = loopback only
  tcp_tw_reuse_delay: number; // ms (Linux 6.x)
  tcp_max_tw_buckets: number;
  /** Orphans (closed, still finishing) above which they are reset: TCPAbortOnMemory (tcp_check_oom). Global, not per namespace. */
  tcp_max_orphans: number;
  /** [low, pressure, high] in 4 KiB pages: TCP memory of the whole host (tcp_memory_allocated). Global, not per namespace. */
  tcp_mem: [number, number, number];
  /** The smallest MSS a peer may impose (__tcp_mtu_to_mss; CVE-2019-11479), 48..65535. */
  tcp_min_snd_mss: number;
  tcp_keepalive_time: number; // s
  tcp_keepalive_intvl: number; // s
  tcp_keepalive_probes: number;
  tcp_syn_retries: number;
  /** SYN retransmissions at a fixed 1 s before exponential backoff (Linux 6.x; 4 here). */
  tcp_syn_linear_timeouts: number;
  tcp_synack_retries: number;
  tcp_retries2: number;
  tcp_orphan_retries: number; // 0 means 8
  tcp_rfc1337: 0 | 1;
  tcp_max_syn_backlog: number;
  /** SYN cookies (tcp/syncookies.ts): 0 never, 1 when the SYN queue is full, 2 always. */
  tcp_syncookies: 0 | 1 | 2;
  tcp_abort_on_overflow: 0 | 1;
  tcp_timestamps: 0 | 1 | 2;
  tcp_sack: 0 | 1;
  /** D-SACK blocks (RFC 2883) for duplicates received; 0: none (tcp_dsack_set, tcp_send_dupack). */
  tcp_dsack: 0 | 1;
  tcp_window_scaling: 0 | 1;
  /** Receive-buffer autotuning (tcp_rcv_space_adjust, DRS): 1 grows sk_rcvbuf with the reading rate; 0 keeps tcp_rmem[1]. */
  tcp_moderate_rcvbuf: 0 | 1;
  /** Challenge ACKs per second per network namespace (a host here); INT_MAX (the default since 6.0): no limit. */
  tcp_challenge_ack_limit: number;
  /** At most one ACK answering an invalid segment per this many ms per socket (__tcp_oow_rate_limited). */
  tcp_invalid_ratelimit: number;
  /** [min, default, max] bytes. */
  tcp_rmem: [number, number, number];
  tcp_wmem: [number, number, number];
  /** TCP_RTO_MIN, 200 ms; a sysctl since Linux 6.11 (before, only per route: `ip route ... rto_min`). */
  tcp_rto_min_us: number;
  /** Bytes not yet sent above which a socket is not writable (TCP_NOTSENT_LOWAT's default; UINT_MAX = off). */
  tcp_notsent_lowat: number;
  /** Tail loss probe (RFC 8985): 0 off, 3 or 4 on (3, the default, and 4 both probe in 6.x); 1 and 2 are accepted and probe nothing. */
  tcp_early_retrans: number;
  /** Bit 0x1: RACK loss detection (RFC 8985); 0x2: a static reordering window; 0x4: no DUPACK threshold. */
  tcp_recovery: number;
  /** F-RTO (RFC 5682): 0 off, 1 basic, 2 with the SACK enhancement (Linux runs the same code for 1 and 2). */
  tcp_frto: number;
  /** The reordering degree a connection starts with (tp->reordering), in packets. */
  tcp_reordering: number;
  /** The largest reordering degree a connection may learn. */
  tcp_max_reordering: number;
  /** The window of the minimum-RTT filter RACK uses, in seconds. */
  tcp_min_rtt_wlen: number;
  /** A new socket's congestion control (icsk_ca_ops): one of CONGESTION_CONTROL_NAMES. */
  tcp_congestion_control: string;
  /** RFC 2861 cwnd validation after idle (tcp_cwnd_restart, tcp_cwnd_application_limited). */
  tcp_slow_start_after_idle: 0 | 1;
  somaxconn: number; // net.core.somaxconn
}

/** The congestion controls linger has (tcp/congestion.ts), the default first. */
export const CONGESTION_CONTROL_NAMES: readonly string[] = ['cubic', 'reno'];

/** linger's own knobs: not Linux sysctls. */
export interface ModelKnobs {
  /** TCP_RTO_MAX, 120 s (a constant in Linux before 6.15's tcp_rto_max_ms, which is in ms). */
  tcp_rto_max_us: number;
  /** TCP_INIT_CWND, 10 segments (a constant in Linux; per route: `ip route ... initcwnd`). */
  tcp_initial_cwnd: number;
  /** Link MTU of the host's interface (and of its one route: `ip route ... mtu [lock] N`). */
  mtu: number;
  /** The route's advmss metric (`ip route ... advmss M`): the MSS offered, when not 0 (dst_metric_advmss). */
  route_advmss: number;
  /** The kernel's timer frequency (CONFIG_HZ): RTOs are whole jiffies. 250 on this machine's kernel. */
  hz: number;
  /**
   * TIME_WAIT's length in ms. Linux's is fixed at 60 s (TCP_TIMEWAIT_LEN, the default); this is
   * the time-wait-timeout of a load balancer's TCP profile (F5: 2000 ms), for hosts that play one.
   * The orphan FIN_WAIT2 split (tcp_fin_timeout beyond 60 s) keeps Linux's constant.
   */
  lb_time_wait_timeout_ms: number;
}

/** A host's configuration: the Linux sysctls linger has, and linger's own knobs. */
export type HostConfig = Sysctls & ModelKnobs;

/** TCP_TIMEWAIT_LEN (include/net/tcp.h): 60 s, fixed in Linux. */
export const TCP_TIMEWAIT_LEN_MS = 60_000;

const SYSCTL_DEFAULTS: Readonly<Sysctls> = {
  ip_local_port_range: [32768, 60999],
  tcp_fin_timeout: 60,
  tcp_tw_reuse: 2,
  tcp_tw_reuse_delay: 1000,
  tcp_max_tw_buckets: 262144,
  // tcp_init: a limit of nr_free_buffer_pages / 16 pages; tcp_mem = {limit * 3/4, limit, limit * 3/2};
  // tcp_max_orphans = half the established hash (tcp_hashinfo.ehash_mask + 1). This machine
  // (24 GiB) shows 287907 383877 575814 and 131072.
  tcp_max_orphans: 131072,
  tcp_mem: [287907, 383877, 575814],
  tcp_min_snd_mss: 48,
  tcp_keepalive_time: 7200,
  tcp_keepalive_intvl: 75,
  tcp_keepalive_probes: 9,
  tcp_syn_retries: 6,
  tcp_syn_linear_timeouts: 4,
  tcp_synack_retries: 5,
  tcp_retries2: 15,
  tcp_orphan_retries: 0,
  tcp_rfc1337: 0,
  tcp_max_syn_backlog: 4096,
  tcp_syncookies: 1,
  tcp_abort_on_overflow: 0,
  tcp_timestamps: 1,
  tcp_sack: 1,
  tcp_dsack: 1,
  tcp_window_scaling: 1,
  tcp_moderate_rcvbuf: 1,
  tcp_challenge_ack_limit: 2147483647, // INT_MAX since Linux 6.0: only the per-socket 500 ms limit applies
  tcp_invalid_ratelimit: 500,
  tcp_rmem: [4096, 131072, 6291456],
  tcp_wmem: [4096, 16384, 4194304],
  tcp_rto_min_us: 200_000,
  tcp_notsent_lowat: 4294967295,
  tcp_early_retrans: 3,
  tcp_recovery: 1,
  tcp_frto: 2,
  tcp_reordering: 3,
  tcp_max_reordering: 300,
  tcp_min_rtt_wlen: 300,
  tcp_congestion_control: 'cubic',
  tcp_slow_start_after_idle: 1,
  somaxconn: 4096,
};

const KNOB_DEFAULTS: Readonly<ModelKnobs> = {
  tcp_rto_max_us: 120_000_000,
  tcp_initial_cwnd: 10,
  mtu: 1500,
  route_advmss: 0,
  hz: 250,
  lb_time_wait_timeout_ms: TCP_TIMEWAIT_LEN_MS,
};

/** Sysctls linger has no setting for because its behaviour is fixed: only this value is accepted. */
export const FIXED_SYSCTLS: Readonly<Record<string, { value: string; why: string }>> = {
  'net.ipv4.tcp_ecn': { value: '0', why: 'linger never negotiates ECN' },
  'net.ipv4.tcp_no_metrics_save': { value: '1', why: 'linger keeps no per-destination metrics (tcp_metrics) between connections' },
  'net.ipv4.tcp_retries1': { value: '3', why: 'what tcp_retries1 drives (route negative advice, PMTU probing, flow-label rethink) linger does not have' },
};

/**
 * Sysctls accepted at any valid value because, on linger's link, they change nothing on Linux
 * either: `why` says so. The kernel runner writes them as given.
 */
export const NOOP_SYSCTLS: Readonly<Record<string, { valid: RegExp; why: string }>> = {
  // TCP Fast Open needs a cookie option or a TFO call, which a script cannot use (UNSUPPORTED).
  'net.ipv4.tcp_fastopen': { valid: /^(0x[0-9a-f]+|\d+)$/i, why: 'Fast Open takes a TFO option or call, which stay UNSUPPORTED' },
  'net.ipv4.tcp_fastopen_key': { valid: /^[0-9a-f-]+(,[0-9a-f-]+)?$/i, why: 'Fast Open takes a TFO option or call, which stay UNSUPPORTED' },
  // TSO deferral and pacing ratios shape super-packets and paced (fq or BBR) sending: a link that
  // takes no super-packets and a pfifo qdisc leave Linux sending MSS segments at once, as linger.
  'net.ipv4.tcp_tso_win_divisor': { valid: /^\d+$/, why: 'TSO deferral: no super-packets on the link' },
  'net.ipv4.tcp_pacing_ss_ratio': { valid: /^\d+$/, why: 'pacing applies with fq or BBR only' },
  'net.ipv4.tcp_pacing_ca_ratio': { valid: /^\d+$/, why: 'pacing applies with fq or BBR only' },
  // Which ECN option to send once ECN is negotiated; tcp_ecn is 0 (FIXED_SYSCTLS).
  'net.ipv4.tcp_ecn_option': { valid: /^[0-2]$/, why: 'ECN is never negotiated (tcp_ecn 0)' },
};

/**
 * Sysctls of Linux's loss recovery and congestion control that linger does not have yet (issue
 * 14): `value` is what linger does; any other valid value is accepted, since Linux's suites
 * set it, with a warning in the script's report that says what linger does instead.
 */
export const APPROXIMATED_SYSCTLS: Readonly<Record<string, { value: string; valid: RegExp; instead: string }>> = {};

/** Linux's defaults (a 6.x kernel), as a fresh object. */
export const defaultConfig = (): HostConfig => ({
  ...SYSCTL_DEFAULTS,
  ...KNOB_DEFAULTS,
  ip_local_port_range: [...SYSCTL_DEFAULTS.ip_local_port_range],
  tcp_rmem: [...SYSCTL_DEFAULTS.tcp_rmem],
  tcp_wmem: [...SYSCTL_DEFAULTS.tcp_wmem],
  tcp_mem: [...SYSCTL_DEFAULTS.tcp_mem],
});

export type SysctlName = keyof Sysctls;

/** The full name of a sysctl: net.core.somaxconn, net.ipv4.<name> for the rest. */
const fullName = (k: string): string => (k === 'somaxconn' ? 'net.core.somaxconn' : `net.ipv4.${k}`);

/** The Linux sysctl names linger applies, sorted. */
export function knownSysctls(): string[] {
  return Object.keys(SYSCTL_DEFAULTS).map(fullName).sort();
}

/**
 * The sysctls as linger behaves, written as Linux takes them: every modelled one at linger's
 * default, the fixed ones at their value, the approximated ones at the value linger behaves as.
 * The kernel runner (drill --kernel) starts each namespace with these, so that a script meets
 * the same configuration on both hosts unless it sets its own.
 */
export function lingerSysctls(cfg: HostConfig = defaultConfig()): Array<[name: string, value: string]> {
  const out: Array<[string, string]> = [];
  for (const k of Object.keys(SYSCTL_DEFAULTS) as SysctlName[]) {
    const v = cfg[k];
    out.push([fullName(k), Array.isArray(v) ? v.join(' ') : String(v)]);
  }
  for (const [name, f] of Object.entries(FIXED_SYSCTLS)) out.push([name, f.value]);
  for (const [name, a] of Object.entries(APPROXIMATED_SYSCTLS)) out.push([name, a.value]);
  return out;
}

/**
 * Sysctls whose writes Linux bounds (proc_dointvec_minmax in sysctl_net_ipv4.c): [min, max].
 * A value outside is refused with EINVAL there, and with a ConfigError here.
 */
export const SYSCTL_RANGES: Readonly<Partial<Record<SysctlName, readonly [number, number]>>> = {
  tcp_early_retrans: [0, 4],
  tcp_frto: [0, 2],
  tcp_recovery: [0, 7],
  tcp_slow_start_after_idle: [0, 1],
  tcp_moderate_rcvbuf: [0, 1],
  tcp_min_snd_mss: [48, 65535], // TCP_MIN_SND_MSS .. 65535 (sysctl_net_ipv4.c)
  tcp_max_orphans: [0, 2147483647],
  tcp_syncookies: [0, 2],
};

/** An unknown sysctl name or a value Linux would refuse. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Applies `net.ipv4.tcp_fin_timeout=5`-style settings; a typed error for any other name or a bad value. */
export function applySysctl(cfg: HostConfig, name: string, value: string | number): void {
  const key = name.replace(/^net\.ipv4\./, '').replace(/^net\.core\./, '');
  if (!(key in SYSCTL_DEFAULTS) || fullName(key) !== name) throw new ConfigError(`unknown sysctl ${name}`);
  const cur = cfg[key as SysctlName];
  if (typeof cur === 'string') {
    // tcp_set_default_congestion_control: a name with no module is ENOENT.
    const v = String(value).trim();
    if (!CONGESTION_CONTROL_NAMES.includes(v)) throw new ConfigError(`${name}: no congestion control "${v}" (linger has ${CONGESTION_CONTROL_NAMES.join(', ')})`);
    setField(cfg, key, v);
    return;
  }
  if (Array.isArray(cur)) {
    const parts = String(value).trim().split(/\s+/).map(Number);
    if (parts.length !== cur.length || parts.some((n) => !Number.isInteger(n))) {
      throw new ConfigError(`${name} takes ${cur.length} integers, got "${value}"`);
    }
    setField(cfg, key, parts);
    return;
  }
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`${name} takes an integer, got "${value}"`);
  const range = SYSCTL_RANGES[key as SysctlName];
  if (range && (n < range[0] || n > range[1])) throw new ConfigError(`${name}=${value}: not a value Linux accepts (${range[0]}..${range[1]})`);
  setField(cfg, key, n);
}

/** One write into the record by a name checked against SYSCTL_DEFAULTS above. */
function setField(cfg: HostConfig, key: string, v: number | number[] | string): void {
  Object.assign(cfg, { [key]: v });
}
