// setGlobal(): change a global variable's initial value in its data map's contents before load.
// Numbers and bigints are written little-endian in the variable's size; Buffers must match it.
import { UsageError } from '../errors.js';
import type { GlobalSpec, ObjectSpec } from './spec.js';

export function setGlobal(spec: ObjectSpec, name: string, value: number | bigint | Buffer): void {
  const global = spec.globals.get(name);
  if (!global) {
    const known = [...spec.globals.keys()].sort().join(', ') || '(none)';
    throw new UsageError('BAD_ARGUMENT', `${spec.file}: no global variable named "${name}"; the object's globals are: ${known}`);
  }
  const map = spec.maps.get(global.section);
  if (!map?.contents) {
    throw new UsageError('BAD_ARGUMENT', `${spec.file}: global ${name} lives in section ${global.section}, but that data map is missing from the spec`);
  }
  if (global.offset + global.size > map.contents.length) {
    throw new UsageError('BAD_ARGUMENT', `${spec.file}: global ${name} (offset ${global.offset}, size ${global.size}) does not fit in map ${map.name} (${map.contents.length} bytes)`);
  }
  map.contents.set(encodeValue(spec.file, global, value), global.offset);
}

/** The bytes to store for `value` in a global of `global.size` bytes. */
function encodeValue(file: string, global: GlobalSpec, value: number | bigint | Buffer): Buffer {
  const { name, size } = global;
  const bad = (rest: string) => new UsageError('BAD_ARGUMENT', `${file}: global ${name} ${rest}`);
  if (Buffer.isBuffer(value)) {
    if (value.length !== size) throw bad(`is ${size} bytes; the Buffer given is ${value.length} bytes`);
    return value;
  }
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw bad(`is ${size} bytes: set it with a Buffer of ${size} bytes, not a number`);
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw bad(`takes an integer: ${value} is not one a number can hold exactly (use a bigint)`);
  }
  const big = BigInt(value);
  const bits = BigInt(size * 8);
  // Accept both the signed and the unsigned range of the variable's size.
  const min = -(1n << (bits - 1n));
  const max = (1n << bits) - 1n;
  if (big < min || big > max) {
    throw bad(`is ${size} bytes: ${value} is outside ${min}..${max}`);
  }
  const out = Buffer.alloc(size);
  let bitsLeft = BigInt.asUintN(size * 8, big); // two's complement for negative values
  for (let i = 0; i < size; i++, bitsLeft >>= 8n) out[i] = Number(bitsLeft & 0xffn);
  return out;
}
