#!/usr/bin/env bash
# Installs the Debian tools the test suite drives (only what is missing; needs root for apt).
set -euo pipefail
PKGS=(iproute2 iputils-ping iperf3 tshark python3 python3-scapy openvswitch-switch
  isc-dhcp-client ndisc6 ethtool netsniff-ng gcc libc6-dev tcpdump dnsmasq-base radvd curl procps
  systemd etcd-server etcd-client openssl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "tests/setup.sh: not root, cannot install: ${missing[*]} (tests that need them will skip)" >&2
    exit 0
  fi
  echo "tests/setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
