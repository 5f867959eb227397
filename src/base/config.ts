// One config object per host, keyed by Linux sysctl names (net.ipv4.* without the prefix),
// with Linux's defaults (Documentation/networking/ip-sysctl.rst). Times are in seconds or
// milliseconds exactly as the sysctl is expressed.

export interface HostConfig {
  /** [min, max] inclusive, as net.ipv4.ip_local_port_range. */
  ip_local_port_range: [number, number];
  tcp_fin_timeout: number; // s
  tcp_tw_reuse: 0 | 1 | 2; // 2 = loopback only
  tcp_tw_reuse_delay: number; // ms (Linux 6.x)
  tcp_max_tw_buckets: number;
  tcp_max_orphans: number;
  tcp_keepalive_time: number; // s
  tcp_keepalive_intvl: number; // s
  tcp_keepalive_probes: number;
  tcp_syn_retries: number;
  /** SYN retransmissions at a fixed 1 s before exponential backoff (Linux 6.x; 4 here). */
  tcp_syn_linear_timeouts: number;
  tcp_synack_retries: number;
  tcp_retries1: number;
  tcp_retries2: number;
  tcp_orphan_retries: number; // 0 means 8
  tcp_rfc1337: 0 | 1;
  tcp_syncookies: 0 | 1 | 2;
  tcp_max_syn_backlog: number;
  tcp_abort_on_overflow: 0 | 1;
  tcp_timestamps: 0 | 1 | 2;
  tcp_sack: 0 | 1;
  tcp_window_scaling: 0 | 1;
  tcp_challenge_ack_limit: number; // per second, host-wide
  /** [min, default, max] bytes. */
  tcp_rmem: [number, number, number];
  tcp_wmem: [number, number, number];
  tcp_rto_min_us: number; // TCP_RTO_MIN, 200 ms (not a sysctl on most kernels; per-route rto_min)
  tcp_rto_max_us: number; // TCP_RTO_MAX, 120 s
  tcp_initial_cwnd: number; // TCP_INIT_CWND
  tcp_no_metrics_save: 0 | 1;
  tcp_ofo_max_segments: number; // bound of the out-of-order queue (Linux bounds by rcvbuf)
  somaxconn: number; // net.core.somaxconn
  /** Link MTU of the host's interface. */
  mtu: number;
  /** The kernel's timer frequency (CONFIG_HZ): RTOs are whole jiffies. 250 on this machine's kernel. */
  hz: number;
  /**
   * Not a Linux sysctl: Linux's TIME_WAIT is fixed at 60 s (TCP_TIMEWAIT_LEN). This is the
   * time-wait-timeout of a load balancer's TCP profile (F5: 2000 ms), for hosts that play one.
   */
  lb_time_wait_timeout_ms: number;
}

export const defaultConfig = (): HostConfig => ({
  ip_local_port_range: [32768, 60999],
  tcp_fin_timeout: 60,
  tcp_tw_reuse: 2,
  tcp_tw_reuse_delay: 1000,
  tcp_max_tw_buckets: 262144,
  tcp_max_orphans: 262144,
  tcp_keepalive_time: 7200,
  tcp_keepalive_intvl: 75,
  tcp_keepalive_probes: 9,
  tcp_syn_retries: 6,
  tcp_syn_linear_timeouts: 4,
  tcp_synack_retries: 5,
  tcp_retries1: 3,
  tcp_retries2: 15,
  tcp_orphan_retries: 0,
  tcp_rfc1337: 0,
  tcp_syncookies: 1,
  tcp_max_syn_backlog: 4096,
  tcp_abort_on_overflow: 0,
  tcp_timestamps: 1,
  tcp_sack: 1,
  tcp_window_scaling: 1,
  tcp_challenge_ack_limit: 2147483647, // INT_MAX since Linux 6.0: only the per-socket 500 ms limit applies
  tcp_rmem: [4096, 131072, 6291456],
  tcp_wmem: [4096, 16384, 4194304],
  tcp_rto_min_us: 200_000,
  tcp_rto_max_us: 120_000_000,
  tcp_initial_cwnd: 10,
  tcp_no_metrics_save: 0,
  tcp_ofo_max_segments: 1024,
  somaxconn: 4096,
  mtu: 1500,
  hz: 250,
  lb_time_wait_timeout_ms: 60_000,
});

export type SysctlName = keyof HostConfig;

/** Applies `net.ipv4.tcp_fin_timeout=5`-style settings; throws a typed error for unknown names. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function applySysctl(cfg: HostConfig, name: string, value: string | number): void {
  const key = name.replace(/^net\.ipv4\./, '').replace(/^net\.core\./, '') as SysctlName;
  if (!(key in cfg)) throw new ConfigError(`unknown sysctl ${name}`);
  const cur = cfg[key];
  if (Array.isArray(cur)) {
    const parts = String(value).trim().split(/\s+/).map(Number);
    if (parts.length !== cur.length || parts.some((n) => !Number.isInteger(n))) {
      throw new ConfigError(`${name} takes ${cur.length} integers, got "${value}"`);
    }
    (cfg as unknown as Record<string, number[]>)[key] = parts;
    return;
  }
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`${name} takes an integer, got "${value}"`);
  (cfg as unknown as Record<string, number>)[key] = n;
}
