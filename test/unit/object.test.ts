// parseObject on the fixtures: maps (BTF-defined, legacy, global data), programs and subprograms,
// relocations, BTF.ext records, license, name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectError } from '../../src/errors.js';
import { BpfObject } from '../../src/load/bpf-object.js';
import { parseObject, objectName } from '../../src/object/parse.js';
import { AttachType, MapFlag, MapType, ProgType } from '../../src/uapi/enums.js';
import { readElf } from '../../src/elf/index.js';
import { fixturePath, readFixture, type FixtureName } from './fixtures.js';

const parse = (name: FixtureName) => parseObject(readFixture(name), fixturePath(name));

test('object name and license', () => {
  const spec = parse('calls');
  assert.is(spec.name, 'calls');
  assert.is(spec.license, 'GPL');
  assert.is(spec.kernVersion, 0);
  assert.is(objectName('<buffer>'), 'obj');
  assert.is(objectName('/a/b/thing.o'), 'thing');
  assert.is(objectName('/a/b/x.bpf.o'), 'x');
});

test('BTF-defined maps: sizes are those of the C types', () => {
  const maps = parse('maps').maps;
  const m = (name: string) => {
    const spec = maps.get(name);
    assert.ok(spec, name);
    return spec!;
  };
  const row = (name: string) => { const s = m(name); return [s.type, s.keySize, s.valueSize, s.maxEntries, s.flags, s.pinning, s.kind, s.section]; };
  assert.equal(row('flows'), [MapType.HASH, 12, 24, 1024, MapFlag.NO_PREALLOC, 'none', 'map', '.maps']);
  assert.equal(row('counters'), [MapType.ARRAY, 4, 8, 4, 0, 'none', 'map', '.maps']);
  assert.equal(row('percpu_stats'), [MapType.PERCPU_ARRAY, 4, 24, 1, 0, 'none', 'map', '.maps']);
  assert.equal(row('lru_cache'), [MapType.LRU_HASH, 8, 4, 128, 0, 'none', 'map', '.maps']);
  assert.equal(row('sock_hash'), [MapType.SOCKHASH, 12, 8, 64, 0, 'none', 'map', '.maps']);
  assert.equal(row('pinned_counts'), [MapType.HASH, 4, 4, 16, 0, 'byName', 'map', '.maps']);
  assert.equal(row('sized_by_number'), [MapType.HASH, 6, 10, 8, 0, 'none', 'map', '.maps']);
  assert.is(m('sized_by_number').btfKeyTypeId, undefined);
  assert.ok(m('flows').btfKeyTypeId! > 0 && m('flows').btfValueTypeId! > 0);
  assert.is(m('flows').mapExtra, 0n);
  const outer = m('outer');
  assert.equal([outer.type, outer.keySize, outer.valueSize, outer.maxEntries], [MapType.ARRAY_OF_MAPS, 4, 4, 3]);
  assert.equal([outer.innerMap!.type, outer.innerMap!.keySize, outer.innerMap!.valueSize, outer.innerMap!.maxEntries], [MapType.ARRAY, 4, 4, 2]);
  assert.is(outer.innerMap!.name, 'outer.inner');
});

test('legacy maps section: records of 28 bytes, names from symbols', () => {
  const spec = parse('legacy_maps');
  const a = spec.maps.get('legacy_array')!;
  const h = spec.maps.get('legacy_hash')!;
  assert.equal([a.type, a.keySize, a.valueSize, a.maxEntries, a.flags, a.section], [MapType.ARRAY, 4, 8, 2, 0, 'maps']);
  assert.equal([h.type, h.keySize, h.valueSize, h.maxEntries, h.flags], [MapType.HASH, 8, 4, 32, MapFlag.NO_PREALLOC]);
  assert.equal(spec.programs.get('legacy_lookup')!.relocations, [
    { kind: 'map', insn: 6, map: 'legacy_array', symbol: 'legacy_array' },
    { kind: 'map', insn: 13, map: 'legacy_hash', symbol: 'legacy_hash' },
  ]);
});

