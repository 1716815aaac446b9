// A program load() put into the kernel, together with what the loader did to it.
import type { AppliedCoreRelocation, AppliedRelocation } from '../object/index.js';
import { BpfProgram } from '../programs/program.js';

export class LoadedProgram extends BpfProgram {
  /** The verifier's log, when LoadOptions.logLevel was set. */
  verifierLog?: string;
  /** Map relocations applied (instruction, map, old and new imm). */
  relocations: AppliedRelocation[] = [];
  /** CO-RE relocations applied (instruction, kind, local type, old and new value, or poisoned). */
  coreRelocations: AppliedCoreRelocation[] = [];
}
