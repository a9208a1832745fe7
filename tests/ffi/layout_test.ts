// Checks every constant and struct layout of ffi/layout.ts against the C headers: a C program
// generated from the tables below is compiled with gcc and prints sizeof/offsetof/values.
import assert from "node:assert/strict";
import * as L from "../../ffi/layout.ts";
import { compileAndRun, haveGcc } from "./cc.ts";

type Fields = Record<string, string>;
// TS key → C member designator, per struct.
const STRUCTS: [string, Record<string, number>, Fields][] = [
  ["struct ifreq", L.IFREQ, {
    name: "ifr_name",
    flags: "ifr_flags",
    mtu: "ifr_mtu",
    ifindex: "ifr_ifindex",
    hwaddr: "ifr_hwaddr",
  }],
  ["struct sockaddr_ll", L.SOCKADDR_LL, {
    family: "sll_family",
    protocol: "sll_protocol",
    ifindex: "sll_ifindex",
    hatype: "sll_hatype",
    pkttype: "sll_pkttype",
    halen: "sll_halen",
    addr: "sll_addr",
  }],
  ["struct sockaddr_nl", L.SOCKADDR_NL, {
    family: "nl_family",
    pid: "nl_pid",
    groups: "nl_groups",
  }],
  ["struct packet_mreq", L.PACKET_MREQ, {
    ifindex: "mr_ifindex",
    type: "mr_type",
    alen: "mr_alen",
    address: "mr_address",
  }],
  ["struct tpacket_req", L.TPACKET_REQ, {
    blockSize: "tp_block_size",
    blockNr: "tp_block_nr",
    frameSize: "tp_frame_size",
    frameNr: "tp_frame_nr",
  }],
  ["struct tpacket2_hdr", L.TPACKET2_HDR, {
    status: "tp_status",
    len: "tp_len",
    snaplen: "tp_snaplen",
    mac: "tp_mac",
    net: "tp_net",
    sec: "tp_sec",
    nsec: "tp_nsec",
    vlanTci: "tp_vlan_tci",
    vlanTpid: "tp_vlan_tpid",
  }],
  ["struct tpacket_req3", L.TPACKET_REQ3, {
    blockSize: "tp_block_size",
    blockNr: "tp_block_nr",
    frameSize: "tp_frame_size",
    frameNr: "tp_frame_nr",
    retireBlkTov: "tp_retire_blk_tov",
    sizeofPriv: "tp_sizeof_priv",
    featureReqWord: "tp_feature_req_word",
  }],
  ["struct tpacket_block_desc", L.TPACKET_BLOCK_DESC, {
    version: "version",
    offsetToPriv: "offset_to_priv",
    blockStatus: "hdr.bh1.block_status",
    numPkts: "hdr.bh1.num_pkts",
    offsetToFirstPkt: "hdr.bh1.offset_to_first_pkt",
    blkLen: "hdr.bh1.blk_len",
    seqNum: "hdr.bh1.seq_num",
  }],
  ["struct tpacket3_hdr", L.TPACKET3_HDR, {
    nextOffset: "tp_next_offset",
    sec: "tp_sec",
    nsec: "tp_nsec",
    snaplen: "tp_snaplen",
    len: "tp_len",
    status: "tp_status",
    mac: "tp_mac",
    net: "tp_net",
  }],
  ["struct iovec", L.IOVEC, { base: "iov_base", len: "iov_len" }],
  ["struct msghdr", L.MSGHDR, {
    name: "msg_name",
    namelen: "msg_namelen",
    iov: "msg_iov",
    iovlen: "msg_iovlen",
    control: "msg_control",
    controllen: "msg_controllen",
    flags: "msg_flags",
  }],
  ["struct mmsghdr", L.MMSGHDR, { hdr: "msg_hdr", len: "msg_len" }],
  ["struct pollfd", L.POLLFD, { fd: "fd", events: "events", revents: "revents" }],
  ["struct nlmsghdr", L.NLMSGHDR, {
    len: "nlmsg_len",
    type: "nlmsg_type",
    flags: "nlmsg_flags",
    seq: "nlmsg_seq",
    pid: "nlmsg_pid",
  }],
  ["struct nlmsgerr", L.NLMSGERR, { error: "error", msg: "msg" }],
  ["struct ifinfomsg", L.IFINFOMSG, {
    family: "ifi_family",
    type: "ifi_type",
    index: "ifi_index",
    flags: "ifi_flags",
    change: "ifi_change",
  }],
  ["struct ifaddrmsg", L.IFADDRMSG, {
    family: "ifa_family",
    prefixlen: "ifa_prefixlen",
    flags: "ifa_flags",
    scope: "ifa_scope",
    index: "ifa_index",
  }],
  ["struct rtmsg", L.RTMSG, {
    family: "rtm_family",
    dstLen: "rtm_dst_len",
    srcLen: "rtm_src_len",
    tos: "rtm_tos",
    table: "rtm_table",
    protocol: "rtm_protocol",
    scope: "rtm_scope",
    type: "rtm_type",
    flags: "rtm_flags",
  }],
  ["struct rtattr", L.RTATTR, { len: "rta_len", type: "rta_type" }],
  ["struct virtio_net_hdr", L.VIRTIO_NET_HDR, {
    flags: "flags",
    gsoType: "gso_type",
    hdrLen: "hdr_len",
    gsoSize: "gso_size",
    csumStart: "csum_start",
    csumOffset: "csum_offset",
  }],
];

