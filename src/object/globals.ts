// setGlobal(): change a global variable's initial value in its data map's contents before load.
// Numbers and bigints are written little-endian in the variable's size; Buffers must match it.
import type { GlobalSpec, ObjectSpec } from './spec.js';

export function setGlobal(spec: ObjectSpec, name: string, value: number | bigint | Buffer): void {
  const global = spec.globals.get(name);
  if (!global) {
    const known = [...spec.globals.keys()].sort().join(', ') || '(none)';
    throw new Error(`${spec.file}: no global variable named "${name}"; the object's globals are: ${known}`);
  }
  const map = spec.maps.get(global.section);
  if (!map?.contents) {
    throw new Error(`${spec.file}: global ${name} lives in section ${global.section}, but that data map is missing from the spec`);
  }
  if (global.offset + global.size > map.contents.length) {
    throw new Error(`${spec.file}: global ${name} (offset ${global.offset}, size ${global.size}) does not fit in map ${map.name} (${map.contents.length} bytes)`);
  }
  map.contents.set(encodeValue(global, value), global.offset);
}

/** The bytes to store for `value` in a global of `global.size` bytes. */
function encodeValue(global: GlobalSpec, value: number | bigint | Buffer): Buffer {
  const { name, size } = global;
  if (Buffer.isBuffer(value)) {
    if (value.length !== size) throw new Error(`global ${name} is ${size} bytes; the Buffer given is ${value.length} bytes`);
    return value;
  }
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new Error(`global ${name} is ${size} bytes: set it with a Buffer of ${size} bytes, not a number`);
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new Error(`global ${name}: ${value} is not an integer that a number can hold exactly (use a bigint)`);
  }
  const big = BigInt(value);
  const bits = BigInt(size * 8);
  // Accept both the signed and the unsigned range of the variable's size.
  const min = -(1n << (bits - 1n));
  const max = (1n << bits) - 1n;
  if (big < min || big > max) {
    throw new RangeError(`global ${name} is ${size} bytes: ${value} is outside ${min}..${max}`);
  }
  const out = Buffer.alloc(size);
  let bitsLeft = BigInt.asUintN(size * 8, big); // two's complement for negative values
  for (let i = 0; i < size; i++, bitsLeft >>= 8n) out[i] = Number(bitsLeft & 0xffn);
  return out;
}
