// Resolving .ksyms externs against the running kernel (libbpf's bpf_object__resolve_externs for
// EXT_KSYM):
//   untyped variable  `extern const void x __ksym`      → its address in /proc/kallsyms
//   typed variable    `extern const struct rq x __ksym` → its BTF VAR in vmlinux (then modules),
//                                                         type checked for compatibility
//   function (kfunc)  `extern void f(...) __ksym`       → its BTF FUNC, prototype checked; module
//                                                         kfuncs get an fd_array slot for their BTF
// A __weak extern the kernel lacks is left unresolved (0 / a poisoned call), a strong one is an
// error naming it, what was searched and why it did not match.
import { readFileSync } from 'node:fs';
import { typesAreCompat } from '../btf/core.js';
import { BtfKind, btfKindName } from '../btf/kinds.js';
import type { LazyBtf } from '../btf/lazy.js';
import { ObjectError, UsageError } from '../errors.js';
import type { ExternSpec, ExternValue, ObjectSpec } from '../object/index.js';
import { findOwn, type KernelBtfs } from './kernel-btf.js';

export interface ResolvedKsyms {
  values: Map<string, ExternValue>;
  /** fd_array for module kfuncs (index 0 unused, as libbpf), or undefined when no module kfunc is called. */
  fdArray?: number[];
  /** One line per extern, for the narration. */
  notes: string[];
}

/** The addresses of `names` in /proc/kallsyms (libbpf's kallsyms_cb: ".llvm.NNN" suffixes of data symbols dropped). */
export function kallsymsAddresses(names: ReadonlySet<string>, text = readFileSync('/proc/kallsyms', 'utf8')): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    if (a < 0 || b < 0) continue;
    const type = line[a + 1];
    let name = line.slice(b + 1);
    const tab = name.indexOf('\t');
    if (tab >= 0) name = name.slice(0, tab);
    const llvm = name.indexOf('.llvm.');
    if (type === 'd' && llvm >= 0) name = name.slice(0, llvm);
    if (!names.has(name)) continue;
    const addr = BigInt(`0x${line.slice(0, a)}`);
    const list = out.get(name) ?? [];
    if (!list.includes(addr)) list.push(addr);
    out.set(name, list);
  }
  return out;
}

/** libbpf's find_ksym_btf_id: vmlinux first, then each module's own types. */
function findKernel(kernel: KernelBtfs, name: string, kind: number): { btf: LazyBtf; id: number; module?: { name: string; fd: number } } | undefined {
  const v = findOwn(kernel.vmlinux, name, kind);
  if (v !== undefined) return { btf: kernel.vmlinux, id: v };
  for (const m of kernel.modules()) {
    const id = findOwn(m.btf, name, kind);
    if (id !== undefined) return { btf: m.btf, id, module: { name: m.name, fd: m.fd.value } };
  }
  return undefined;
}

function skipMods(btf: { type(id: number): import('../btf/kinds.js').BtfType }, id: number): number {
  for (let depth = 0; depth < 32; depth++) {
    const t = btf.type(id);
    if (t.kind === BtfKind.TYPEDEF || t.kind === BtfKind.VOLATILE || t.kind === BtfKind.CONST || t.kind === BtfKind.RESTRICT || t.kind === BtfKind.TYPE_TAG) id = t.type;
    else return id;
  }
  return id;
}

function typeName(btf: { type(id: number): import('../btf/kinds.js').BtfType }, id: number): string {
  const t = btf.type(id);
  return `[${id}] ${btfKindName(t.kind)} ${t.name || '(anon)'}`;
}

