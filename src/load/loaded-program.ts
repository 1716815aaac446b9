// A program load() put into the kernel, together with what the loader did to it and what its section
// said about where it attaches.
import type { Attachment } from '../link/attach.js';
import { attachBySection, type AttachTarget } from '../link/auto-attach.js';
import type { AppliedCoreRelocation, AppliedRelocation } from '../object/index.js';
import { BpfProgram } from '../programs/program.js';
import type { Fd } from '../sys/fd.js';

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
   * Attach where the section says, as libbpf's auto-attach: tracepoint/CATEGORY/NAME, raw_tp/NAME,
   * tp_btf/NAME, fentry|fexit|fmod_ret/FUNCTION, lsm/HOOK, kprobe|kretprobe/FUNCTION[+OFF],
   * ksyscall/NAME, kprobe.multi/PATTERN, uprobe|uretprobe/BINARY:FUNCTION[+OFF], uprobe.multi/BINARY:PATTERN,
   * iter/TARGET. The kinds that attach to a target of your choosing take it in `target`: xdp and
   * tc/tcx (an interface), cgroup/* and sockops (a cgroup), socket (a socket), sk_lookup (a netns),
   * sk_msg/sk_skb (a map). See link/auto-attach.ts.
   */
  attach(target?: AttachTarget): Attachment {
    return attachBySection(this, target);
  }
}
