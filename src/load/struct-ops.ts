// struct_ops maps against the kernel's BTF (libbpf's bpf_map__init_kern_struct_ops): the local
// struct (say tcp_congestion_ops) is matched to the kernel's by name, and its kernel value type
// bpf_struct_ops_<name> gives the map's value size and btf_vmlinux_value_type_id. Members are
// matched by name: a function pointer member names a struct_ops program, which loads with
// attach_btf_id = the kernel struct and expected_attach_type = the member's index in it; other
// members are copied into the kernel layout (sizes must agree). A member the kernel lacks must be
// zero (a program assigned to it is then not loaded). The value is written with the programs' fds
// when the map is registered (attached), as libbpf does; load() only prepares it.
import { resolveSize } from '../btf/core.js';
import { BtfKind, btfKindName, type BtfComposite, type BtfType } from '../btf/kinds.js';
import { essentialName, type LazyBtf } from '../btf/lazy.js';
import { ObjectError, UsageError } from '../errors.js';
import type { MapSpec, ObjectSpec } from '../object/index.js';
import { findOwn, type KernelBtfs } from './kernel-btf.js';

const VALUE_PREFIX = 'bpf_struct_ops_';

export interface PreparedStructOps {
  map: string;
  valueSize: number;
  btfVmlinuxValueTypeId: number;
  /** The module whose BTF has the type (value_type_btf_obj_fd), when not vmlinux. */
  module?: { name: string; fd: number };
  /** The kernel value (bpf_struct_ops_<name>) with the scalar members filled; program fds go at funcOffsets. */
  value: Buffer;
  /** Program → byte offset of its function pointer in `value`. */
  funcOffsets: Map<string, number>;
  /** Program → what it loads with. */
  programs: Map<string, { attachBtfId: number; expectedAttachType: number; attachBtfObjFd?: number }>;
}

function skipMods(btf: { type(id: number): BtfType }, id: number): { t: BtfType; id: number } {
  let t = btf.type(id);
  for (let depth = 0; depth < 32; depth++) {
    if (t.kind === BtfKind.TYPEDEF || t.kind === BtfKind.VOLATILE || t.kind === BtfKind.CONST || t.kind === BtfKind.RESTRICT || t.kind === BtfKind.TYPE_TAG) {
      id = t.type;
      t = btf.type(id);
    } else break;
  }
  return { t, id };
}

function findKernelStruct(kernel: KernelBtfs, name: string): { btf: LazyBtf; id: number; module?: { name: string; fd: number } } | undefined {
  const v = findOwn(kernel.vmlinux, name, BtfKind.STRUCT);
  if (v !== undefined) return { btf: kernel.vmlinux, id: v };
  for (const m of kernel.modules()) {
    const id = findOwn(m.btf, name, BtfKind.STRUCT);
    if (id !== undefined) return { btf: m.btf, id, module: { name: m.name, fd: m.fd.value } };
  }
  return undefined;
}

export function prepareStructOps(spec: ObjectSpec, map: MapSpec, kernel: KernelBtfs): PreparedStructOps {
  const so = map.structOps!;
  const local = spec.btf!;
  const fail = (message: string): never => {
    throw new ObjectError(spec.file, `struct_ops ${map.name} (struct ${so.typeName}): ${message}`, { section: map.section });
  };
  const tname = essentialName(so.typeName);
  const vt = findKernelStruct(kernel, `${VALUE_PREFIX}${tname}`);
  if (!vt) {
    throw new UsageError('NOT_SUPPORTED', `${spec.file}: struct_ops ${map.name}: this kernel has no struct ${VALUE_PREFIX}${tname} in its BTF, so it cannot take struct ${tname} from BPF (libbpf: "struct ${VALUE_PREFIX}${tname} is not found in kernel BTF")`, {
      hint: 'the kernel is too old for this struct_ops type, or the module that provides it is not loaded',
    });
  }
  const kbtf = vt!.btf;
  const kernTypeId = vt!.module ? findOwn(kbtf, tname, BtfKind.STRUCT) : findOwn(kernel.vmlinux, tname, BtfKind.STRUCT);
  if (kernTypeId === undefined) fail(`the kernel BTF has ${VALUE_PREFIX}${tname} but no struct ${tname}`);
  const kernVtype = kbtf.type(vt!.id) as BtfComposite;
  const kernType = kbtf.type(kernTypeId!) as BtfComposite;
  const dataMember = kernVtype.members.find((m) => m.type === kernTypeId);
  if (!dataMember) fail(`struct ${VALUE_PREFIX}${tname} in the kernel has no member of type struct ${tname}`);
  const value = Buffer.alloc(kernVtype.size);
  const dataOff = dataMember!.bitOffset / 8;
  const localType = local.type(so.typeId) as BtfComposite;
  const out: PreparedStructOps = {
    map: map.name, valueSize: kernVtype.size, btfVmlinuxValueTypeId: vt!.id, module: vt!.module, value, funcOffsets: new Map(), programs: new Map(),
  };
  for (const member of localType.members) {
    const moff = member.bitOffset / 8;
    const msize = resolveSize(local, member.type);
    if (msize < 0) fail(`the size of member ${member.name} cannot be resolved`);
    const kernIndex = kernType.members.findIndex((k) => k.name === member.name);
    const prog = so.programs.get(member.name);
    if (kernIndex < 0) {
      const zero = so.data.subarray(moff, moff + msize).every((b) => b === 0) && !prog;
      if (!zero) fail(`member ${member.name} is set, but the kernel's struct ${tname} has no such member (libbpf: "Cannot find member")`);
      continue;
    }
    const kernMember = kernType.members[kernIndex]!;
    if (member.bitfieldSize || kernMember.bitfieldSize) fail(`member ${member.name} is a bitfield, which struct_ops does not support`);
    const kmoff = kernMember.bitOffset / 8;
    const mt = skipMods(local, member.type);
    const kt = skipMods(kbtf, kernMember.type);
    if (mt.t.kind !== kt.t.kind) fail(`member ${member.name} is a ${btfKindName(mt.t.kind)} here but a ${btfKindName(kt.t.kind)} in the kernel (libbpf: "Unmatched member type")`);
    if (mt.t.kind === BtfKind.PTR) {
      if (!prog) continue;
      const target = spec.programs.get(prog);
      if (!target) fail(`member ${member.name} points at ${prog}, which is not a program of the object`);
      const kproto = skipMods(kbtf, (kt.t as { type: number }).type);
      if (kproto.t.kind !== BtfKind.FUNC_PROTO) fail(`the kernel's member ${member.name} is not a function pointer`);
      const prev = out.programs.get(prog);
      if (prev && prev.expectedAttachType !== kernIndex) fail(`program ${prog} is assigned to two different members`);
      out.programs.set(prog, { attachBtfId: kernTypeId!, expectedAttachType: kernIndex, attachBtfObjFd: vt!.module?.fd });
      out.funcOffsets.set(prog, dataOff + kmoff);
      continue;
    }
    const ksize = resolveSize(kbtf, kernMember.type);
    if (ksize < 0 || ksize !== msize) fail(`member ${member.name} is ${msize} bytes here but ${ksize} in the kernel (libbpf: "Error in size of member")`);
    so.data.copy(value, dataOff + kmoff, moff, moff + msize);
  }
  return out;
}
