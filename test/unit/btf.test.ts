// BTF decoding: every kind (hand-built blobs for what clang 14 does not emit), the helpers, writing
// back, and the fixtures' real types.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectError } from '../../src/errors.js';
import { Btf, BtfKind, type BtfType } from '../../src/btf/index.js';
import { readElf } from '../../src/elf/index.js';
import { BtfBuilder } from './btf-builder.js';
import { readFixture, type FixtureName } from './fixtures.js';

const K = BtfKind;
const fixtureBtf = (name: FixtureName) => Btf.parse(readElf(readFixture(name), name).section('.BTF')!.data, name);
const expectObjectError = (fn: () => unknown, pattern: RegExp) => {
  try { fn(); } catch (err) {
    assert.instance(err, ObjectError);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable('expected an ObjectError');
};

/** One of every kind, in a blob built word by word. */
function everyKind() {
  const b = new BtfBuilder();
  const int = b.type('int', K.INT, 0, false, 4, (1 << 24) | 32); // signed, 32 bits
  const ptr = b.type('', K.PTR, 0, false, int);
  const u32 = b.type('u32', K.INT, 0, false, 4, 32);
  const array = b.type('', K.ARRAY, 0, false, 0, int, u32, 5);
  const struct = b.type('pair', K.STRUCT, 2, false, 8, b.str('a'), int, 0, b.str('b'), int, 32);
  const union = b.type('bits', K.UNION, 1, true, 4, b.str('lo'), u32, (3 << 24) | 0);
  const enm = b.type('color', K.ENUM, 2, true, 4, b.str('RED'), 0, b.str('NEG'), -1);
  const fwd = b.type('later', K.FWD, 0, true, 0);
  const typedef = b.type('pair_t', K.TYPEDEF, 0, false, struct);
  const vol = b.type('', K.VOLATILE, 0, false, typedef);
  const cnst = b.type('', K.CONST, 0, false, vol);
  const restrict = b.type('', K.RESTRICT, 0, false, ptr);
  const proto = b.type('', K.FUNC_PROTO, 2, false, int, b.str('x'), int, b.str('p'), ptr);
  const func = b.type('f', K.FUNC, 1, false, proto); // vlen 1 = global linkage
  const variable = b.type('v', K.VAR, 0, false, cnst, 1);
  const datasec = b.type('.data', K.DATASEC, 1, false, 8, variable, 0, 8);
  const float = b.type('double', K.FLOAT, 0, false, 8);
  const declTag = b.type('tag', K.DECL_TAG, 0, false, struct, 1);
  const typeTag = b.type('user', K.TYPE_TAG, 0, false, int);
  const enum64 = b.type('big', K.ENUM64, 2, true, 8, b.str('MAX'), 0xffffffff, 0x7fffffff, b.str('MIN'), 0, 0x80000000);
  const ids = { int, ptr, u32, array, struct, union, enm, fwd, typedef, vol, cnst, restrict, proto, func, variable, datasec, float, declTag, typeTag, enum64 };
  return { blob: b.build(), ids };
}

test('every kind decodes with its fields', () => {
  const { blob, ids } = everyKind();
  const btf = Btf.parse(blob, 'hand.btf');
  // Loosely typed on purpose: each line below checks the fields of one kind.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const t = (id: number, kind: BtfType['kind']): any => {
    const x = btf.type(id);
    assert.is(x.kind, kind);
    return x;
  };
  assert.is(btf.types.length, 21);
  assert.is(btf.type(0).kind, K.UNKN);
  const int = t(ids.int, K.INT);
  assert.equal([int.name, int.size, int.encoding, int.bits, int.bitOffset], ['int', 4, 1, 32, 0]);
  assert.is(t(ids.ptr, K.PTR).type, ids.int);
  assert.equal({ ...t(ids.array, K.ARRAY) }, { id: ids.array, name: '', nameOff: 0, kindFlag: false, kind: K.ARRAY, type: ids.int, indexType: ids.u32, nelems: 5 });
  const s = t(ids.struct, K.STRUCT);
  assert.equal(s.members.map((m: { name: string; type: number; bitOffset: number; bitfieldSize: number }) => [m.name, m.type, m.bitOffset, m.bitfieldSize]), [['a', ids.int, 0, 0], ['b', ids.int, 32, 0]]);
  const u = t(ids.union, K.UNION);
  assert.ok(u.kindFlag);
  assert.equal([u.members[0]!.bitfieldSize, u.members[0]!.bitOffset], [3, 0]);
  const e = t(ids.enm, K.ENUM);
  assert.ok(e.signed);
  assert.equal(e.values.map((v: { name: string; value: number }) => [v.name, v.value]), [['RED', 0], ['NEG', -1]]);
  assert.ok(t(ids.fwd, K.FWD).isUnion);
  assert.is(t(ids.typedef, K.TYPEDEF).type, ids.struct);
  assert.is(t(ids.vol, K.VOLATILE).type, ids.typedef);
  assert.is(t(ids.cnst, K.CONST).type, ids.vol);
  assert.is(t(ids.restrict, K.RESTRICT).type, ids.ptr);
  const proto = t(ids.proto, K.FUNC_PROTO);
  assert.equal([proto.returnType, proto.params.map((p: { name: string; type: number }) => [p.name, p.type])], [ids.int, [['x', ids.int], ['p', ids.ptr]]]);
  assert.equal([t(ids.func, K.FUNC).type, t(ids.func, K.FUNC).linkage], [ids.proto, 1]);
  assert.equal([t(ids.variable, K.VAR).type, t(ids.variable, K.VAR).linkage], [ids.cnst, 1]);
  assert.equal(t(ids.datasec, K.DATASEC).vars, [{ type: ids.variable, offset: 0, size: 8 }]);
  assert.is(t(ids.float, K.FLOAT).size, 8);
  assert.equal([t(ids.declTag, K.DECL_TAG).type, t(ids.declTag, K.DECL_TAG).componentIdx], [ids.struct, 1]);
  assert.is(t(ids.typeTag, K.TYPE_TAG).type, ids.int);
  const e64 = t(ids.enum64, K.ENUM64);
  assert.equal(e64.values.map((v: { name: string; value: bigint }) => [v.name, v.value]), [['MAX', 0x7fffffffffffffffn], ['MIN', -0x8000000000000000n]]);
});

