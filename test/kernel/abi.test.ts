// Every layout in src/uapi (each bpf() command's part of union bpf_attr, and the info structs) checked
// field by field against the running kernel's own description of them: its BTF. A round trip could
// not catch an offset wrong on both sides; this can. Fields newer than the running kernel (beyond
// its struct's end, or in a union member it does not have yet) are listed, not failed.
import { release } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { LazyBtf } from '../../src/btf/lazy.js';
import { BtfKind, type BtfComposite, type BtfMember, type BtfType } from '../../src/btf/kinds.js';
import * as attrs from '../../src/uapi/attr.js';
import * as infos from '../../src/uapi/info.js';
import * as perf from '../../src/uapi/perf.js';
import * as attach from '../../src/uapi/attach.js';
import * as netlink from '../../src/uapi/netlink.js';
import * as enums from '../../src/uapi/enums.js';
import type { Field, Layout } from '../../src/uapi/layout.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const t = suite('abi: layouts vs the running kernel\'s BTF');
const have = existsSync(VMLINUX);
const run = have ? t : t.skip;
if (!have) console.log(`  skipped: ${VMLINUX} is missing (kernel built without CONFIG_DEBUG_INFO_BTF): nothing to check against`);

let btfCache: LazyBtf | undefined;
const btf = () => (btfCache ??= LazyBtf.read(VMLINUX));

function skip(id: number): BtfType {
  let ty = btf().type(id);
  while (ty.kind === BtfKind.TYPEDEF || ty.kind === BtfKind.VOLATILE || ty.kind === BtfKind.CONST || ty.kind === BtfKind.RESTRICT || ty.kind === BtfKind.TYPE_TAG) ty = btf().type((ty as { type: number }).type);
  return ty;
}

function sizeOf(id: number): number {
  const ty = skip(id);
  if (ty.kind === BtfKind.ARRAY) return sizeOf(ty.type) * ty.nelems;
  if (ty.kind === BtfKind.PTR) return 8;
  return (ty as { size: number }).size;
}

const composite = (ty: BtfType): ty is BtfComposite => ty.kind === BtfKind.STRUCT || ty.kind === BtfKind.UNION;

/** A member by name, looking through anonymous members (C's transparent unions/structs). Offset in bits. */
function findMember(ty: BtfComposite, name: string, base = 0): { member: BtfMember; bitOffset: number } | undefined {
  for (const m of ty.members) {
    if (m.name === name) return { member: m, bitOffset: base + m.bitOffset };
    if (!m.name) {
      const inner = skip(m.type);
      if (composite(inner)) {
        const r = findMember(inner, name, base + m.bitOffset);
        if (r) return r;
      }
    }
  }
  return undefined;
}

function structByName(name: string): BtfComposite {
  const id = btf().idsByEssentialName(name).find((i) => {
    const ty = btf().type(i);
    return composite(ty) && ty.members.length > 0;
  });
  if (id === undefined) throw new Error(`the kernel's BTF has no ${name}`);
  return btf().type(id) as BtfComposite;
}

/** The struct a layout describes, and its offset inside union bpf_attr (always 0). */
function locate(l: Layout): BtfComposite {
  const where = l.btf;
  if ('struct' in where) return structByName(where.struct);
  const attr = structByName('bpf_attr');
  if ('attrMember' in where) {
    const m = attr.members.find((x) => x.name === where.attrMember);
    if (!m) throw new Error(`union bpf_attr has no member ${where.attrMember}`);
    return skip(m.type) as BtfComposite;
  }
  for (const m of attr.members) {
    if (m.name) continue;
    const inner = skip(m.type);
    if (composite(inner) && findMember(inner, where.attrAnonymousWith)) return inner;
  }
  throw new Error(`union bpf_attr has no anonymous struct with a member ${where.attrAnonymousWith}`);
}

/** Is kernel release `r` ("6.1.0-57-amd64") older than `v` ("6.4")? */
function olderThan(r: string, v: string): boolean {
  const a = r.split(/[.-]/).slice(0, 2).map(Number);
  const b = v.split('.').map(Number);
  return a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!);
}

interface FieldCheck { field: Field; status: 'ok' | 'newer' | 'wrong'; detail: string }

