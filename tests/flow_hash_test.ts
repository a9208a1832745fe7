// The independent expectation helpers of flow_hash.ts, pinned to published MurmurHash3 x86_32
// vectors, so an expected Geneve port or flow label never comes from the code under test.
import assert from "node:assert/strict";
import { expectedFlowHash, expectedGeneveSrcPort, murmur3 } from "./flow_hash.ts";

const text = (s: string, seed: number) => murmur3(new TextEncoder().encode(s), seed);

Deno.test("murmur3 x86_32 matches the published vectors", () => {
  assert.equal(text("", 0), 0);
  assert.equal(text("", 1), 0x514e28b7);
  assert.equal(text("", 0xffffffff), 0x81f16f39);
  assert.equal(murmur3(new Uint8Array(4), 0), 0x2362f9de);
  assert.equal(text("abc", 0), 0xb3dd93fa);
  assert.equal(text("aaaa", 0x9747b28c), 0x5a97808a);
  assert.equal(text("Hello, world!", 1234), 0xfaf6cdb3);
  assert.equal(text("The quick brown fox jumps over the lazy dog", 0x9747b28c), 0x2fa826cd);
});

Deno.test("expected flow hash and Geneve source port of fixed flows", () => {
  // Fixed values: a change of the key layout or the hash shows here and in every user.
  assert.equal(expectedFlowHash(6, "10.0.0.5", "8.8.8.8", 40000, 443), 2425383959);
  assert.equal(expectedGeneveSrcPort(0x12345678), 0xc44c);
  assert.equal(expectedGeneveSrcPort(0xffffffff), 0xc000);
});
