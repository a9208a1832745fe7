// The example configuration, embedded so `xdeno example-config` works from the one-file build.
// Generated from dist/xdeno.example.yaml by tools/embed_example.ts: edit the YAML, not this.

/** dist/xdeno.example.yaml, verbatim. */
export const EXAMPLE_CONFIG =
  `# xdeno configuration example. Validate with:  xdeno check-config /etc/xdeno/xdeno.yaml
# Every field is checked; unknown fields are errors (so typos never pass silently).

# linux (TAP + packet sockets), illumos (DLPI) or memory (no packet I/O: tests, dry runs).
platform: linux

# Where runtime changes made through the admin API are persisted (atomically) and replayed
# on start. They override this file for the resources they touch.
stateDir: /var/lib/xdeno

admin:
  # Loopback by default; any other address requires tokenFile.
  listen: 127.0.0.1:7070
  # Bearer token for the admin API, one line, mode 0600 (refused if group/world readable).
  tokenFile: /etc/xdeno/admin.token
  # Largest accepted request body.
  maxBodyBytes: 1048576
  # Captures, traces and flow/layer dumps: per-client token bucket (429 + Retry-After when empty).
  rateLimit: { perSecond: 5, burst: 20 }

log:
  format: text # or json (one JSON object per line on stderr)
  level: info

sled:
  # This sled's underlay address and the rack's underlay prefix (pass-through destinations).
  underlayAddress: fd00:1122:3344:101::1
  underlayPrefix: fd00::/16
  # The global zone's IP interface on the switch.
  hostInterface: xde0

underlay:
  # At least two links towards the rack switches; flows are spread by hash (ECMP).
  links:
    - name: ul0
      device: eth1
    - name: ul1
      device: eth2
      linkLocal: fe80::aa:1 # default: EUI-64 of the link's MAC
  routes:
    - prefix: fd00::/16
      nextHops:
        - { link: ul0, via: "fe80::1" }
        - { link: ul1, via: "fe80::2" }

# Boundary-services endpoints (VNI 99 by default) for off-rack traffic.
boundaryServices:
  - endpoint: fd00:99::1
  - endpoint: fd00:99::2

ports:
  # The global zone's own interface.
  - name: xde0
    kind: host
    mac: a8:40:25:00:00:01
    addresses: [fd00:1122:3344:101::1/64]
  # A system zone (control plane, DNS, ...): its underlay address passes through; the
  # optional overlay identity is used for traffic leaving the underlay prefix.
  - name: dns0
    kind: system
    zone: oxz_internal_dns
    mac: a8:40:25:00:00:10
    addresses: [fd00:1122:3344:101::10/64]
    overlay:
      vni: 99
      ipv4: 172.30.1.5/24
    externalIps:
      snat: { ip: 203.0.113.10, ports: [1024, 2047] }
  # A customer instance: VPC overlay only.
  - name: opte0
    kind: instance
    zone: instance-1
    mac: a8:40:25:f0:00:01
    addresses: [10.0.0.5/24]
    mtu: 1500
    overlay:
      vni: 10
      ipv4: 10.0.0.5/24
      ipv6: fd12:3456:789a::5/64
      # What the gateway's DHCP/DHCPv6 server tells the guest (OPTE's DhcpCfg).
      dhcp:
        hostname: vm1
        hostDomain: corp.example
        domainSearchList: [corp.example]
        dns4Servers: [10.0.0.2]
    firewall:
      - { direction: in, priority: 100, action: allow, protocol: tcp, ports: "22" }
      - { direction: in, priority: 65535, action: deny }
      - { direction: out, priority: 65535, action: allow }
    # The whole router table (absent: these two system routes per family, as Omicron sends).
    routes:
      - { destination: 10.0.0.0/24, target: { kind: vpc-subnet, cidr: 10.0.0.0/24 }, class: system }
      - { destination: 0.0.0.0/0, target: { kind: internet-gateway }, class: system }
    externalIps:
      ephemeral: [203.0.113.20]
      floating: [203.0.113.21]
    # Multicast groups this port receives.
    multicast: [239.1.1.1]

mappings:
  # Virtual → physical: where the VPC's other addresses live.
  v2p:
    - { vni: 10, ip: 10.0.0.6, mac: a8:40:25:f0:00:02, underlay: fd00:1122:3344:102::1 }
  # Virtual → boundary: which boundary-services endpoints carry a prefix.
  v2b:
    - { vni: 10, prefix: 0.0.0.0/0, endpoints: [fd00:99::1, fd00:99::2] }
  # Multicast group → underlay multicast address.
  m2p:
    - { group: 239.1.1.1, underlay: ff04::e001:101 }
  # Where copies of an underlay multicast group go (replication: external|underlay|both).
  mcastForwarding:
    - underlay: ff04::e001:101
      nextHops: [{ via: fd00:1122:3344:102::1, replication: underlay }]
`;
