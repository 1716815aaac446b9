// A program load() put into the kernel, together with what the loader did to it and what its section
// said about where it attaches.
import { UsageError } from '../errors.js';
import { attachRawTracepoint, attachTracepoint, attachTracing } from '../link/attach.js';
import type { BpfLink } from '../link/link.js';
import type { AppliedCoreRelocation, AppliedRelocation } from '../object/index.js';
import { BpfProgram } from '../programs/program.js';
import type { Fd } from '../sys/fd.js';
import { ProgType } from '../uapi/enums.js';

export class LoadedProgram extends BpfProgram {
  /** The ELF section it came from, e.g. "tracepoint/syscalls/sys_enter_openat". */
  readonly section: string;
  /** What the section names after its type prefix ("syscalls/sys_enter_openat"; "" when nothing). */
  readonly attachTo: string;
  /** The verifier's log, when LoadOptions.logLevel was set. */
  verifierLog?: string;
  /** Map relocations applied (instruction, map, old and new imm). */
  relocations: AppliedRelocation[] = [];
  /** CO-RE relocations applied (instruction, kind, local type, old and new value, or poisoned). */
  coreRelocations: AppliedCoreRelocation[] = [];
  /** The prog_flags it was loaded with (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS from its section). */
  progFlags = 0;
  /** The attach_btf_id it was loaded with (0 when none). */
  attachBtfId = 0;

  constructor(fd: Fd, name: string, type: number, expectedAttachType: number, section = '', attachTo = '') {
    super(fd, name, type, expectedAttachType);
    this.section = section;
    this.attachTo = attachTo;
  }

  /**
   * Attach where the section says, for the kinds that need nothing more: tracepoint/CATEGORY/NAME,
   * raw_tp/NAME, tp_btf/NAME, fentry|fexit|fmod_ret/FUNCTION, lsm/HOOK. Others (cgroup, sockmap,
   * XDP…) take a target: use attachCgroup(), attachToMap() and the like.
   */
  attach(): BpfLink {
    if (this.type === ProgType.TRACEPOINT) {
      const [category, name, ...rest] = this.attachTo.split('/');
      if (!category || !name || rest.length) throw new UsageError('BAD_ARGUMENT', `${this.what}: section "${this.section}" must be tracepoint/CATEGORY/NAME to attach`);
      return attachTracepoint(this, category, name);
    }
    if (this.type === ProgType.RAW_TRACEPOINT || this.type === ProgType.RAW_TRACEPOINT_WRITABLE) {
      if (!this.attachTo) throw new UsageError('BAD_ARGUMENT', `${this.what}: section "${this.section}" must be raw_tp/NAME to attach`);
      return attachRawTracepoint(this, this.attachTo);
    }
    if (this.type === ProgType.TRACING || this.type === ProgType.LSM) return attachTracing(this);
    throw new UsageError('BAD_ARGUMENT', `${this.what} (section "${this.section}") attaches to a target you choose: use attachCgroup(), attachToMap() or the attach function for its kind`);
  }
}
