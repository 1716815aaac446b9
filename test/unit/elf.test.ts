// ELF reading on the committed fixtures: header checks, section table, symbols, REL records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectError } from '../../src/errors.js';
import { readElf, SectionFlag, SectionType, SymbolBind, SymbolType, RelType } from '../../src/elf/index.js';
import { fixturePath, readFixture } from './fixtures.js';

const calls = () => readElf(readFixture('calls'), fixturePath('calls'));

test('sections of calls.bpf.o: names, types, flags, sizes', () => {
  const elf = calls();
  const text = elf.section('.text')!;
  assert.is(text.type, SectionType.PROGBITS);
  assert.ok(text.flags & SectionFlag.EXECINSTR);
  assert.is(text.size, 21 * 8); // llvm-objdump -d: .text holds instructions 0..20
  const socket = elf.section('socket')!;
  assert.is(socket.size, 27 * 8); // 0..26
  assert.is(elf.section('.symtab')!.type, SectionType.SYMTAB);
  assert.is(elf.section('.relsocket')!.type, SectionType.REL);
  assert.is(elf.section('.relsocket')!.info, socket.index);
  assert.is(elf.section('license')!.data.toString('latin1'), 'GPL\0');
  assert.ok(elf.section('.BTF'));
  assert.ok(elf.section('.BTF.ext'));
  assert.not.ok(elf.sections.some((s) => s.name.startsWith('.debug_')), 'DWARF is stripped by build-bpf.sh');
});

test('symbols: functions with value/size, bindings, the section they are in', () => {
  const elf = calls();
  const sym = (name: string) => elf.symbols.find((s) => s.name === name)!;
  assert.is(elf.symbols[0]!.name, '');
  const addTen = sym('add_ten');
  assert.is(addTen.type, SymbolType.FUNC);
  assert.is(addTen.bind, SymbolBind.LOCAL);
  assert.is(addTen.value, 0x18);
  assert.is(addTen.size, 24);
  assert.is(elf.sections[addTen.sectionIndex]!.name, '.text');
  const second = sym('calls_second');
  assert.is(second.bind, SymbolBind.GLOBAL);
  assert.is(second.value, 0x30);
  assert.is(second.size, 72);
  assert.is(sym('LICENSE').type, SymbolType.OBJECT);
});

test('REL records: offsets, types and symbols as llvm-objdump -r shows', () => {
  const elf = calls();
  const rels = elf.relocations.get(elf.section('socket')!.index)!;
  assert.equal(rels.map((r) => [r.offset, r.type, r.symbol.name]), [
    [0x08, RelType.R_BPF_64_32, '.text'],
    [0x18, RelType.R_BPF_64_32, '.text'],
    [0x38, RelType.R_BPF_64_32, '.text'],
    [0x48, RelType.R_BPF_64_32, '.text'],
    [0x60, RelType.R_BPF_64_32, 'global_triple'],
    [0xa0, RelType.R_BPF_64_64, '.text'],
  ]);
  assert.is(rels[0]!.symbol.type, SymbolType.SECTION);
});

test('static data symbols are relocated through the section symbol (globals.bpf.o)', () => {
  const elf = readElf(readFixture('globals'), 'globals.bpf.o');
  const rels = elf.relocations.get(elf.section('socket')!.index)!;
  const hidden = rels.find((r) => r.symbol.name === '.data')!;
  assert.ok(hidden, 'clang 14 relocates the static `hidden` via .data');
  assert.is(hidden.symbol.type, SymbolType.SECTION);
  assert.is(elf.section('.bss')!.type, SectionType.NOBITS);
  assert.is(elf.section('.bss')!.data.length, 0);
});

function expectObjectError(buf: Buffer, pattern: RegExp) {
  try {
    readElf(buf, 'bad.o');
  } catch (err) {
    assert.instance(err, ObjectError);
    assert.match((err as Error).message, pattern);
    assert.match((err as Error).message, /^bad\.o/);
    return;
  }
  assert.unreachable('expected an ObjectError');
}

test('header checks: magic, class, endianness, machine, type, truncation', () => {
  const good = readFixture('calls');
  const patch = (at: number, bytes: number[]) => { const b = Buffer.from(good); bytes.forEach((v, i) => { b[at + i] = v; }); return b; };
  expectObjectError(good.subarray(0, 10), /too short/);
  expectObjectError(patch(0, [0x7e]), /not an ELF file/);
  expectObjectError(patch(4, [1]), /ELFCLASS64/);
  expectObjectError(patch(5, [2]), /little-endian/);
  expectObjectError(patch(16, [2, 0]), /ET_REL/);
  expectObjectError(patch(18, [62, 0]), /EM_BPF/);
  expectObjectError(good.subarray(0, good.length - 10), /outside the file/);
  expectObjectError(patch(62, [0xff, 0x00]), /name table index/);
});

test('section and symbol checks: bad offsets, sh_link, st_shndx, REL offsets', () => {
  const good = readFixture('calls');
  const elf = calls();
  const shoff = Number(good.readBigUInt64LE(40));
  const header = (index: number) => shoff + index * 64;
  // A section whose contents run past the end of the file.
  const socket = elf.section('socket')!;
  const b1 = Buffer.from(good);
  b1.writeBigUInt64LE(BigInt(good.length), header(socket.index) + 32);
  expectObjectError(b1, /outside the file/);
  // A bad section name index.
  const b2 = Buffer.from(good);
  b2.writeUInt32LE(0xfffffff, header(socket.index));
  expectObjectError(b2, /string index/);
  // The symbol table's sh_link pointing at a non-string-table.
  const symtab = elf.section('.symtab')!;
  const b3 = Buffer.from(good);
  b3.writeUInt32LE(socket.index, header(symtab.index) + 40);
  expectObjectError(b3, /sh_link/);
  // A symbol in a section that does not exist.
  const b4 = Buffer.from(good);
  const addTen = elf.symbols.find((s) => s.name === 'add_ten')!;
  b4.writeUInt16LE(900, symtab.offset + addTen.index * 24 + 6);
  expectObjectError(b4, /only \d+ sections/);
  // A REL record off an instruction boundary, and one outside its section.
  const rel = elf.section('.relsocket')!;
  const b5 = Buffer.from(good);
  b5.writeBigUInt64LE(3n, rel.offset);
  expectObjectError(b5, /instruction boundary/);
  const b6 = Buffer.from(good);
  b6.writeBigUInt64LE(BigInt(socket.size), rel.offset);
  expectObjectError(b6, /outside section socket/);
  // A REL record naming a symbol that does not exist.
  const b7 = Buffer.from(good);
  b7.writeUInt32LE(5000, rel.offset + 12);
  expectObjectError(b7, /symbol #5000/);
  // Two sections overlapping.
  const b8 = Buffer.from(good);
  b8.writeBigUInt64LE(BigInt(socket.offset), header(elf.section('license')!.index) + 24);
  expectObjectError(b8, /overlaps/);
});

test.run();