test('global data maps and globals', () => {
  const spec = parse('globals');
  const rodata = spec.maps.get('.rodata')!;
  assert.equal([rodata.kind, rodata.type, rodata.keySize, rodata.valueSize, rodata.maxEntries, rodata.flags, rodata.readonly],
    ['data', MapType.ARRAY, 4, 16, 1, MapFlag.RDONLY_PROG | MapFlag.MMAPABLE, true]);
  assert.is(rodata.contents!.readUInt32LE(0), 0x1234);
  assert.is(rodata.contents!.readBigUInt64LE(8), 7n);
  const data = spec.maps.get('.data')!;
  // libbpf's map_is_mmapable: a section with a non-static variable is BPF_F_MMAPABLE.
  assert.equal([data.valueSize, data.flags, data.readonly], [16, MapFlag.MMAPABLE, false]);
  assert.is(data.contents!.readBigUInt64LE(0), 100n);
  assert.is(data.contents![8], 5);
  assert.is(data.contents!.readUInt32LE(12), 42);
  const bss = spec.maps.get('.bss')!;
  assert.equal([bss.valueSize, bss.contents!.length, bss.contents!.every((b) => b === 0)], [24, 24, true]);
  const g = (name: string) => { const x = spec.globals.get(name)!; return [x.section, x.offset, x.size]; };
  assert.equal(g('magic'), ['.rodata', 0, 4]);
  assert.equal(g('multiplier'), ['.rodata', 8, 8]);
  assert.equal(g('counter'), ['.data', 0, 8]);
  assert.equal(g('small'), ['.data', 8, 1]);
  assert.equal(g('hidden'), ['.data', 12, 4]);
  assert.equal(g('runs'), ['.bss', 0, 8]);
  assert.equal(g('scratch'), ['.bss', 8, 16]);
  assert.ok(spec.globals.get('magic')!.btfTypeId! > 0);
});

test('programs: types, attach types, attachTo, instruction counts as llvm-objdump shows', () => {
  const globals = parse('globals');
  const read = globals.programs.get('read_globals')!;
  assert.equal([read.type, read.expectedAttachType, read.attachTo, read.section, read.instructions.length / 8, read.license],
    [ProgType.SOCKET_FILTER, 0, '', 'socket', 93, 'GPL']);
  const raw = globals.programs.get('on_sys_enter')!;
  assert.equal([raw.type, raw.attachTo, raw.instructions.length / 8], [ProgType.RAW_TRACEPOINT, 'sys_enter', 17]);
  const calls = parse('calls');
  assert.equal([...calls.programs.keys()], ['calls_first', 'calls_second', 'calls_loop']);
  assert.equal([...calls.programs.values()].map((p) => p.instructions.length / 8), [6, 9, 12]);
  assert.equal([...calls.subprograms.keys()].sort(), ['add_ten', 'global_triple', 'inner_step', 'outer_step', 'sum_callback']);
  assert.equal(calls.subprograms.get('outer_step')!.instructions.length / 8, 6);
  assert.is(calls.subprograms.get('outer_step')!.section, '.text');
  // The instructions are the bytes of the section, copied.
  const first = calls.programs.get('calls_first')!.instructions;
  assert.equal([...first.subarray(0, 8)], [0xb4, 0x01, 0, 0, 5, 0, 0, 0]);
  assert.equal(parse('core').programs.get('read_task')!.attachTo, 'sched_switch');
  assert.is(AttachType.SK_MSG_VERDICT, 7);
});

test('relocations: map and data (imm + symbol value for statics)', () => {
  const read = parse('globals').programs.get('read_globals')!;
  const byInsn = new Map(read.relocations.map((r) => [r.insn, r]));
  assert.equal(byInsn.get(0), { kind: 'data', insn: 0, map: '.data', offset: 0, symbol: 'counter' });
  assert.equal(byInsn.get(5), { kind: 'data', insn: 5, map: '.bss', offset: 0, symbol: 'runs' });
  assert.equal(byInsn.get(10), { kind: 'data', insn: 10, map: '.rodata', offset: 0, symbol: 'magic' });
  assert.equal(byInsn.get(20), { kind: 'map', insn: 20, map: 'results', symbol: 'results' });
  assert.equal(byInsn.get(48), { kind: 'data', insn: 48, map: '.rodata', offset: 8, symbol: 'multiplier' });
  assert.equal(byInsn.get(63), { kind: 'data', insn: 63, map: '.data', offset: 8, symbol: 'small' });
  // `static volatile hidden`: clang relocates via the .data section symbol with imm 12.
  assert.equal(byInsn.get(77), { kind: 'data', insn: 77, map: '.data', offset: 12, symbol: '.data' });
  const count = parse('maps').programs.get('count_packets')!;
  assert.equal(count.relocations.map((r) => `${r.insn}:${r.kind === 'map' ? r.map : ''}`),
    ['4:counters', '22:flows', '29:percpu_stats', '35:pinned_counts', '43:lru_cache', '48:outer', '56:sized_by_number']);
  assert.is(count.instructions.length / 8, 63); // llvm-objdump: 0..62, ld_imm64 counting as two
});

test('relocations: calls (with and without REL records) and callbacks', () => {
  const calls = parse('calls');
  const rel = (name: string) => (calls.programs.get(name) ?? calls.subprograms.get(name))!.relocations.map((r) => [r.kind, r.insn, 'target' in r ? r.target : '']);
  assert.equal(rel('calls_first'), [['call', 1, 'add_ten'], ['call', 3, 'outer_step']]);
  assert.equal(rel('calls_second'), [['call', 1, 'add_ten'], ['call', 3, 'add_ten'], ['call', 6, 'global_triple']]);
  assert.equal(rel('calls_loop'), [['func', 5, 'sum_callback']]);
  // outer_step → inner_step: clang resolved these inside .text and left no REL record.
  assert.equal(rel('outer_step'), [['call', 1, 'inner_step'], ['call', 4, 'inner_step']]);
  assert.equal(rel('add_ten'), []);
});

