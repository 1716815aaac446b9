// The first lines of `up --explain`: what reading the object found (the ELF sections, maps, programs
// and relocations), from the same parse `inspect` shows in full.
import { inspectObject } from './inspect.js';

export function narrateObject(bytes: Buffer, file: string, say: (line: string) => void): void {
  const x = inspectObject(bytes, file);
  const code = x.sections.filter((s) => s.flags.includes('X') && s.size > 0);
  say(`read ${file}: ${x.sections.length} ELF sections; code in ${code.map((s) => `${s.name} (${s.size / 8} instruction slots)`).join(', ')}; license ${JSON.stringify(x.license)}`);
  const other = x.sections.filter((s) => ['.maps', 'maps', '.BTF', '.BTF.ext'].includes(s.name) || /^\.(rodata|data|bss)/.test(s.name));
  if (other.length) say(`  other sections the loader uses: ${other.map((s) => `${s.name} (${s.size} bytes)`).join(', ')}`);
  for (const m of x.maps) {
    say(`  map ${m.name}: ${m.type}, key ${m.keySize} B, value ${m.valueSize} B, max ${m.maxEntries} entries${m.flags ? `, flags 0x${m.flags.toString(16)}` : ''}${m.kind === 'data' ? ` (global data from ${m.section})` : ' (BTF-defined in .maps)'}`);
  }
  for (const p of x.programs) {
    const relocs = x.relocations.filter((r) => r.function === p.name);
    say(`  program ${p.name}: section ${p.section} → ${p.type}${p.expectedAttachType ? `, expected attach type ${p.expectedAttachType}` : ''}, ${p.instructions} instruction slots, ${relocs.length} relocations (${[...new Set(relocs.map((r) => r.target))].join(', ') || 'none'})`);
  }
  if (x.btf) say(`  BTF: ${x.btf.types} types; BTF.ext: ${x.btf.funcInfo} func_info, ${x.btf.lineInfo} line_info, ${x.btf.coreRelos} CO-RE records`);
}
