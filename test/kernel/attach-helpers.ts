// Helpers of the attach-kind tests: a fixture object loaded with some of its programs, and its
// global variables (counters in .bss/.data) read and written while it runs.
import { arch } from 'node:process';
import { BpfObject, type LoadedObject } from '../../src/index.js';
import { fixture } from './helpers.js';

export interface Fixture {
  obj: BpfObject;
  loaded: LoadedObject;
  /** A u64 (or, with size 4/2, a u32/u16) global as the programs left it. */
  get(name: string): number;
  /** Write a global of .bss/.data while the programs run. */
  set(name: string, value: number): void;
  close(): void;
}

/** Open fixture `file`, keep only `keep` (all when empty), set `globals` (.rodata ones too) and load. */
export function loadFixture(file: string, keep: string[] = [], globals: Record<string, number> = {}, adjust?: (obj: BpfObject) => void): Fixture {
  const obj = BpfObject.open(fixture(file));
  if (keep.length) for (const n of [...obj.programs.keys()]) if (!keep.includes(n)) obj.programs.delete(n);
  for (const [k, v] of Object.entries(globals)) obj.setGlobal(k, v);
  adjust?.(obj);
  const loaded = obj.load();
  const where = (name: string) => {
    const g = obj.globals.get(name);
    if (!g) throw new Error(`${file} has no global ${name}`);
    const map = loaded.maps.get(g.section);
    if (!map) throw new Error(`${file}: no map for ${g.section}`);
    return { g, map };
  };
  const read = (b: Buffer, off: number, size: number) => (size === 8 ? Number(b.readBigUInt64LE(off)) : size === 4 ? b.readUInt32LE(off) : size === 2 ? b.readUInt16LE(off) : b.readUInt8(off));
  return {
    obj, loaded,
    get(name) {
      const { g, map } = where(name);
      return read(map.lookup(Buffer.alloc(4))!, g.offset, g.size);
    },
    set(name, value) {
      const { g, map } = where(name);
      const b = map.lookup(Buffer.alloc(4))!;
      if (g.size === 8) b.writeBigUInt64LE(BigInt(value), g.offset);
      else if (g.size === 4) b.writeUInt32LE(value, g.offset);
      else if (g.size === 2) b.writeUInt16LE(value, g.offset);
      else b.writeUInt8(value, g.offset);
      map.update(Buffer.alloc(4), b);
    },
    close: () => loaded.close(),
  };
}

/** Why a test of x86_64-specific fixtures (register names, __x64_sys_* functions) cannot run here. */
export const notX64 = arch === 'x64' ? undefined : `the fixture uses x86_64 registers and syscall functions; this is ${arch}`;
