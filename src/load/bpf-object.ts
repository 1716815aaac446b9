// BpfObject: an object file opened and parsed by the pure object layer (no kernel), whose specs the
// caller may adjust before load() puts it into the kernel — libbpf's open/load split.
import { readFileSync } from 'node:fs';
import { ObjectError, UsageError } from '../errors.js';
import type { BpfProgram } from '../programs/program.js';
import type { Fd } from '../sys/fd.js';
import { parseObject, setGlobal, type FunctionSpec, type GlobalSpec, type MapSpec, type ObjectSpec, type ProgramSpec } from '../object/index.js';
import { loadObject, loadObjectAsync, type LoadedObject, type LoadOptions } from './load.js';

export class BpfObject {
  readonly spec: ObjectSpec;
  readonly #attachTargets: Record<string, BpfProgram | Fd> = {};

  private constructor(spec: ObjectSpec) {
    this.spec = spec;
  }

  /** Read and parse a clang-built BPF object (a path or its bytes). Throws ObjectError when malformed. */
  static open(source: string | Buffer | Uint8Array, name?: string): BpfObject {
    let buf: Buffer;
    let file: string;
    if (typeof source === 'string') {
      file = source;
      try {
        buf = readFileSync(source);
      } catch (e) {
        throw new ObjectError(file, `cannot read the object file: ${(e as Error).message}`, { cause: e });
      }
    } else {
      file = name ?? '<buffer>';
      buf = Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    }
    return new BpfObject(parseObject(buf, file));
  }

  get file(): string { return this.spec.file; }
  get name(): string { return this.spec.name; }
  get license(): string { return this.spec.license; }
  /** Maps by name, including global-data maps under their section names (".rodata", ".bss"). */
  get maps(): Map<string, MapSpec> { return this.spec.maps; }
  get programs(): Map<string, ProgramSpec> { return this.spec.programs; }
  get subprograms(): Map<string, FunctionSpec> { return this.spec.subprograms; }
  get globals(): Map<string, GlobalSpec> { return this.spec.globals; }

  /** Set a global variable's initial value (a `const volatile` in .rodata is how BPF code takes settings). */
  setGlobal(name: string, value: number | bigint | Buffer): this {
    setGlobal(this.spec, name, value);
    return this;
  }

  /**
   * Where a program attaches, as libbpf's bpf_program__set_attach_target: for freplace, the loaded
   * program whose function `name` it replaces; for fentry/fexit/lsm/iter/tp_btf, `name` alone (a
   * kernel function, "module:function" for a module's). The program is not touched until load().
   */
  setAttachTarget(program: string, target: BpfProgram | Fd | undefined, name?: string): this {
    const p = this.spec.programs.get(program);
    if (!p) throw new UsageError('BAD_ARGUMENT', `${this.file}: no program named ${program}; its programs are: ${[...this.spec.programs.keys()].join(', ') || '(none)'}`);
    if (name !== undefined) p.attachTo = name;
    if (target) this.#attachTargets[program] = target;
    else delete this.#attachTargets[program];
    return this;
  }

  /**
   * Create the maps, relocate and load the programs whose `autoload` is true (all but SEC("?...")
   * ones, unless changed), or exactly `options.programs`.
   */
  load(options: LoadOptions = {}): LoadedObject {
    return loadObject(this.spec, this.#withTargets(options));
  }

  /**
   * load() that keeps the event loop running while the kernel works: each BPF_PROG_LOAD (the
   * verifier) runs on a worker thread and the kernel BTF is read asynchronously and indexed in
   * slices. The same steps as load(), the same LoadedObject and errors; `explain` narrates this
   * load only, also when loads overlap. What still runs on the event loop is short: map creation,
   * relocation, CO-RE (milliseconds; see README "What may block").
   */
  loadAsync(options: LoadOptions = {}): Promise<LoadedObject> {
    return loadObjectAsync(this.spec, this.#withTargets(options));
  }

  #withTargets(options: LoadOptions): LoadOptions {
    const attachTargets = { ...this.#attachTargets, ...options.attachTargets };
    return Object.keys(attachTargets).length ? { ...options, attachTargets } : options;
  }
}
