// The malformed-input corpus: hundreds of deterministic variants of every fixture (truncations,
// overwritten bytes in the ELF header, section headers, symbol table, REL records, .BTF and .BTF.ext,
// huge counts and offsets). Each must parse or throw ObjectError: any other error escaping the
// parser (TypeError, RangeError, AssertionError) is a bug. Seeded, so a failure names its case.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectError } from '../../src/errors.js';
import { readElf, type ElfFile } from '../../src/elf/index.js';
import { parseObject } from '../../src/object/parse.js';
import { FIXTURES, readFixture } from './fixtures.js';

/** mulberry32: tiny, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Variant { label: string; bytes: Buffer }

/** Values that tend to break parsers when written as u32/u64. */
const NASTY = [0, 1, 3, 7, 8, 0x7f, 0xff, 0xfff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

function variantsOf(name: string, good: Buffer, seed: number): Variant[] {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const out: Variant[] = [];
  const elf: ElfFile = readElf(good, name);
  const shoff = Number(good.readBigUInt64LE(40));

  // Truncations: every length through the ELF header, then lengths spread over the file.
  for (let len = 0; len < 80; len++) out.push({ label: `truncate to ${len}`, bytes: good.subarray(0, len) });
  for (let i = 0; i < 60; i++) {
    const len = int(good.length);
    out.push({ label: `truncate to ${len}`, bytes: good.subarray(0, len) });
  }

  /** Regions worth corrupting, as [label, start, end). */
  const regions: [string, number, number][] = [
    ['ELF header', 0, 64],
    ['section headers', shoff, shoff + elf.sections.length * 64],
  ];
  const add = (label: string, sectionName: string) => {
    const s = elf.section(sectionName);
    if (s && s.data.length > 0) regions.push([label, s.offset, s.offset + s.size]);
  };
  add('symbol table', '.symtab');
  add('string table', '.strtab');
  add('.BTF', '.BTF');
  add('.BTF.ext', '.BTF.ext');
  for (const s of elf.sections) if (s.type === 9) add(`REL ${s.name}`, s.name);
  for (const s of elf.sections) if (s.flags & 4 && s.size > 0) add(`code ${s.name}`, s.name);
  const btf = elf.section('.BTF');
  if (btf) regions.push(['.BTF header', btf.offset, btf.offset + 24]);
  const ext = elf.section('.BTF.ext');
  if (ext) regions.push(['.BTF.ext header', ext.offset, ext.offset + 32]);

  for (const [label, start, end] of regions) {
    const span = end - start;
    if (span <= 0) continue;
    for (let i = 0; i < 24; i++) {
      const b = Buffer.from(good);
      const at = start + int(span);
      const how = int(4);
      let what: string;
      if (how === 0) { b[at] = int(256); what = `byte ${at} := ${b[at]}`; }
      else if (how === 1) { b[at] ^= 1 << int(8); what = `flip a bit of byte ${at}`; }
      else {
        const aligned = start + (Math.floor((at - start) / 4) * 4);
        const value = NASTY[int(NASTY.length)]!;
        if (aligned + 4 <= b.length) b.writeUInt32LE(value, aligned);
        if (how === 3 && aligned + 8 <= b.length) b.writeUInt32LE(value, aligned + 4);
        what = `u${how === 3 ? 64 : 32} at ${aligned} := 0x${value.toString(16)}`;
      }
      out.push({ label: `${label}: ${what}`, bytes: b });
    }
  }
  // A few multi-byte disasters: several random overwrites at once.
  for (let i = 0; i < 20; i++) {
    const b = Buffer.from(good);
    for (let j = 0; j < 8; j++) b[int(b.length)] = int(256);
    out.push({ label: `8 random bytes (case ${i})`, bytes: b });
  }
  return out;
}

test('every malformed variant of every fixture parses or throws ObjectError', () => {
  const failures: string[] = [];
  let total = 0;
  let rejected = 0;
  FIXTURES.forEach((name, index) => {
    const seed = 0x5eed + index;
    for (const v of variantsOf(name, readFixture(name), seed)) {
      total++;
      try {
        parseObject(v.bytes, `${name}.bpf.o`);
      } catch (err) {
        if (err instanceof ObjectError) { rejected++; continue; }
        failures.push(`${name} (seed ${seed}) ${v.label}: ${(err as Error)?.constructor?.name} ${(err as Error)?.message}`);
      }
    }
  });
  assert.ok(total > 1500, `only ${total} cases`);
  assert.ok(rejected > total / 3, `suspiciously few rejections: ${rejected}/${total}`);
  assert.equal(failures, [], failures.slice(0, 20).join('\n'));
});

test.run();