test('BTF.ext records are split per function with function-relative indexes', () => {
  const calls = parse('calls');
  const second = calls.programs.get('calls_second')!;
  assert.equal(second.funcInfo.map((f) => f.insn), [0]);
  assert.ok(second.lineInfo.length > 0 && second.lineInfo.every((l) => l.insn >= 0 && l.insn < 9));
  assert.is(second.lineInfo[0]!.fileName, './calls.bpf.c');
  for (const f of calls.subprograms.values()) assert.equal(f.funcInfo.map((x) => x.insn), [0], f.name);
  const task = parse('core').programs.get('read_task')!;
  assert.equal(task.coreRelos.map((c) => [c.insn, c.accessor, c.kind]), [[1, '0:2', 0], [8, '0:1', 0], [15, '0:0', 2]]);
});

test('parsing never writes into or aliases the input buffer', () => {
  const buf = readFixture('globals');
  const copy = Buffer.from(buf);
  const spec = parseObject(buf, 'globals.bpf.o');
  spec.maps.get('.rodata')!.contents!.fill(0xaa);
  spec.programs.get('read_globals')!.instructions.fill(0xbb);
  assert.ok(buf.equals(copy));
});

/** Patch a fixture's bytes and expect an ObjectError matching `pattern`. */
function expectError(name: FixtureName, patch: (b: Buffer) => void, pattern: RegExp) {
  const b = Buffer.from(readFixture(name));
  patch(b);
  try {
    parseObject(b, `${name}.bpf.o`);
  } catch (err) {
    assert.instance(err, ObjectError);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable('expected an ObjectError');
}

test('a call to the middle of a function, or a bad relocation target, is an ObjectError', () => {
  const spec = parse('calls');
  const text = readFixture('calls');
  // Find the `call` of outer_step (insn 7 of .text at file offset 0x40 + 7*8) and aim it one insn late.
  const callAt = 0x40 + 7 * 8;
  assert.is(text[callAt], 0x85);
  expectError('calls', (b) => b.writeInt32LE(11, callAt + 4), /not the start of a known function/);
  // The callback reference of calls_loop (insn 5 of the function, 20 of the section at 0xe8).
  const ldAt = 0xe8 + 20 * 8;
  assert.is(text[ldAt], 0x18);
  expectError('calls', (b) => b.writeInt32LE(100, ldAt + 4), /not the start of a known function/);
  // A relocated instruction that is neither ld_imm64 nor a call.
  expectError('calls', (b) => { b[0xe8 + 8] = 0xb7; }, /neither ld_imm64 nor a bpf-to-bpf call/);
  assert.ok(spec);
});

test('an unknown program section opens (type UNSPEC) and is refused at load, naming the section', () => {
  // Rename "socket" to "sockex" in the section name table, where it is the tail of ".relsocket".
  const b = Buffer.from(readFixture('calls'));
  const at = b.indexOf(Buffer.from('.relsocket\0'));
  b.write('sockex', at + 4, 'latin1');
  // And hide .BTF.ext, whose records name the section by its old name.
  const ext = b.indexOf(Buffer.from('.BTF.ext\0'));
  b.write('.BTF.exx', ext, 'latin1');
  const obj = BpfObject.open(b, 'calls.bpf.o');
  const first = obj.programs.get('calls_first')!;
  assert.equal([first.type, first.section, first.autoload], [0, 'sockex', true]);
  // Refused before any bpf() call: no kernel is needed to see it.
  assert.throws(() => obj.load(), (e: Error) => e instanceof ObjectError && /program \w+: section "sockex" is not a program section name libbpf knows/.test(e.message) && /ProgType/.test(e.message));
});

test('legacy maps with a bad record size', () => {
  const elf = readElf(readFixture('legacy_maps'), 'legacy_maps.bpf.o');
  const maps = elf.section('maps')!;
  const symtab = elf.section('.symtab')!;
  const shoff = Number(readFixture('legacy_maps').readBigUInt64LE(40));
  // Shrink the section to 42 bytes and its two map symbols to 21 bytes each: not a multiple of 4.
  expectError('legacy_maps', (b) => {
    b.writeBigUInt64LE(42n, shoff + maps.index * 64 + 32);
    for (const s of elf.symbols.filter((x) => x.sectionIndex === maps.index && x.name.startsWith('legacy_'))) {
      b.writeBigUInt64LE(s.name === 'legacy_hash' ? 21n : 0n, symtab.offset + s.index * 24 + 8);
      b.writeBigUInt64LE(21n, symtab.offset + s.index * 24 + 16);
    }
  }, /record size of 21/);
});

test.run();