function checkField(struct: BtfComposite, f: Field): FieldCheck {
  const parts = f.name.split('.');
  let ty: BtfType = struct;
  let bits = 0;
  let member: BtfMember | undefined;
  for (let i = 0; i < parts.length; i++) {
    if (!composite(ty)) return { field: f, status: 'wrong', detail: `${parts.slice(0, i).join('.')} is not a struct` };
    const found = findMember(ty, parts[i]!, bits);
    if (!found) {
      // Newer than this kernel: past the end of its struct, in a union member it does not have, or
      // marked with the release that added it (a member of a union added later).
      const newer = f.offset >= struct.size || i === 0 && parts.length > 1 || (f.since !== undefined && olderThan(release(), f.since));
      return { field: f, status: newer ? 'newer' : 'wrong', detail: `${f.name} is not in this kernel's ${parts.slice(0, i).join('.') || 'struct'}` };
    }
    member = found.member;
    bits = found.bitOffset;
    ty = skip(member.type);
  }
  const offset = bits / 8;
  const size = f.kind === 'bit0' ? 4 : member!.bitfieldSize ? member!.bitfieldSize / 8 : sizeOf(member!.type);
  if (f.kind === 'bit0') {
    const ok = bits === f.offset * 8 && member!.bitfieldSize === 1;
    return { field: f, status: ok ? 'ok' : 'wrong', detail: `${f.name}: bit ${bits} size ${member!.bitfieldSize} bits; we say bit 0 of the u32 at ${f.offset}` };
  }
  const ok = offset === f.offset && size === f.size;
  return { field: f, status: ok ? 'ok' : 'wrong', detail: `${f.name}: kernel offset ${offset} size ${size}; ours ${f.offset} size ${f.size}` };
}

const layouts: Layout[] = ([...Object.values(attrs), ...Object.values(infos), ...Object.values(perf), ...Object.values(attach), ...Object.values(netlink)] as unknown[]).filter((v): v is Layout => typeof v === 'object' && v !== null && 'fields' in v && 'btf' in v);

run('every field of every layout is where the kernel has it, with its size', () => {
  const wrong: string[] = [];
  const newer: string[] = [];
  let fields = 0;
  for (const l of layouts) {
    const struct = locate(l);
    for (const f of l.fields) {
      fields++;
      const c = checkField(struct, f);
      if (c.status === 'wrong') wrong.push(`${l.title}: ${c.detail}`);
      if (c.status === 'newer') newer.push(`${l.title}: ${f.name}`);
    }
  }
  console.log(`  checked ${fields} fields of ${layouts.length} layouts (${layouts.map((l) => l.title.replace(/ attr$/, '')).join(', ')})`);
  if (newer.length) console.log(`  newer than this kernel (not checked here): ${newer.join('; ')}`);
  assert.equal(wrong, [], wrong.join('\n'));
  assert.ok(fields > 200, `only ${fields} fields checked`);
});

run('no layout is larger than union bpf_attr / its struct (no stray bytes past what the kernel knows)', () => {
  const attrSize = structByName('bpf_attr').size;
  for (const l of layouts) {
    const struct = locate(l);
    const known = l.fields.filter((f) => checkField(struct, f).status === 'ok');
    const end = Math.max(...known.map((f) => f.offset + f.size));
    assert.ok(end <= ('struct' in l.btf ? struct.size : attrSize), `${l.title}: known fields end at ${end}`);
  }
});

run('the enums have the kernel\'s values', () => {
  const checks: [Readonly<Record<string, number>>, string, string][] = [
    [enums.Cmd, 'bpf_cmd', 'BPF_'], [enums.MapType, 'bpf_map_type', 'BPF_MAP_TYPE_'], [enums.ProgType, 'bpf_prog_type', 'BPF_PROG_TYPE_'],
    [enums.AttachType, 'bpf_attach_type', 'BPF_'], [enums.LinkType, 'bpf_link_type', 'BPF_LINK_TYPE_'],
  ];
  const wrong: string[] = [];
  let n = 0;
  for (const [ours, name, prefix] of checks) {
    const id = btf().idsByEssentialName(name).find((i) => btf().kindOf(i) === BtfKind.ENUM)!;
    const kernel = new Map((btf().type(id) as { values: { name: string; value: number }[] }).values.map((v) => [v.name.slice(prefix.length), v.value]));
    const max = Math.max(...kernel.values());
    for (const [k, v] of Object.entries(ours)) {
      n++;
      const kv = kernel.get(k);
      // Newer than this kernel: a value past its last one.
      if (kv === undefined ? v <= max - 1 : kv !== v) wrong.push(`${name} ${k}: kernel ${kv}, ours ${v}`);
    }
  }
  console.log(`  checked ${n} enum values`);
  assert.equal(wrong, [], wrong.join('\n'));
});

t.run();
