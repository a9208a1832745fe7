// Linux x86-64 constants and struct layouts, written once. tests/ffi/layout_test.ts compiles a
// C program with gcc and checks every value here against the system headers.

/** Socket, file and mmap constants. */
export const C = {
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  AF_NETLINK: 16,
  AF_PACKET: 17,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_NONBLOCK: 0x800,
  SOCK_CLOEXEC: 0x80000,
  O_RDONLY: 0,
  O_RDWR: 2,
  O_NONBLOCK: 0x800,
  O_CLOEXEC: 0x80000,
  ETH_P_ALL: 3,
  SOL_SOCKET: 1,
  SO_ERROR: 4,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_SNDBUFFORCE: 32,
  SO_RCVBUFFORCE: 33,
  SOL_PACKET: 263,
  SOL_NETLINK: 270,
  NETLINK_EXT_ACK: 11,
  PACKET_ADD_MEMBERSHIP: 1,
  PACKET_DROP_MEMBERSHIP: 2,
  PACKET_RX_RING: 5,
  PACKET_STATISTICS: 6,
  PACKET_VERSION: 10,
  PACKET_HDRLEN: 11,
  PACKET_COPY_THRESH: 7,
  PACKET_RESERVE: 12,
  PACKET_VNET_HDR: 15,
  PACKET_TX_RING: 13,
  PACKET_LOSS: 14,
  PACKET_QDISC_BYPASS: 20,
  PACKET_IGNORE_OUTGOING: 23,
  PACKET_MR_MULTICAST: 0,
  PACKET_MR_PROMISC: 1,
  PACKET_MR_ALLMULTI: 2,
  TPACKET_V2: 1,
  TPACKET_V3: 2,
  TP_STATUS_KERNEL: 0,
  TP_STATUS_USER: 1,
  TP_STATUS_COPY: 2,
  TP_STATUS_LOSING: 4,
  TP_STATUS_VLAN_VALID: 0x10,
  TP_STATUS_AVAILABLE: 0,
  TP_STATUS_SEND_REQUEST: 1,
  TP_STATUS_SENDING: 2,
  TP_STATUS_WRONG_FORMAT: 4,
  PROT_READ: 1,
  PROT_WRITE: 2,
  MAP_SHARED: 1,
  POLLIN: 1,
  POLLOUT: 4,
  POLLERR: 8,
  POLLHUP: 0x10,
  POLLNVAL: 0x20,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  EAGAIN: 11,
  ENOENT: 2,
  EEXIST: 17,
  ENODEV: 19,
  EBADFD: 77,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENOBUFS: 105,
  CLONE_NEWNET: 0x40000000,
  MSG_DONTWAIT: 0x40,
  MSG_TRUNC: 0x20,
} as const;

/** TUN/TAP and interface ioctls and flags. */
export const IF = {
  TUNSETIFF: 0x400454ca,
  TUNSETOFFLOAD: 0x400454d0,
  TUNSETVNETHDRSZ: 0x400454d8,
  IFF_TUN: 0x0001,
  IFF_TAP: 0x0002,
  IFF_NO_PI: 0x1000,
  IFF_MULTI_QUEUE: 0x0100,
  IFF_VNET_HDR: 0x4000,
  SIOCGIFFLAGS: 0x8913,
  SIOCSIFFLAGS: 0x8914,
  SIOCGIFMTU: 0x8921,
  SIOCSIFMTU: 0x8922,
  SIOCSIFHWADDR: 0x8924,
  SIOCGIFHWADDR: 0x8927,
  SIOCGIFINDEX: 0x8933,
  IFF_UP: 0x1,
  IFF_BROADCAST: 0x2,
  IFF_RUNNING: 0x40,
  IFF_PROMISC: 0x100,
  IFF_MULTICAST: 0x1000,
  IFF_LOWER_UP: 0x10000,
  ARPHRD_ETHER: 1,
  IFNAMSIZ: 16,
} as const;

/** virtio-net header flags and GSO types, TUN offload flags (linux/virtio_net.h, if_tun.h). */
export const VNET = {
  VIRTIO_NET_HDR_F_NEEDS_CSUM: 1,
  VIRTIO_NET_HDR_F_DATA_VALID: 2,
  VIRTIO_NET_HDR_GSO_NONE: 0,
  VIRTIO_NET_HDR_GSO_TCPV4: 1,
  VIRTIO_NET_HDR_GSO_UDP: 3,
  VIRTIO_NET_HDR_GSO_TCPV6: 4,
  VIRTIO_NET_HDR_GSO_ECN: 0x80,
  TUN_F_CSUM: 0x01,
  TUN_F_TSO4: 0x02,
  TUN_F_TSO6: 0x04,
  TUN_F_TSO_ECN: 0x08,
} as const;

/** struct virtio_net_hdr (host byte order: little-endian here). */
export const VIRTIO_NET_HDR = {
  size: 10,
  flags: 0,
  gsoType: 1,
  hdrLen: 2,
  gsoSize: 4,
  csumStart: 6,
  csumOffset: 8,
} as const;

