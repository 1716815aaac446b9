// Builds BTF blobs word by word, independently of src/btf/encode.ts, so decoding can be tested on
// kinds clang 14 never emits (ENUM64, TYPE_TAG, DECL_TAG, FLOAT, ...) and on deliberately bad input.

export class BtfBuilder {
  private words: number[] = [];
  private strs: string[] = [''];
  private strBytes = 1;
  private offsets = new Map<string, number>([['', 0]]);
  count = 0;

  /** Offset of `s` in the string section (added on first use). */
  str(s: string): number {
    const known = this.offsets.get(s);
    if (known !== undefined) return known;
    const off = this.strBytes;
    this.offsets.set(s, off);
    this.strs.push(s);
    this.strBytes += Buffer.byteLength(s) + 1;
    return off;
  }

  /** Adds one type: name, kind, vlen, kind_flag, size/type, then its extra words. Returns its id. */
  type(name: string, kind: number, vlen: number, kindFlag: boolean, sizeOrType: number, ...extra: number[]): number {
    this.words.push(this.str(name), ((kindFlag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0, sizeOrType >>> 0, ...extra.map((w) => w >>> 0));
    return ++this.count;
  }

  /** Raw words appended to the type section (for building broken input). */
  raw(...words: number[]): void {
    this.words.push(...words.map((w) => w >>> 0));
  }

  build(): Buffer {
    const types = Buffer.alloc(this.words.length * 4);
    this.words.forEach((w, i) => types.writeUInt32LE(w, i * 4));
    const strings = Buffer.concat(this.strs.map((s) => Buffer.from(s + '\0')));
    const header = Buffer.alloc(24);
    header.writeUInt16LE(0xeb9f, 0);
    header[2] = 1;
    header.writeUInt32LE(24, 4);
    header.writeUInt32LE(0, 8);
    header.writeUInt32LE(types.length, 12);
    header.writeUInt32LE(types.length, 16);
    header.writeUInt32LE(strings.length, 20);
    return Buffer.concat([header, types, strings]);
  }
}
