// .BTF.ext: func_info, line_info and core_relo records, grouped by section, offsets in bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectError } from '../../src/errors.js';
import { Btf, BtfKind, parseBtfExt } from '../../src/btf/index.js';
import { readElf } from '../../src/elf/index.js';
import { readFixture, type FixtureName } from './fixtures.js';

function load(name: FixtureName) {
  const elf = readElf(readFixture(name), name);
  const btf = Btf.parse(elf.section('.BTF')!.data, name);
  const raw = elf.section('.BTF.ext')!.data;
  return { btf, raw, ext: parseBtfExt(raw, btf, name) };
}

test('func_info of calls.bpf.o: one record per function, byte offsets', () => {
  const { btf, ext } = load('calls');
  assert.is(ext.funcInfoRecSize, 8);
  assert.is(ext.lineInfoRecSize, 16);
  const socket = ext.funcInfo.get('socket')!;
  assert.equal(socket.map((r) => r.insnOff), [0, 6 * 8, 15 * 8]);
  assert.equal(socket.map((r) => btf.type(r.typeId).name), ['calls_first', 'calls_second', 'calls_loop']);
  assert.ok(socket.every((r) => btf.type(r.typeId).kind === BtfKind.FUNC));
  assert.equal(ext.funcInfo.get('.text')!.map((r) => btf.type(r.typeId).name).sort(), ['add_ten', 'global_triple', 'inner_step', 'outer_step', 'sum_callback']);
});

test('line_info carries relative file names (deterministic build) and line numbers', () => {
  const { ext } = load('calls');
  const lines = ext.lineInfo.get('socket')!;
  assert.ok(lines.length > 0);
  assert.ok(lines.every((l) => l.fileName === './calls.bpf.c' || l.fileName.startsWith('/usr/include/')), lines.map((l) => l.fileName).join());
  assert.ok(lines.every((l) => l.insnOff % 8 === 0));
  assert.ok(lines.some((l) => l.lineNumber > 0));
  assert.match(lines[0]!.line, /add_ten\(5\) \+ outer_step\(1\)/);
  assert.is(lines[0]!.lineNumber, 44);
});

test('core_relo records of core.bpf.o', () => {
  const { btf, ext } = load('core');
  assert.is(ext.coreReloRecSize, 16);
  const relos = ext.coreRelos.get('raw_tp/sched_switch')!;
  assert.equal(relos.map((r) => [r.insnOff / 8, r.accessor, r.kind]), [[1, '0:2', 0], [8, '0:1', 0], [15, '0:0', 2]]);
  assert.is(btf.type(relos[0]!.typeId).name, 'task_like');
  assert.is(load('calls').ext.coreRelos.size, 0);
});

test('malformed .BTF.ext is an ObjectError naming .BTF.ext', () => {
  const { btf, raw } = load('calls');
  const bad = (mutate: (b: Buffer) => void, pattern: RegExp) => {
    const b = Buffer.from(raw);
    mutate(b);
    try { parseBtfExt(b, btf, 'calls'); } catch (err) {
      assert.instance(err, ObjectError);
      assert.is((err as ObjectError).section, '.BTF.ext');
      assert.match((err as Error).message, pattern);
      return;
    }
    assert.unreachable('expected an ObjectError');
  };
  bad((b) => b.writeUInt16LE(0x1234, 0), /magic/);
  bad((b) => b.writeUInt32LE(3, 4), /header length/);
  bad((b) => b.writeUInt32LE(0xfffff, 12), /outside/);
  const hdr = raw.readUInt32LE(4);
  const funcStart = hdr + raw.readUInt32LE(8);
  bad((b) => b.writeUInt32LE(2, funcStart), /record size/);
  bad((b) => b.writeUInt32LE(0xffffff, funcStart + 4), /string offset/);
  bad((b) => b.writeUInt32LE(0xffffff, funcStart + 8), /run past/);
  bad((b) => b.writeUInt32LE(3, funcStart + 12), /instruction boundary/);
  bad((b) => b.writeUInt32LE(0xffff, funcStart + 16), /type id/);
});

test.run();
