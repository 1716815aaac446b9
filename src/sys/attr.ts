// union bpf_attr as a zeroed, sized Buffer. Pointer fields hold the addresses of other Buffers, which
// the Attr keeps referenced so that they stay alive until the syscall has returned.
import { ATTR_SIZE } from './constants.js';
import { libc } from './libc.js';

export class Attr {
  readonly buf = Buffer.alloc(ATTR_SIZE);
  /** Buffers whose addresses are stored in `buf`: referenced here so the GC cannot free them early. */
  readonly #kept: Buffer[] = [];
  /** The same buffers by address, so the --explain narration can show what a pointer field points at. */
  readonly #byAddress = new Map<bigint, Buffer>();

  u32(offset: number, value: number): this {
    this.buf.writeUInt32LE(value >>> 0, offset);
    return this;
  }

  u64(offset: number, value: bigint | number): this {
    this.buf.writeBigUInt64LE(BigInt(value), offset);
    return this;
  }

  /** Store a pointer to `data` (or NULL when absent or empty). */
  ptr(offset: number, data: Buffer | undefined): this {
    if (data && data.length > 0) this.buf.writeBigUInt64LE(this.addressOf(data), offset);
    return this;
  }

  /** The address of `data`, kept alive as long as this attr: for pointers nested in pointed-to structs. */
  addressOf(data: Buffer): bigint {
    this.#kept.push(data);
    const address = libc().address(data);
    this.#byAddress.set(address, data);
    return address;
  }

  /** The buffer a pointer field at `offset` points at, when this attr stored it (undefined for NULL). */
  pointee(offset: number): Buffer | undefined {
    return this.#byAddress.get(this.buf.readBigUInt64LE(offset));
  }

  /** A NUL-terminated C string, stored as a pointer. */
  str(offset: number, s: string): this {
    return this.ptr(offset, Buffer.from(s + '\0', 'utf8'));
  }

  /** A fixed char[n] field inside the attr (object names). Truncated to n-1 bytes plus NUL. */
  name(offset: number, s: string, n = 16): this {
    this.buf.write(s.slice(0, n - 1), offset, 'latin1');
    return this;
  }
}
