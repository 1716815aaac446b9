// Which BTF kinds the running kernel accepts: one tiny BTF_LOAD per feature, asked only for features
// an object actually uses, and remembered for the process (as libbpf's kernel feature probes).
import type { BtfFeatures } from '../btf/sanitize.js';
import { btfLoadTry } from '../sys/commands.js';

const INT = 1, PTR = 2, FUNC = 12, FUNC_PROTO = 13, VAR = 14, DATASEC = 15, FLOAT = 16, DECL_TAG = 17, TYPE_TAG = 18, ENUM64 = 19;
const info = (kind: number, vlen = 0, kflag = false) => ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0;
/** INT "int": 4 bytes, signed, 32 bits. */
const intType = (name: number) => [name, info(INT), 4, (1 << 24) | 32];

/** A BTF blob of these type words and NUL-separated strings (strings[0] must be ''). */
function blob(words: number[], strings: string[]): Buffer {
  const types = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => types.writeUInt32LE(w >>> 0, i * 4));
  const strs = Buffer.from(strings.join('\0') + '\0');
  const h = Buffer.alloc(24);
  h.writeUInt16LE(0xeb9f, 0); h[2] = 1; h.writeUInt32LE(24, 4);
  h.writeUInt32LE(0, 8); h.writeUInt32LE(types.length, 12); h.writeUInt32LE(types.length, 16); h.writeUInt32LE(strs.length, 20);
  return Buffer.concat([h, types, strs]);
}

// Strings: '' 0, 'int' 1, 'x' 5, 'a' 7, '.data' 9, 'tag' 15, 'float' 19
const S = ['', 'int', 'x', 'a', '.data', 'tag', 'float'];
const PROBES: Record<keyof BtfFeatures, Buffer> = {
  func: blob([...intType(1), 0, info(FUNC_PROTO, 1), 1, 5, 1, 7, info(FUNC, 0), 2], S),
  funcGlobal: blob([...intType(1), 0, info(FUNC_PROTO, 1), 1, 5, 1, 7, info(FUNC, 1), 2], S),
  datasec: blob([...intType(1), 5, info(VAR), 1, 1, 9, info(DATASEC, 1), 4, 2, 0, 4], S),
  float: blob([19, info(FLOAT), 4], S),
  declTag: blob([...intType(1), 5, info(VAR), 1, 1, 15, info(DECL_TAG), 2, 0xffffffff], S),
  typeTag: blob([...intType(1), 15, info(TYPE_TAG), 1, 0, info(PTR), 2], S),
  enum64: blob([7, info(ENUM64, 1), 8, 5, 1, 0], S),
};

const known = new Map<keyof BtfFeatures, boolean>();
let basic: boolean | undefined;

/** Does the kernel load BTF at all (the simplest blob: one INT)? */
export function kernelHasBtf(): boolean {
  if (basic === undefined) {
    const r = btfLoadTry(blob(intType(1), S), undefined, 0, 'BTF probe (int)');
    r.fd?.close();
    basic = r.fd !== undefined;
  }
  return basic;
}

/** The features asked for, probed once per process; features not asked for are reported as present. */
export function probeBtfFeatures(wanted: Iterable<keyof BtfFeatures>): BtfFeatures {
  const f: BtfFeatures = { func: true, funcGlobal: true, datasec: true, float: true, declTag: true, typeTag: true, enum64: true };
  for (const name of wanted) {
    let ok = known.get(name);
    if (ok === undefined) {
      const r = btfLoadTry(PROBES[name], undefined, 0, `BTF probe (${name})`);
      r.fd?.close();
      ok = r.fd !== undefined;
      known.set(name, ok);
    }
    f[name] = ok;
  }
  return f;
}

/** The probe blobs, for tests that check each one is accepted on this kernel. */
export const btfProbeBlobs: Readonly<Record<keyof BtfFeatures, Buffer>> = PROBES;
