// Which kernel BTF files a load will read, known before it reads them: loadAsync reads those off the
// event loop first, so the synchronous steps that use them find them cached. A miss costs nothing but
// time (the step reads the file where it needs it, as load() does); a needless read costs one read.
import { VMLINUX_BTF } from '../btf/lazy.js';
import type { LinkedProgram, ObjectSpec, ProgramSpec } from '../object/index.js';
import { MapType, ProgType } from '../uapi/enums.js';
import { needsAttachBtf } from './attach-target.js';

export function kernelBtfWanted(spec: ObjectSpec, programs: readonly { prog: ProgramSpec; linked: LinkedProgram }[], btfPath: string | undefined): string[] {
  const out = new Set<string>();
  // CO-RE relocations are applied against btfPath, or vmlinux.
  if (programs.some(({ linked }) => linked.coreRelos.length > 0)) out.add(btfPath ?? VMLINUX_BTF);
  const vmlinux = [...spec.externs.values()].some((e) => e.kind === 'ksym')
    || [...spec.maps.values()].some((m) => m.type === MapType.STRUCT_OPS && m.autocreate !== false)
    // freplace targets another program's BTF, not the kernel's.
    || programs.some(({ prog }) => prog.type !== ProgType.EXT && needsAttachBtf(prog));
  if (vmlinux) out.add(VMLINUX_BTF);
  return [...out];
}
