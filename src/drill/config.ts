// Run settings: packetdrill's command-line flags (also accepted as `--name=value` lines at the
// top of a script) with packetdrill's defaults.

export type IpVersion = 'ipv4' | 'ipv6' | 'ipv4-mapped-ipv6';

export interface DrillConfig {
  ipVersion: IpVersion;
  /** The host under test (packetdrill's live_local_ip). */
  localIp: string;
  /** The scripted peer (live_remote_ip). */
  remoteIp: string;
  /** `...` in bind() and the local port of a passive open. */
  bindPort: number;
  /** `...` in connect(). */
  connectPort: number;
  toleranceUsecs: number;
  /** Percentage of the time since the previous event, when that is more than toleranceUsecs. */
  tolerancePercent: number;
  /** One expected segment must be one live segment (no coalescing of several). */
  strictSegments: boolean;
  /** When > 0, outbound TS val are checked: script ticks of this many µs. */
  tcpTsTickUsecs: number;
  /** Link MTU of the host under test (the MSS it offers follows from it). */
  mtu: number;
  /** The remote peer's first ephemeral port (each passive open takes the next). */
  ephemeralPortStart: number;
  /** packetdrill's --mss: an injected segment carrying more is delivered in pieces of this many bytes (0: as written). */
  injectMss: number;
}

export const DEFAULT_ADDRS: Record<IpVersion, { local: string; remote: string }> = {
  ipv4: { local: '192.168.0.1', remote: '192.0.2.1' },
  'ipv4-mapped-ipv6': { local: '192.168.0.1', remote: '192.0.2.1' },
  ipv6: { local: 'fd3d:fa7b:d17d::', remote: '2001:db8::1' },
};

export function defaultDrillConfig(ipVersion: IpVersion = 'ipv4'): DrillConfig {
  return {
    ipVersion,
    localIp: DEFAULT_ADDRS[ipVersion].local,
    remoteIp: DEFAULT_ADDRS[ipVersion].remote,
    bindPort: 8080,
    connectPort: 8080,
    toleranceUsecs: 4000,
    tolerancePercent: 12.5,
    strictSegments: false,
    tcpTsTickUsecs: 0,
    mtu: 1500,
    ephemeralPortStart: 48879,
    injectMss: 0,
  };
}

export class DrillOptionError extends Error {}

/** Flags packetdrill has that change nothing in a virtual-time run (accepted silently). */
const IGNORED = new Set(['speed', 'verbose', 'debug', 'dry_run', 'non_fatal', 'make_tun', 'persistent_tun_dev', 'gateway_ip', 'netmask_ip', 'send_omit_free', 'wire_client', 'wire_server', 'wire_server_ip', 'wire_server_port', 'wire_client_dev', 'wire_server_dev', 'code_command', 'code_format', 'code_sockopt']);

/**
 * Applies one `--name=value` setting. Returns a warning for a name linger does not know
 * (packetdrill's rule for script option lines: warn, don't fail); throws DrillOptionError
 * for a bad value.
 */
export function applyDrillOption(cfg: DrillConfig, rawName: string, value: string | undefined, explicit: Set<string> = new Set()): string | null {
  const name = rawName.replace(/-/g, '_');
  const num = (min: number, max: number, float = false): number => {
    const n = Number(value);
    if (value === undefined || value === '' || !Number.isFinite(n) || (!float && !Number.isInteger(n)) || n < min || n > max) {
      throw new DrillOptionError(`--${rawName} takes ${float ? 'a number' : 'an integer'} ${min}..${max}, got "${value ?? ''}"`);
    }
    return n;
  };
  switch (name) {
    case 'ip_version': {
      if (value !== 'ipv4' && value !== 'ipv6' && value !== 'ipv4-mapped-ipv6') throw new DrillOptionError(`--ip_version takes ipv4, ipv6 or ipv4-mapped-ipv6, got "${value ?? ''}"`);
      cfg.ipVersion = value;
      if (!explicit.has('local_ip')) cfg.localIp = DEFAULT_ADDRS[value].local;
      if (!explicit.has('remote_ip')) cfg.remoteIp = DEFAULT_ADDRS[value].remote;
      return null;
    }
    case 'local_ip':
    case 'remote_ip':
      if (!value) throw new DrillOptionError(`--${rawName} takes an address`);
      if (name === 'local_ip') cfg.localIp = value;
      else cfg.remoteIp = value;
      explicit.add(name);
      return null;
    case 'bind_port': cfg.bindPort = num(1, 65535); return null;
    case 'connect_port': cfg.connectPort = num(1, 65535); return null;
    case 'tolerance_usecs': cfg.toleranceUsecs = num(0, 1e9); return null;
    case 'tolerance_percent': cfg.tolerancePercent = num(0, 100, true); return null;
    case 'strict_segments': cfg.strictSegments = value === undefined || value === '1' || value === 'true'; return null;
    case 'tcp_ts_tick_usecs': cfg.tcpTsTickUsecs = num(0, 1e9); return null;
    case 'mtu': cfg.mtu = num(576, 65535); return null;
    // packetdrill's --mss is the size of the segments the runner injects (a larger `<` segment
    // goes in pieces, as packetdrill's GSO injection does), not the host's own MSS (--mtu is).
    case 'mss': cfg.injectMss = num(1, 65495); return null;
    default:
      if (IGNORED.has(name)) return null;
      return `unknown option --${rawName} ignored`;
  }
}
