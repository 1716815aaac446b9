// `inspect FILE.o [--json]`: what the loader sees in an object, and its programs disassembled with
// their C source lines. Pure reading: no kernel, no privileges.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ObjectError } from '../errors.js';
import { shippedObject } from '../accel/layout.js';
import { Exit } from './errors.js';

export interface InspectIo { out(text: string): void; err(text: string): void }

/** Register the `inspect` verb on `program`; `setExit` receives its exit code. */
export function registerInspect(program: Command, io: InspectIo, setExit: (code: number) => void): Command {
  return program.command('inspect')
    .description('show what the loader sees in a BPF object: sections, maps, programs, relocations, BTF, and the disassembly with C lines (no root needed)')
    .argument('[file]', 'a clang-built BPF object (default: the shipped bpf/sockaccel.bpf.o)')
    .option('--json', 'print everything as JSON')
    .option('--program <name>', 'disassemble only this program or subprogram')
    .option('--no-disasm', 'leave out the disassembly')
    .addHelpText('after', '\nExamples:\n  sockaccel-ffi inspect\n  sockaccel-ffi inspect bpf/fixtures/calls.bpf.o --program prog_a\n  sockaccel-ffi inspect my.bpf.o --json | jq .maps')
    .action(async (file: string | undefined, o: { json?: boolean; program?: string; disasm: boolean }) => {
      // The object layer and the disassembler load when the verb runs, not for every --help.
      const { inspectObject, renderInspection } = await import('./verbs.js');
      const path = file ?? shippedObject();
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        io.err(`error: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        setExit(Exit.failure);
        return;
      }
      let x;
      try {
        x = inspectObject(bytes, path);
      } catch (e) {
        if (!(e instanceof ObjectError)) throw e;
        io.err(`error: ${e.message}\n`);
        setExit(Exit.failure);
        return;
      }
      if (o.program !== undefined) {
        const names = x.disassembly.map((l) => l.function);
        if (!names.includes(o.program)) {
          io.err(`error: ${path} has no program or subprogram ${o.program} (it has: ${names.join(', ') || 'none'})\n`);
          setExit(Exit.usage);
          return;
        }
        x.disassembly = x.disassembly.filter((l) => l.function === o.program);
      }
      if (!o.disasm) x.disassembly = [];
      io.out((o.json ? JSON.stringify(x, null, 2) : renderInspection(x)) + '\n');
      setExit(Exit.ok);
    });
}
