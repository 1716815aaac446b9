// BpfObject: an object file opened and parsed by the pure object layer (no kernel), whose specs the
// caller may adjust before load() puts it into the kernel — libbpf's open/load split.
import { readFileSync } from 'node:fs';
import { ObjectError } from '../errors.js';
import { parseObject, setGlobal, type FunctionSpec, type GlobalSpec, type MapSpec, type ObjectSpec, type ProgramSpec } from '../object/index.js';
import { loadObject, type LoadedObject, type LoadOptions } from './load.js';

export class BpfObject {
  readonly spec: ObjectSpec;

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

  /** Create the maps, relocate and load every program. */
  load(options: LoadOptions = {}): LoadedObject {
    return loadObject(this.spec, options);
  }
}
