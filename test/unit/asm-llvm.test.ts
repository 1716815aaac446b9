// The disassembler against llvm-objdump, on every instruction of every committed object
// (bpf/*.bpf.o and bpf/fixtures/*.bpf.o): same text (normalised), same jump labels, and each
// relocation llvm-objdump reports resolved by us to the same map, global or function.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { disassemble, decode, formatInstruction } from '../../src/asm/disasm.js';
import { helperName } from '../../src/asm/helpers.js';
import { readElf, SectionFlag } from '../../src/elf/index.js';
import { inspectObject } from '../../src/inspect/inspect.js';
import { committedObjects, llvmObjdump, llvmObjdumpPath, normalise } from './asm-oracle.js';

const objects = committedObjects();

test('the committed objects are all there', () => {
  const names = objects.map((f) => basename(f));
  assert.ok(names.includes('sockaccel.bpf.o'));
  for (const n of ['calls', 'core', 'core_task', 'globals', 'legacy_maps', 'maps', 'verifier_reject']) assert.ok(names.includes(`${n}.bpf.o`), n);
});

test('normalise folds only number and label spelling', () => {
  assert.is(normalise('*(u32 *)(r10 - 0x4) = w1'), '*(u32 *)(r10 - 4) = r1');
  assert.is(normalise('if w2 < 0x2 goto +0x27 <LBB0_2>'), 'if w2 < 2 goto +39');
  assert.is(normalise('r1 += -0xd0'), 'r1 += -208');
  assert.is(normalise('w1 = w2'), 'w1 = w2'); // not a memory operation: w stays w
  assert.is.not(normalise('r1 = r2'), normalise('w1 = w2'));
  assert.is.not(normalise('r1 = 0x10'), normalise('r1 = 10'));
});

let total = 0;
let unknownToLlvm = 0;
for (const file of objects) {
  test(`${basename(file)}: every instruction disassembles as llvm-objdump does`, () => {
    const llvm = llvmObjdump(file);
    const elf = readElf(readFileSync(file), file);
    const code = elf.sections.filter((s) => (s.flags & SectionFlag.EXECINSTR) && s.size > 0);
    assert.equal(new Set(code.map((s) => s.name)), new Set([...llvm.insns.keys()]), 'the same executable sections');
    let compared = 0;
    for (const section of code) {
      const theirs = llvm.insns.get(section.name)!;
      const ours = disassemble(section.data, { helperNames: false });
      assert.equal(ours.map((l) => l.index), [...theirs.keys()], `${section.name}: the same instruction slots`);
      for (const l of ours) {
        const want = theirs.get(l.index)!;
        if (want === '<unknown>') {
          // llvm-objdump 14 prints no 32-bit atomic other than add: those are checked by asm.test.ts.
          assert.match(l.text, /^lock \*\(u32 \*\)|atomic|xchg/, `${basename(file)} ${section.name} insn ${l.index}: llvm-objdump cannot print it, and ours ("${l.text}") is not an atomic either`);
          unknownToLlvm++;
        } else {
          assert.is(normalise(l.text), normalise(want), `${basename(file)} ${section.name} insn ${l.index}: ours "${l.text}", llvm-objdump "${want}"`);
        }
        compared++;
      }
    }
    assert.ok(compared > 0);
    total += compared;
  });

  test(`${basename(file)}: relocations, helpers and jump labels resolve to what llvm-objdump names`, () => {
    const llvm = llvmObjdump(file);
    const x = inspectObject(readFileSync(file), file);
    const funcs = new Set(x.disassembly.map((l) => l.function));
    let relocs = 0;
    for (const listing of x.disassembly) {
      const theirs = llvm.insns.get(listing.section)!;
      const theirRelocs = llvm.relocs.get(listing.section)!;
      for (const line of listing.lines) {
        const at = listing.sectionIndex + line.index;
        const raw = theirs.get(at)!;
        const rel = theirRelocs.get(at);
        if (rel) {
          relocs++;
          const where = `${listing.function} insn ${line.index}: "${line.text}" for ${rel.type} ${rel.symbol}`;
          if (rel.type === 'R_BPF_64_64') {
            const isMap = x.maps.some((m) => m.name === rel.symbol && m.kind === 'map');
            const isSection = x.maps.some((m) => m.name === rel.symbol && m.kind === 'data');
            if (isMap || isSection) assert.match(line.text, `map[${rel.symbol}]`, where);
            else if (funcs.has(rel.symbol)) assert.match(line.text, `func[${rel.symbol}]`, where);
            else if (rel.symbol === '.text') {
              const m = /func\[([^\]]+)\]/.exec(line.text);
              assert.ok(m && funcs.has(m[1]!), where);
            }
            else assert.match(line.text, `; &${rel.symbol}`, where);
          } else {
            assert.is(rel.type, 'R_BPF_64_32', where);
            // A call to a named function, or (section symbol) to the function at the offset.
            const m = /^call (\S+)$/.exec(line.text);
            assert.ok(m && funcs.has(m[1]!), where);
            if (!rel.symbol.startsWith('.')) assert.is(m![1], rel.symbol, where);
          }
        } else {
          const helper = /^call (\d+)$/.exec(normalise(raw));
          const callee = /^call (\S+)$/.exec(line.text)?.[1];
          if (helper && callee && funcs.has(callee)) {
            // A bpf-to-bpf call clang resolved itself (same section, no REL record): imm is relative.
            const target = x.disassembly.find((l) => l.function === callee)!;
            assert.is(target.section, listing.section);
            assert.is(at + Number(helper[1]) + 1, target.sectionIndex, `${listing.function} insn ${line.index}: call ${callee}`);
          } else if (helper) {
            assert.is(line.text, `call ${helperName(Number(helper[1])) ?? helper[1]}`);
          }
        }
        // llvm-objdump (14) annotates jumps with the label at the target; ours must name the same one.
        const label = /goto [+-]\S+ <([^>]+)>/.exec(raw);
        if (label) assert.match(line.text, `<${label[1]}>`, `${listing.function} insn ${line.index}`);
      }
    }
    const expected = [...llvm.relocs.values()].reduce((n, m) => n + m.size, 0);
    assert.is(relocs, expected, 'every relocation llvm-objdump lists was checked (none outside a function)');
  });
}

test('every instruction of every committed object was compared', () => {
  // Count independently: the slots of each executable section, minus ld_imm64 second halves.
  let expected = 0;
  for (const file of objects) {
    const elf = readElf(readFileSync(file), file);
    for (const s of elf.sections) if ((s.flags & SectionFlag.EXECINSTR) && s.size > 0) expected += decode(s.data).length;
  }
  assert.ok(expected > 700, `only ${expected} instructions?`);
  assert.is(total, expected);
  console.log(`  compared ${total} instructions in ${objects.length} objects with ${llvmObjdumpPath()} (${unknownToLlvm} 32-bit atomics it cannot print)`);
});

test('a deliberately wrong rendering is caught by the comparison', () => {
  // Guard against a vacuous oracle: flip one operator and the normalised texts must differ.
  const b = Buffer.from([0x07, 0x01, 0, 0, 0x30, 0xff, 0xff, 0xff]); // r1 += -208
  const text = formatInstruction(decode(b)[0]!);
  assert.is(text, 'r1 += -208');
  assert.is.not(normalise(text.replace('+=', '-=')), normalise('r1 += -0xd0'));
});

test.run();