const HEADERS = `#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/if_arp.h>
#include <linux/sockios.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>
`;

/** The C program printing `key value` lines for every entry of the TS tables. */
function program(): string {
  const lines: string[] = [];
  for (
    const [group, table] of [["C", L.C], ["IF", L.IF], ["NL", L.NL], ["VNET", L.VNET]] as const
  ) {
    for (const name of Object.keys(table)) {
      lines.push(`printf("${group}.${name} %ld\\n", (long)(${name}));`);
    }
  }
  for (const [ctype, ts, fields] of STRUCTS) {
    lines.push(`printf("${ctype}.size %zu\\n", sizeof(${ctype}));`);
    for (const key of Object.keys(ts)) {
      if (key === "size") continue;
      const member = fields[key];
      if (!member) throw new Error(`${ctype}: no C member for ${key}`);
      lines.push(`printf("${ctype}.${key} %zu\\n", offsetof(${ctype}, ${member}));`);
    }
  }
  return `${HEADERS}\nint main(void) {\n${lines.join("\n")}\nreturn 0;\n}\n`;
}

/** Expected `key value` pairs from the TS tables, same keys as the program prints. */
function expected(): Map<string, number> {
  const m = new Map<string, number>();
  for (
    const [group, table] of [["C", L.C], ["IF", L.IF], ["NL", L.NL], ["VNET", L.VNET]] as const
  ) {
    for (const [k, v] of Object.entries(table)) m.set(`${group}.${k}`, v);
  }
  for (const [ctype, ts] of STRUCTS) {
    for (const [k, v] of Object.entries(ts)) m.set(`${ctype}.${k}`, v);
  }
  return m;
}

Deno.test({
  name: "ffi layout: every constant, sizeof and offsetof matches the Linux C headers",
  ignore: !haveGcc(),
  fn() {
    const out = compileAndRun(program());
    const got = new Map(
      out.trim().split("\n").map((l) => {
        const i = l.lastIndexOf(" ");
        return [l.slice(0, i), Number(l.slice(i + 1))] as const;
      }),
    );
    const want = expected();
    assert.equal(got.size, want.size, "program printed one line per table entry");
    const diffs: string[] = [];
    for (const [k, v] of want) if (got.get(k) !== v) diffs.push(`${k}: ts ${v}, C ${got.get(k)}`);
    assert.deepEqual(diffs, []);
  },
});