export function resolveKsyms(spec: ObjectSpec, kernel: () => KernelBtfs, kallsyms: (names: ReadonlySet<string>) => Map<string, bigint[]> = kallsymsAddresses): ResolvedKsyms {
  const out: ResolvedKsyms = { values: new Map(), notes: [] };
  const ksyms = [...spec.externs.values()].filter((e) => e.kind === 'ksym');
  if (ksyms.length === 0) return out;
  const local = spec.btf!;
  const fail = (e: ExternSpec, message: string): never => {
    throw new ObjectError(spec.file, `extern ${e.name} (${e.ksym!.func ? 'kfunc' : e.ksym!.typeId ? 'typed ksym' : 'untyped ksym'}): ${message}`, { section: '.ksyms' });
  };
  const missing: ExternSpec[] = [];

  const untyped = ksyms.filter((e) => !e.ksym!.func && e.ksym!.typeId === 0);
  if (untyped.length) {
    const found = kallsyms(new Set(untyped.map((e) => e.name)));
    for (const e of untyped) {
      const addrs = found.get(e.name);
      if (!addrs?.length) { missing.push(e); continue; }
      if (addrs.length > 1) fail(e, `its address is ambiguous in /proc/kallsyms: ${addrs.map((a) => `0x${a.toString(16)}`).join(' or ')} (libbpf: "resolution is ambiguous")`);
      out.values.set(e.name, { addr: addrs[0]! });
      out.notes.push(`extern ${e.name}: 0x${addrs[0]!.toString(16)} from /proc/kallsyms`);
    }
  }

  let fdArray: number[] | undefined;
  const moduleSlot = new Map<string, number>();
  for (const e of ksyms) {
    if (!e.ksym!.func && e.ksym!.typeId === 0) continue;
    const k = kernel();
    if (!e.ksym!.func) {
      const hit = findKernel(k, e.name, BtfKind.VAR);
      if (!hit) { missing.push(e); continue; }
      const targVar = hit.btf.type(hit.id) as { type: number };
      const targType = skipMods(hit.btf, targVar.type);
      if (!typesAreCompat(local, e.ksym!.typeId, hit.btf, targType)) {
        fail(e, `its type ${typeName(local, e.ksym!.typeId)} is incompatible with the kernel's ${typeName(hit.btf, targType)} (libbpf: "incompatible types")`);
      }
      out.values.set(e.name, { btfId: hit.id, btfObjFd: hit.module?.fd ?? 0, fdIndex: 0 });
      out.notes.push(`extern ${e.name}: BTF VAR [${hit.id}] in ${hit.module ? `module ${hit.module.name}` : 'vmlinux'}`);
      continue;
    }
    const hit = findKernel(k, e.essentialName, BtfKind.FUNC);
    if (!hit) { missing.push(e); continue; }
    const kernFunc = hit.btf.type(hit.id) as { type: number };
    if (!typesAreCompat(local, e.ksym!.typeId, hit.btf, kernFunc.type)) {
      if (e.weak) { missing.push(e); continue; }
      fail(e, `its prototype ${typeName(local, e.ksym!.typeId)} is incompatible with the kernel's ${typeName(hit.btf, kernFunc.type)} in ${hit.module ? `module ${hit.module.name}` : 'vmlinux'}` +
        ' (libbpf: "func_proto incompatible"; a forward-declared struct is incompatible with the kernel\'s struct: declare it complete)');
    }
    let fdIndex = 0;
    if (hit.module) {
      let slot = moduleSlot.get(hit.module.name);
      if (slot === undefined) {
        fdArray ??= [0];
        slot = fdArray.length;
        if (slot > 0x7fff) fail(e, 'too many module BTFs for the 16-bit fd_array index');
        fdArray.push(hit.module.fd);
        moduleSlot.set(hit.module.name, slot);
      }
      fdIndex = slot;
    }
    out.values.set(e.name, { btfId: hit.id, btfObjFd: hit.module?.fd ?? 0, fdIndex });
    out.notes.push(`extern ${e.name}: BTF FUNC [${hit.id}] in ${hit.module ? `module ${hit.module.name} (fd_array[${fdIndex}])` : 'vmlinux'}`);
  }
  out.fdArray = fdArray;

  for (const e of missing) {
    if (e.weak) { out.notes.push(`extern ${e.name} (weak): not in this kernel, reads as 0`); continue; }
    const where = !e.ksym!.func && e.ksym!.typeId === 0
      ? 'it is not in /proc/kallsyms (data symbols are there only with CONFIG_KALLSYMS_ALL)'
      : `this kernel's BTF (vmlinux${kernel().modules().length ? ` and ${kernel().modules().length} modules` : ''}) has no ${e.ksym!.func ? 'FUNC' : 'VAR'} ${e.ksym!.func ? e.essentialName : e.name}`;
    throw new UsageError('NOT_SUPPORTED', `${spec.file}: extern ${e.name} (strong) cannot be resolved: ${where} (libbpf: "extern '${e.name}' (strong): not resolved")`, {
      hint: e.ksym!.func ? 'the kfunc is newer than this kernel or in a module that is not loaded; declare it __weak and guard the call with bpf_ksym_exists()' : 'declare it __weak and test its address before use, or leave out the program that needs it',
    });
  }
  return out;
}
