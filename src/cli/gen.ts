// `gen FILE.bpf.o [-o out.ts]`: write a TypeScript module for an object (typed maps, program and map
// names, typed globals, open()/load()). Pure reading of the object: no kernel, no privileges.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { messageWithoutHint, ObjectError, UsageError } from '../errors.js';
import { Exit } from './errors.js';

export interface GenIo { out(text: string): void; err(text: string): void }

/** Register the `gen` verb on `program`; `setExit` receives its exit code. */
export function registerGen(program: Command, io: GenIo, setExit: (code: number) => void): Command {
  return program.command('gen')
    .description('write a TypeScript module for a BPF object: map key/value types from its BTF, program and map names, typed globals, open()/load() (no root needed)')
    .argument('<file>', 'a clang-built BPF object with BTF (clang -g)')
    .option('-o, --out <file.ts>', 'write the module here (default: standard output)')
    .option('--import <module>', 'the module to import the loader from', 'sockaccel-ffi')
    .option('--object-path <path>', 'where the module finds the object at run time, relative to the module (default: the relative path from --out to FILE)')
    .addHelpText('after', '\nExamples:\n  sockaccel-ffi gen my.bpf.o -o src/my.bpf.ts\n  sockaccel-ffi gen my.bpf.o | less')
    .action(async (file: string, o: { out?: string; import: string; objectPath?: string }) => {
      // The object layer and the generator load when the verb runs, not for every --help.
      const { parseObject, generateModule } = await import('./verbs.js');
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        io.err(`error: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        setExit(Exit.failure);
        return;
      }
      let text: string;
      try {
        const spec = parseObject(bytes, file);
        if (!spec.btf) throw new UsageError('BAD_ARGUMENT', `${file} has no BTF (.BTF section): gen needs it for the map and global types`, { hint: 'build the object with clang -g' });
        text = generateModule(spec, file, { outFile: o.out, importFrom: o.import, objectPath: o.objectPath });
      } catch (e) {
        if (!(e instanceof ObjectError) && !(e instanceof UsageError)) throw e;
        // A UsageError's message already ends with its hint: print it once, on a line of its own.
        io.err(`error: ${e instanceof UsageError ? messageWithoutHint(e) : e.message}${e instanceof UsageError && e.hint ? `\nhint: ${e.hint}` : ''}\n`);
        setExit(Exit.failure);
        return;
      }
      if (o.out) {
        writeFileSync(o.out, text);
        io.err(`wrote ${o.out}\n`);
      } else {
        io.out(text);
      }
      setExit(Exit.ok);
    });
}
