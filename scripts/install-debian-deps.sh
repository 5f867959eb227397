#!/usr/bin/env bash
# Installs the Debian packages linger's tests and tools use. Idempotent; needs root (CI is root).
# tshark: checks our pcap files decode without malformed packets.
# tcpdump, iproute2: capture reference packets from the real kernel in a network namespace.
# chromium: the web UI's end-to-end test drives it headless (playwright-core); never a downloaded browser.
# fonts-noto-cjk: so the Simplified Chinese UI renders in that test's screenshots.
# curl, python3, nginx-light, netcat-openbsd, ethtool: the TUN interop suite's kernel-side
#   programs (test/interop: curl and nginx against linger, nc for tun echo, veth offloads off).
# nftables: test/inspect drops a connection's keepalive answers with it.
# hping3, python3-scapy: test/interop/attack.test.ts's SYN flood and blind RSTs from the kernel side.
# wrk: the bench's keep-alive HTTP row (bench-tun --http): a kernel-side client against
#   `linger tun http` and against the same Node app on the kernel's TCP, bounded in time.
set -euo pipefail
PKGS=(tshark tcpdump iproute2 chromium fonts-noto-cjk curl python3 nginx-light netcat-openbsd ethtool nftables hping3 python3-scapy wrk)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-debian-deps: missing ${missing[*]} and not root; run: sudo $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-debian-deps: installed ${missing[*]}"