test('helpers: skipQualifiers, sizeOf, findByName, string', () => {
  const { blob, ids } = everyKind();
  const btf = Btf.parse(blob, 'hand.btf');
  assert.is(btf.skipQualifiers(ids.cnst).id, ids.struct);
  assert.is(btf.skipQualifiers(ids.typeTag).id, ids.int);
  assert.is(btf.sizeOf(ids.cnst), 8);
  assert.is(btf.sizeOf(ids.array), 20);
  assert.is(btf.sizeOf(ids.ptr), 8);
  assert.is(btf.sizeOf(ids.variable), 8);
  assert.is(btf.sizeOf(ids.enum64), 8);
  assert.is(btf.sizeOf(ids.restrict), 8);
  expectObjectError(() => btf.sizeOf(ids.func), /has no size/);
  expectObjectError(() => btf.sizeOf(ids.fwd), /has no size/);
  expectObjectError(() => btf.type(999), /does not exist/);
  assert.equal(btf.findByName('pair').map((x) => x.id), [ids.struct]);
  assert.is(btf.find('pair_t', K.TYPEDEF)!.id, ids.typedef);
  assert.is(btf.find('pair', K.UNION), undefined);
  assert.is(btf.string(btf.type(ids.int).nameOff), 'int');
});

test('toBytes writes back the same bytes, and edits show up', () => {
  const { blob, ids } = everyKind();
  const btf = Btf.parse(blob, 'hand.btf');
  assert.ok(btf.toBytes().equals(blob));
  const datasec = btf.type(ids.datasec);
  if (datasec.kind !== K.DATASEC) throw new Error('kind');
  datasec.vars[0]!.offset = 16;
  const again = Btf.parse(btf.toBytes(), 'edited');
  const d2 = again.type(ids.datasec);
  assert.is(d2.kind === K.DATASEC && d2.vars[0]!.offset, 16);
  for (const name of ['calls', 'core', 'globals', 'legacy_maps', 'maps', 'verifier_reject'] as const) {
    const raw = readElf(readFixture(name), name).section('.BTF')!.data;
    assert.ok(Btf.parse(raw, name).toBytes().equals(raw), `${name} round-trips`);
  }
});

