// Typed codecs (btf/shape.ts, btf/codec.ts) against the BTF of bpf/fixtures/typed_maps.bpf.o: the
// bytes each JS value becomes (bitfields bit by bit, enums, nested structs, unions, char arrays,
// 64-bit integers) and back, and the errors that name the map, the field and the expected type.
// No kernel.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfObject, UsageError, codecFor, codecOfShape, type Shape } from '../../src/index.js';
import { mapShapes } from '../../src/maps/typed.js';
import { joinPerCpu, splitPerCpu } from '../../src/maps/percpu.js';
import { fixturePath } from './fixtures.js';

const obj = BpfObject.open(fixturePath('typed_maps'));
const btf = obj.spec.btf!;
const spec = (name: string) => {
  const m = obj.maps.get(name);
  if (!m) throw new Error(`fixture has no map ${name}`);
  return m;
};
const keyCodec = (name: string) => codecFor(btf, spec(name).btfKeyTypeId ?? 0, `map ${name}`, 'key');
const valueCodec = (name: string) => codecFor(btf, spec(name).btfValueTypeId ?? 0, `map ${name}`, 'value');

function throwsUsage(fn: () => unknown, pattern: RegExp, code = 'BAD_ARGUMENT'): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, UsageError);
    assert.is((e as UsageError).code, code);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a UsageError matching ${pattern}`);
}

const FLOW = {
  src: { ip: 0x0a000001, port: 443, pad: 0 }, dst: { ip: 0x0a000002, port: 50000, pad: 0 },
  proto: 'PROTO_UDP', ipv6: 1, dscp: 46, ttl: 64, spare: 0x1abcd, ifname: 'eth0', cookie: 2n ** 60n + 7n,
};

const codec = suite('typed codecs');

codec('a struct key: nested structs, an enum by name, bitfields, a char array and a u64, byte for byte', () => {
  const k = keyCodec('flows');
  assert.is(k.size, 40);
  const b = k.encode(FLOW);
  assert.is(b.readUInt32LE(0), 0x0a000001);
  assert.is(b.readUInt16LE(4), 443);
  assert.is(b.readUInt32LE(8), 0x0a000002);
  assert.is(b.readUInt16LE(12), 50000);
  assert.is(b.readUInt32LE(16), 17, 'PROTO_UDP is 17');
  // ipv6:1 at bit 0, dscp:6 at bit 1, ttl:8 at bit 7, spare:17 at bit 15 of the u32 at byte 20.
  assert.is(b.readUInt32LE(20), (1 | (46 << 1) | (64 << 7) | (0x1abcd << 15)) >>> 0);
  assert.equal([...b.subarray(24, 32)], [...Buffer.from('eth0\0\0\0\0', 'latin1')]);
  assert.is(b.readBigUInt64LE(32), 2n ** 60n + 7n);
  assert.equal(k.decode(b), FLOW);
});

codec('a value: an array, a bool, a union decoded as every member, an enum above 2^31; padding zeroed', () => {
  const v = valueCodec('flows');
  assert.is(v.size, 32);
  const b = v.encode({ packets: 5n, delta: -3, hist: [1, 2, 3], seen: true, tag: { as_u32: 0x01020304 }, verdict: 'V_HUGE' });
  assert.is(b.readBigUInt64LE(0), 5n);
  assert.is(b.readInt32LE(8), -3);
  assert.equal([b.readUInt16LE(12), b.readUInt16LE(14), b.readUInt16LE(16)], [1, 2, 3]);
  assert.is(b[18], 1);
  assert.is(b[19], 0, 'padding is zero');
  assert.is(b.readUInt32LE(20), 0x01020304);
  assert.is(b.readUInt32LE(24), 0x80000000);
  assert.equal(v.decode(b), { packets: 5n, delta: -3, hist: [1, 2, 3], seen: true, tag: { as_u32: 0x01020304, as_bytes: [4, 3, 2, 1] }, verdict: 'V_HUGE' });
  // A union given by its other member; an enum given by number; a value without a name decodes as its number.
  const c = v.encode({ packets: 0, delta: 0, hist: new Uint16Array([0, 0, 9]), seen: false, tag: { as_bytes: [1, 0, 0, 0] }, verdict: 1 });
  assert.is(c.readUInt32LE(20), 1);
  assert.is((v.decode(c) as { verdict: unknown }).verdict, 'V_DROP');
  c.writeUInt32LE(7, 24);
  assert.is((v.decode(c) as { verdict: unknown }).verdict, 7);
  // Both members of a union that agree are accepted; that disagree, refused.
  v.encode({ packets: 0, delta: 0, hist: [0, 0, 0], seen: false, tag: { as_u32: 0x01, as_bytes: [1, 0, 0, 0] }, verdict: 0 });
  throwsUsage(() => v.encode({ packets: 0, delta: 0, hist: [0, 0, 0], seen: false, tag: { as_u32: 2, as_bytes: [1, 0, 0, 0] }, verdict: 0 }), /map flows: value\.tag\.as_bytes\[0\] overlaps another member of its union/);
});

codec('errors name the map, the field and the expected type', () => {
  const k = keyCodec('flows');
  throwsUsage(() => k.encode({ ...FLOW, proto: 'PROTO_SCTP' }), /^map flows: key\.proto must be one of PROTO_TCP, PROTO_UDP \(enum proto\) or a number, got "PROTO_SCTP"$/);
  throwsUsage(() => k.encode({ ...FLOW, ttl: 256 }), /^map flows: key\.ttl must be an integer in 0\.\.255 \(an unsigned 8-bit bitfield\), got 256$/);
  throwsUsage(() => k.encode({ ...FLOW, src: { ...FLOW.src, port: 70000 } }), /^map flows: key\.src\.port must be an integer in 0\.\.65535 \(u16\), got 70000$/);
  throwsUsage(() => k.encode({ ...FLOW, cookie: 2 ** 60 }), /key\.cookie 1152921504606847000 is not an integer a number holds exactly: use a bigint/);
  throwsUsage(() => k.encode({ ...FLOW, ifname: 'a-very-long-name' }), /key\.ifname is 16 bytes in UTF-8, but char\[8\] holds at most 8/);
  throwsUsage(() => k.encode({ ...FLOW, ifname: 'a\0b' }), /key\.ifname must not contain a NUL/);
  throwsUsage(() => k.encode({ ...FLOW, extra: 1 }), /map flows: key has no member extra \(members src, dst, proto/);
  const { cookie: _, ...withoutCookie } = FLOW;
  throwsUsage(() => k.encode(withoutCookie), /map flows: key is missing member cookie/);
  throwsUsage(() => k.encode(7), /map flows: key must be an object with members src, dst/);
  const v = valueCodec('flows');
  throwsUsage(() => v.encode({ packets: 0, delta: 0, hist: [1, 2], seen: false, tag: { as_u32: 0 }, verdict: 0 }), /value\.hist must have exactly 3 elements, got 2/);
  throwsUsage(() => v.encode({ packets: 0, delta: 0, hist: [0, 0, 0], seen: 1, tag: { as_u32: 0 }, verdict: 0 }), /value\.seen must be a boolean, got number 1/);
  throwsUsage(() => v.encode({ packets: 0, delta: 0, hist: [0, 0, 0], seen: false, tag: {}, verdict: 0 }), /value\.tag is a union: give one of its members \(members as_u32, as_bytes\)/);
  throwsUsage(() => k.decode(Buffer.alloc(39)), /map flows: key needs 40 bytes, got 39/);
});

codec('a bpf_spin_lock in a value is the kernel\'s: left out of values, zeroed on encode, refused when given', () => {
  const v = valueCodec('guarded');
  const b = v.encode({ a: 7, b: 9n });
  assert.is(b.readUInt32LE(0), 0, 'the lock is zero');
  assert.is(b.readUInt32LE(4), 7);
  assert.is(b.readBigUInt64LE(8), 9n);
  b.writeUInt32LE(1, 0);
  assert.equal(v.decode(b), { a: 7, b: 9n });
  throwsUsage(() => v.encode({ lock: 0, a: 1, b: 1n }), /value\.lock is managed by the kernel/);
});

codec('signed bitfields, bool bitfields, enum bitfields and 64-bit bitfields (a hand-made shape)', () => {
  const e: Shape = { kind: 'enum', size: 4, signed: false, cName: 'color', typeId: 1, values: [{ name: 'RED', value: 0n }, { name: 'BLUE', value: 3n }] };
  const shape: Shape = {
    kind: 'struct', size: 16, cName: 'bits', typeId: 2, hidden: [], fields: [
      { name: 's', bitOffset: 0, bitSize: 5, shape: { kind: 'int', size: 4, signed: true }, alternative: false },
      { name: 'f', bitOffset: 5, bitSize: 1, shape: { kind: 'bool', size: 1 }, alternative: false },
      { name: 'c', bitOffset: 6, bitSize: 2, shape: e, alternative: false },
      { name: 'big', bitOffset: 64, bitSize: 40, shape: { kind: 'int', size: 8, signed: false }, alternative: false },
    ],
  };
  const c = codecOfShape(shape, 'map bits', 'value');
  const b = c.encode({ s: -3, f: true, c: 'BLUE', big: 2n ** 39n + 5n });
  assert.is(b[0], (29 | (1 << 5) | (3 << 6)) & 0xff, '-3 in 5 bits is 0b11101');
  assert.is(b.readBigUInt64LE(8), 2n ** 39n + 5n);
  assert.equal(c.decode(b), { s: -3, f: true, c: 'BLUE', big: 2n ** 39n + 5n });
  throwsUsage(() => c.encode({ s: 16, f: true, c: 'RED', big: 0n }), /value\.s must be an integer in -16\.\.15 \(a signed 5-bit bitfield\), got 16/);
  throwsUsage(() => c.encode({ s: 0, f: false, c: 4, big: 0n }), /value\.c 4 does not fit in 2 bits \(enum color\)/);
  throwsUsage(() => c.encode({ s: 0, f: false, c: 'RED', big: 2n ** 40n }), /value\.big must be an integer in 0\.\.1099511627775/);
});

codec('map shapes: queues have no key, global-data maps are keyed by index, sizes are checked', () => {
  const types = (name: string) => ({ btf, key: spec(name).btfKeyTypeId ?? 0, value: spec(name).btfValueTypeId ?? 0, source: 'typed_maps.bpf.o' });
  const fifo = spec('fifo');
  assert.equal(mapShapes({ ...fifo, what: 'map fifo' }, types('fifo')).key, { kind: 'void' });
  const bss = spec('.bss');
  const s = mapShapes({ ...bss, what: 'map .bss' }, types('.bss'));
  assert.equal(s.key, { kind: 'int', size: 4, signed: false });
  assert.is(s.value.kind, 'struct');
  throwsUsage(() => mapShapes({ ...fifo, valueSize: 8, what: 'map fifo' }, types('fifo')), /map fifo: its value type in typed_maps\.bpf\.o is 4 bytes, but the map's value size is 8/, 'MISMATCH');
  throwsUsage(() => mapShapes({ type: 1, keySize: 4, valueSize: 4, what: 'map raw' }, undefined), /map raw has no BTF type for its key \(no BTF/, 'NOT_SUPPORTED');
});

codec('per-CPU values: one 8-byte-aligned slot per possible CPU, padding zeroed, counts checked', () => {
  const values = [Buffer.from([1, 2, 3]), Buffer.from([4, 5, 6])];
  const all = joinPerCpu(values, 3, 2, 'map pc');
  assert.is(all.length, 16);
  assert.equal([...all], [1, 2, 3, 0, 0, 0, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0]);
  assert.equal(splitPerCpu(all, 3, 2).map((b) => [...b]), [[1, 2, 3], [4, 5, 6]]);
  throwsUsage(() => joinPerCpu([values[0]!], 3, 2, 'map pc'), /map pc: a per-CPU value is one Buffer per possible CPU: 2 of them, got 1/);
  throwsUsage(() => joinPerCpu([Buffer.alloc(3), Buffer.alloc(4)], 3, 2, 'map pc'), /the value for CPU 1 must be a Buffer of 3 bytes, got 4 bytes/);
});

codec.run();
