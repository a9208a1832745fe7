import assert from "node:assert/strict";
import * as V from "../../lib/packet/virtio_net.ts";
// ffi's table is checked against the C headers by tests/ffi/layout_test.ts: the oracle here.
import { VIRTIO_NET_HDR, VNET } from "../../ffi/layout.ts";

Deno.test("the virtio_net_hdr view's layout and constants match linux/virtio_net.h", () => {
  assert.equal(V.VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR.size);
  assert.equal(V.VNET_FLAGS, VIRTIO_NET_HDR.flags);
  assert.equal(V.VNET_GSO_TYPE, VIRTIO_NET_HDR.gsoType);
  assert.equal(V.VNET_HDR_LEN_FIELD, VIRTIO_NET_HDR.hdrLen);
  assert.equal(V.VNET_GSO_SIZE, VIRTIO_NET_HDR.gsoSize);
  assert.equal(V.VNET_CSUM_START, VIRTIO_NET_HDR.csumStart);
  assert.equal(V.VNET_CSUM_OFFSET, VIRTIO_NET_HDR.csumOffset);
  assert.equal(V.VNET_F_NEEDS_CSUM, VNET.VIRTIO_NET_HDR_F_NEEDS_CSUM);
  assert.equal(V.VNET_F_DATA_VALID, VNET.VIRTIO_NET_HDR_F_DATA_VALID);
  assert.equal(V.VNET_GSO_NONE, VNET.VIRTIO_NET_HDR_GSO_NONE);
  assert.equal(V.VNET_GSO_TCPV4, VNET.VIRTIO_NET_HDR_GSO_TCPV4);
  assert.equal(V.VNET_GSO_TCPV6, VNET.VIRTIO_NET_HDR_GSO_TCPV6);
  assert.equal(V.VNET_GSO_UDP, VNET.VIRTIO_NET_HDR_GSO_UDP);
  assert.equal(V.VNET_GSO_ECN, VNET.VIRTIO_NET_HDR_GSO_ECN);
});

Deno.test("the view reads and writes little-endian fields at an offset", () => {
  // Second header of a batch: NEEDS_CSUM, TCPV6|ECN, hdr_len 74, gso_size 1448, csum 54/16.
  const b = new Uint8Array(20);
  b.set([0x01, 0x84, 74, 0, 0xa8, 0x05, 54, 0, 16, 0], 10);
  const v = new V.VirtioNetView(new Uint8Array(0), 0).reset(b, 10);
  assert.equal(v.flags, 1);
  assert.equal(v.gsoType, 0x84);
  assert.equal(v.gsoKind, 4);
  assert.ok(v.isGso && !v.isPlain);
  assert.deepEqual([v.hdrLen, v.gsoSize, v.csumStart, v.csumOffset], [74, 1448, 54, 16]);
  v.gsoSize = 9000;
  assert.deepEqual([...b.subarray(14, 16)], [0x28, 0x23]);
  v.clear();
  assert.ok(v.isPlain);
  assert.deepEqual([...b], new Array(20).fill(0));
});
