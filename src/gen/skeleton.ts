// What a generated module (gen/typescript.ts) runs on: an object opened against the layouts the
// module was generated from. open() refuses an object whose maps, programs or globals differ from
// them (a stale module would otherwise misread bytes); setGlobal() encodes by the global's BTF type;
// load() hands back the maps already typed and the programs by name.
import { codecFor } from '../btf/codec.js';
import { UsageError } from '../errors.js';
import { BpfObject } from '../load/bpf-object.js';
import type { LoadedObject, LoadOptions } from '../load/load.js';
import type { LoadedProgram } from '../load/loaded-program.js';
import type { MapSpec, ProgramSpec } from '../object/index.js';
import { globalLayouts, mapLayouts } from './layout.js';

/** The layouts a generated module records (map signature null: the map is untyped). */
export interface SkeletonLayout {
  readonly object: string;
  readonly programs: readonly string[];
  readonly maps: { readonly [name: string]: string | null };
  readonly globals: { readonly [name: string]: string };
}

const REGENERATE = 'run `sockaccel-ffi gen` on this object again to update the generated module';

export class Skeleton<Maps, Program extends string, Globals> {
  /** The object underneath (program options, attach targets, anything the module does not type). */
  readonly object: BpfObject;
  readonly #layout: SkeletonLayout;

  private constructor(object: BpfObject, layout: SkeletonLayout) {
    this.object = object;
    this.#layout = layout;
  }

  /** Open `file` and check it against `layout`: a UsageError (MISMATCH) lists every difference. */
  static open<Maps, Program extends string, Globals>(file: string | Buffer, layout: SkeletonLayout): Skeleton<Maps, Program, Globals> {
    const object = BpfObject.open(file);
    const spec = object.spec;
    const problems: string[] = [];
    const maps = new Map(mapLayouts(spec).map((m) => [m.spec.name, m]));
    for (const [name, signature] of Object.entries(layout.maps)) {
      const m = maps.get(name);
      if (!m) problems.push(`map ${name} is gone`);
      else if ((m.signature ?? null) !== signature) problems.push(`map ${name} has other key/value types (now ${m.signature ?? 'untyped'}, was ${signature ?? 'untyped'})`);
    }
    for (const name of maps.keys()) if (!(name in layout.maps)) problems.push(`map ${name} is new`);
    for (const name of layout.programs) if (!spec.programs.has(name)) problems.push(`program ${name} is gone`);
    const globals = new Map(globalLayouts(spec).map((g) => [g.spec.name, g]));
    for (const [name, signature] of Object.entries(layout.globals)) {
      const g = globals.get(name);
      if (!g) problems.push(`global ${name} is gone`);
      else if (g.signature !== signature) problems.push(`global ${name} has another type (now ${g.signature}, was ${signature})`);
    }
    if (problems.length) {
      throw new UsageError('MISMATCH', `${spec.file} is not the object the generated module for ${layout.object} was made from: ${problems.join('; ')}`, { hint: REGENERATE });
    }
    return new Skeleton<Maps, Program, Globals>(object, layout);
  }

  /** The spec of map `name`, to change before load() (maxEntries, flags, pinning, autocreate). */
  mapSpec(name: keyof Maps & string): MapSpec {
    const m = this.object.maps.get(name);
    if (!m) throw new UsageError('BAD_ARGUMENT', `${this.object.spec.file}: no map named ${name}`, { hint: REGENERATE });
    return m;
  }

  /** The spec of program `name`, to change before load() (autoload, type, attachTo, flags). */
  programSpec(name: Program): ProgramSpec {
    const p = this.object.programs.get(name);
    if (!p) throw new UsageError('BAD_ARGUMENT', `${this.object.spec.file}: no program named ${name}`, { hint: REGENERATE });
    return p;
  }

  /** Set a global before load(), encoded from its BTF type (numbers, bigints, enum names, strings, structs). */
  setGlobal<N extends keyof Globals & string>(name: N, value: Globals[N]): this {
    const g = this.object.globals.get(name);
    const btf = this.object.spec.btf;
    if (!g?.btfTypeId || !btf || !(name in this.#layout.globals)) {
      throw new UsageError('BAD_ARGUMENT', `${this.object.spec.file}: no settable global named ${name} (the generated module knows: ${Object.keys(this.#layout.globals).join(', ') || 'none'})`, { hint: REGENERATE });
    }
    this.object.setGlobal(name, codecFor(btf, g.btfTypeId, `global ${name} of ${this.object.spec.file}`, name).encode(value));
    return this;
  }

  /** Load into the kernel: the maps typed as the module says, the programs by name. */
  load(options: LoadOptions = {}): LoadedSkeleton<Maps, Program> {
    return new LoadedSkeleton<Maps, Program>(this.object.load(options), this.#layout);
  }
}

export class LoadedSkeleton<Maps, Program extends string> {
  readonly loaded: LoadedObject;
  readonly maps: Maps;
  /** Each program by name; reading one that was not loaded (autoload off, LoadOptions.programs) is a UsageError. */
  readonly programs: { readonly [P in Program]: LoadedProgram };

  /** @internal */
  constructor(loaded: LoadedObject, layout: SkeletonLayout) {
    this.loaded = loaded;
    const maps: Record<string, unknown> = {};
    for (const [name, signature] of Object.entries(layout.maps)) {
      const map = loaded.maps.get(name);
      // A map the loader left out (a data section nothing uses) reads as a clear error.
      Object.defineProperty(maps, name, {
        enumerable: true,
        get: () => {
          if (!map) throw new UsageError('NOT_SUPPORTED', `map ${name} of ${layout.object} was not created by this load`, { hint: 'see LoadedObject.maps for the maps that were' });
          return signature === null ? map : typedOnce(map);
        },
      });
    }
    this.maps = maps as Maps;
    const programs: Record<string, LoadedProgram> = {};
    for (const name of layout.programs) {
      Object.defineProperty(programs, name, {
        enumerable: true,
        get: () => {
          const p = loaded.programs.get(name);
          if (!p) throw new UsageError('NOT_SUPPORTED', `program ${name} of ${layout.object} was not loaded (autoload off, or not in LoadOptions.programs)`, { hint: 'load it: LoadOptions.programs, or turn autoload on before load()' });
          return p;
        },
      });
    }
    this.programs = programs as { readonly [P in Program]: LoadedProgram };
  }

  close(): void {
    this.loaded.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const typedMaps = new WeakMap<object, unknown>();

/** One TypedMap per map, so `maps.x` is the same object each time. */
function typedOnce(map: import('../maps/map.js').BpfMap): unknown {
  let t = typedMaps.get(map);
  if (!t) typedMaps.set(map, (t = map.typed()));
  return t;
}
