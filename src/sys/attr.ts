// A bpf_attr (or an info struct) in memory: a zeroed Buffer of the layout's size, filled from values by
// the layout's encoder. Buffers that pointer fields point at are kept referenced here, so the GC cannot
// free them before the syscall returns; the narration finds them again by address.
import { encodeInto, readField, type Decodes, type Layout, type Values } from '../uapi/layout.js';
import { libc } from './libc.js';

export class Attr<L extends Layout = Layout> {
  readonly layout: L;
  readonly buf: Buffer;
  readonly #kept = new Map<bigint, Buffer>();

  constructor(layout: L, values: Values<L> = {} as Values<L>) {
    this.layout = layout;
    this.buf = Buffer.alloc(layout.size);
    encodeInto(layout, values, this.buf, (b) => this.addressOf(b));
  }

  /** The address of `data`, kept alive as long as this attr (also for pointers nested in pointed-to structs). */
  addressOf(data: Buffer): bigint {
    const address = libc().address(data);
    this.#kept.set(address, data);
    return address;
  }

  /** The buffer at `address`, when this attr stored it. */
  pointee(address: bigint): Buffer | undefined {
    return this.#kept.get(address);
  }

  /** A field as the kernel left it (out fields after the call). */
  get<N extends L['fields'][number]['name']>(name: N): Decodes<Extract<L['fields'][number], { name: N }>['kind']> {
    const f = this.layout.byName.get(name);
    if (!f) throw new Error(`${this.layout.title} has no field ${name}`);
    return readField(f, this.buf) as Decodes<Extract<L['fields'][number], { name: N }>['kind']>;
  }
}