/** rtnetlink message types, flags and attribute numbers. */
export const NL = {
  NETLINK_ROUTE: 0,
  NLMSG_ERROR: 2,
  NLMSG_DONE: 3,
  NLM_F_REQUEST: 0x1,
  NLM_F_MULTI: 0x2,
  NLM_F_ACK: 0x4,
  NLM_F_DUMP: 0x300,
  NLM_F_REPLACE: 0x100,
  NLM_F_EXCL: 0x200,
  NLM_F_CREATE: 0x400,
  RTM_NEWLINK: 16,
  RTM_DELLINK: 17,
  RTM_GETLINK: 18,
  RTM_NEWADDR: 20,
  RTM_DELADDR: 21,
  RTM_GETADDR: 22,
  RTM_NEWROUTE: 24,
  RTM_DELROUTE: 25,
  RTM_GETROUTE: 26,
  RTMGRP_LINK: 0x1,
  IFLA_ADDRESS: 1,
  IFLA_IFNAME: 3,
  IFLA_MTU: 4,
  IFLA_OPERSTATE: 16,
  IFLA_NET_NS_FD: 28,
  IFLA_CARRIER: 33,
  IFA_ADDRESS: 1,
  IFA_LOCAL: 2,
  IFA_FLAGS: 8,
  IFA_F_NODAD: 0x02,
  IFA_F_PERMANENT: 0x80,
  RTA_DST: 1,
  RTA_OIF: 4,
  RTA_GATEWAY: 5,
  RTA_PRIORITY: 6,
  RTA_TABLE: 15,
  RT_TABLE_MAIN: 254,
  RTPROT_STATIC: 4,
  RT_SCOPE_UNIVERSE: 0,
  RT_SCOPE_LINK: 253,
  RT_SCOPE_HOST: 254,
  RTN_UNICAST: 1,
  IF_OPER_DOWN: 2,
  IF_OPER_UP: 6,
} as const;

/** struct ifreq (net/if.h); the union members all start at 16. */
export const IFREQ = { size: 40, name: 0, flags: 16, mtu: 16, ifindex: 16, hwaddr: 16 } as const;
/** struct sockaddr_ll (linux/if_packet.h). */
export const SOCKADDR_LL = {
  size: 20,
  family: 0,
  protocol: 2,
  ifindex: 4,
  hatype: 8,
  pkttype: 10,
  halen: 11,
  addr: 12,
} as const;
/** struct sockaddr_nl (linux/netlink.h). */
export const SOCKADDR_NL = { size: 12, family: 0, pid: 4, groups: 8 } as const;
/** struct packet_mreq. */
export const PACKET_MREQ = { size: 16, ifindex: 0, type: 4, alen: 6, address: 8 } as const;
/** struct tpacket_req (TPACKET_V1/V2 rings, and every TX ring). */
export const TPACKET_REQ = {
  size: 16,
  blockSize: 0,
  blockNr: 4,
  frameSize: 8,
  frameNr: 12,
} as const;
/** struct tpacket2_hdr: the per-frame header of a TPACKET_V2 ring (TPACKET2_HDRLEN apart). */
export const TPACKET2_HDR = {
  size: 32,
  status: 0,
  len: 4,
  snaplen: 8,
  mac: 12,
  net: 14,
  sec: 16,
  nsec: 20,
  vlanTci: 24,
  vlanTpid: 26,
} as const;
/** struct tpacket_req3. */
export const TPACKET_REQ3 = {
  size: 28,
  blockSize: 0,
  blockNr: 4,
  frameSize: 8,
  frameNr: 12,
  retireBlkTov: 16,
  sizeofPriv: 20,
  featureReqWord: 24,
} as const;
/** struct tpacket_block_desc with its hdr.bh1 (struct tpacket_hdr_v1) fields. */
export const TPACKET_BLOCK_DESC = {
  size: 48,
  version: 0,
  offsetToPriv: 4,
  blockStatus: 8,
  numPkts: 12,
  offsetToFirstPkt: 16,
  blkLen: 20,
  seqNum: 24,
} as const;
/** struct tpacket3_hdr. */
export const TPACKET3_HDR = {
  size: 48,
  nextOffset: 0,
  sec: 4,
  nsec: 8,
  snaplen: 12,
  len: 16,
  status: 20,
  mac: 24,
  net: 26,
} as const;
/** struct iovec. */
export const IOVEC = { size: 16, base: 0, len: 8 } as const;
/** struct msghdr. */
export const MSGHDR = {
  size: 56,
  name: 0,
  namelen: 8,
  iov: 16,
  iovlen: 24,
  control: 32,
  controllen: 40,
  flags: 48,
} as const;
/** struct mmsghdr. */
export const MMSGHDR = { size: 64, hdr: 0, len: 56 } as const;
/** struct pollfd. */
export const POLLFD = { size: 8, fd: 0, events: 4, revents: 6 } as const;
/** struct nlmsghdr. */
export const NLMSGHDR = { size: 16, len: 0, type: 4, flags: 6, seq: 8, pid: 12 } as const;
/** struct nlmsgerr (error code then the offending header). */
export const NLMSGERR = { size: 20, error: 0, msg: 4 } as const;
/** struct ifinfomsg. */
export const IFINFOMSG = { size: 16, family: 0, type: 2, index: 4, flags: 8, change: 12 } as const;
/** struct ifaddrmsg. */
export const IFADDRMSG = {
  size: 8,
  family: 0,
  prefixlen: 1,
  flags: 2,
  scope: 3,
  index: 4,
} as const;
/** struct rtmsg. */
export const RTMSG = {
  size: 12,
  family: 0,
  dstLen: 1,
  srcLen: 2,
  tos: 3,
  table: 4,
  protocol: 5,
  scope: 6,
  type: 7,
  flags: 8,
} as const;
/** struct rtattr. */
export const RTATTR = { size: 4, len: 0, type: 2 } as const;
