// Arrays that bpf_attr fields point at (kprobe.multi symbol names, uprobe.multi offsets). A pointer
// array keeps the Buffers it points into alive for as long as it lives itself; the Attr that points
// at the array keeps the array alive until the syscall has returned.
import { libc } from './libc.js';

const kept = new WeakMap<Buffer, Buffer[]>();

/** A `const char **`: one pointer per string, each to a NUL-terminated copy. */
export function cStringArray(strings: readonly string[]): Buffer {
  const out = Buffer.alloc(strings.length * 8);
  const bufs = strings.map((s) => Buffer.from(s + '\0', 'utf8'));
  bufs.forEach((b, i) => out.writeBigUInt64LE(libc().address(b), i * 8));
  kept.set(out, bufs);
  return out;
}

/** A `__u64 *` array. */
export function u64Array(values: readonly (bigint | number)[]): Buffer {
  const out = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => out.writeBigUInt64LE(BigInt(v), i * 8));
  return out;
}
