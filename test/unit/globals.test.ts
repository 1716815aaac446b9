// setGlobal(): little-endian writes in the global's size, range checks, Buffers, unknown names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseObject } from '../../src/object/parse.js';
import { setGlobal } from '../../src/object/globals.js';
import { readFixture } from './fixtures.js';

const fresh = () => parseObject(readFixture('globals'), 'globals.bpf.o');

test('numbers and bigints land at the global offset, little-endian', () => {
  const spec = fresh();
  setGlobal(spec, 'magic', 0x4321);
  setGlobal(spec, 'multiplier', 10n);
  setGlobal(spec, 'small', 255);
  setGlobal(spec, 'counter', -1);
  setGlobal(spec, 'hidden', 0xdeadbeef);
  const rodata = spec.maps.get('.rodata')!.contents!;
  assert.is(rodata.readUInt32LE(0), 0x4321);
  assert.is(rodata.readBigUInt64LE(8), 10n);
  const data = spec.maps.get('.data')!.contents!;
  assert.is(data[8], 255);
  assert.is(data.readBigUInt64LE(0), 0xffffffffffffffffn);
  assert.is(data.readUInt32LE(12), 0xdeadbeef);
  assert.is(data[9], 0, 'neighbouring bytes untouched');
});

test('.bss globals can be set (contents become non-zero)', () => {
  const spec = fresh();
  setGlobal(spec, 'runs', 3n);
  assert.is(spec.maps.get('.bss')!.contents!.readBigUInt64LE(0), 3n);
  setGlobal(spec, 'scratch', Buffer.alloc(16, 7));
  assert.is(spec.maps.get('.bss')!.contents![8 + 15], 7);
});

test('out-of-range values and wrong-sized Buffers are clear errors', () => {
  const spec = fresh();
  assert.throws(() => setGlobal(spec, 'small', 256), /small is 1 bytes: 256 is outside/);
  assert.throws(() => setGlobal(spec, 'small', -129), /small/);
  assert.throws(() => setGlobal(spec, 'magic', 2 ** 32), /magic is 4 bytes/);
  assert.throws(() => setGlobal(spec, 'multiplier', 1n << 64n), /multiplier is 8 bytes/);
  assert.throws(() => setGlobal(spec, 'magic', 1.5), /magic/);
  assert.throws(() => setGlobal(spec, 'magic', Buffer.alloc(3)), /magic is 4 bytes; the Buffer given is 3 bytes/);
  assert.throws(() => setGlobal(spec, 'scratch', 1), /scratch is 16 bytes: set it with a Buffer/);
  assert.is(spec.maps.get('.data')!.contents![8], 5, 'a refused write changes nothing');
});

test('unknown globals list the known ones', () => {
  assert.throws(() => setGlobal(fresh(), 'nope', 1), /no global variable named "nope".*counter, hidden, magic, multiplier, runs, scratch, small/);
});

test.run();