test('a cycle of typedefs is an ObjectError, not a hang or stack overflow', () => {
  const b = new BtfBuilder();
  b.type('a', K.TYPEDEF, 0, false, 2);
  b.type('b', K.TYPEDEF, 0, false, 1);
  const btf = Btf.parse(b.build(), 'cycle');
  expectObjectError(() => btf.sizeOf(1), /cycle/);
  expectObjectError(() => btf.skipQualifiers(1), /cycle/);
});

test('malformed BTF: magic, version, lengths, kinds, references, strings', () => {
  const good = everyKind().blob;
  const patched = (at: number, value: number) => { const b = Buffer.from(good); b.writeUInt32LE(value >>> 0, at); return b; };
  expectObjectError(() => Btf.parse(good.subarray(0, 10), 'x'), /shorter than its header/);
  expectObjectError(() => Btf.parse(Buffer.concat([Buffer.from([0x9f, 0xeb, 2, 0]), good.subarray(4)]), 'x'), /version 2/);
  expectObjectError(() => Btf.parse(Buffer.concat([Buffer.from([0xeb, 0x9f]), good.subarray(2)]), 'x'), /magic/);
  expectObjectError(() => Btf.parse(patched(12, 0xfffffff0), 'x'), /type section/);
  expectObjectError(() => Btf.parse(patched(20, 0xfffffff0), 'x'), /string section/);
  expectObjectError(() => Btf.parse(patched(4, 2), 'x'), /header length/);

  const unknownKind = new BtfBuilder();
  unknownKind.type('x', 25, 0, false, 0);
  expectObjectError(() => Btf.parse(unknownKind.build(), 'x'), /unknown BTF kind 25/);

  const badRef = new BtfBuilder();
  badRef.type('', K.PTR, 0, false, 7);
  expectObjectError(() => Btf.parse(badRef.build(), 'x'), /refers to a type id 7/);

  const badMember = new BtfBuilder();
  badMember.type('s', K.STRUCT, 1, false, 4, 0, 42, 0);
  expectObjectError(() => Btf.parse(badMember.build(), 'x'), /member/);

  const badName = new BtfBuilder();
  badName.raw(9999, K.INT << 24, 4, 32);
  expectObjectError(() => Btf.parse(badName.build(), 'x'), /string/);

  const truncated = new BtfBuilder();
  truncated.raw(0, (K.STRUCT << 24) | 1000, 4);
  expectObjectError(() => Btf.parse(truncated.build(), 'x'), /runs past the end/);

  try { Btf.parse(badRef.build(), 'file.o'); } catch (err) {
    assert.is((err as ObjectError).section, '.BTF');
    assert.type((err as ObjectError).offset, 'number');
  }
});

test('fixture BTF: the C types of maps.bpf.c', () => {
  const btf = fixtureBtf('maps');
  const flowKey = btf.find('flow_key', K.STRUCT)!;
  assert.is(btf.sizeOf(flowKey.id), 12);
  assert.equal(flowKey.kind === K.STRUCT && flowKey.members.map((m) => [m.name, m.bitOffset]), [['saddr', 0], ['daddr', 32], ['sport', 64], ['dport', 80]]);
  assert.is(btf.sizeOf(btf.find('flow_stats', K.STRUCT)!.id), 24);
  const maps = btf.find('.maps', K.DATASEC)!;
  assert.is(maps.kind === K.DATASEC && maps.vars.length, 8);
  const func = btf.find('count_packets', K.FUNC)!;
  assert.is(func.kind === K.FUNC && btf.type(func.type).kind, K.FUNC_PROTO);
  // vmlinux-sized input: 20k structs decode and the last is found by name (speed is for benchmarks,
  // never for an assertion).
  const big = new BtfBuilder();
  const int = big.type('int', K.INT, 0, false, 4, 32);
  for (let i = 0; i < 20000; i++) big.type(`s${i}`, K.STRUCT, 2, false, 8, big.str('a'), int, 0, big.str('b'), int, 32);
  const parsed = Btf.parse(big.build(), 'big');
  assert.is(parsed.types.length, 20002);
  assert.is(parsed.sizeOf(parsed.find('s19999', K.STRUCT)!.id), 8);
});

test.run();
