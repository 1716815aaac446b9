// load(): maps first (programs need their fds), then each program linked with its subprograms,
// relocated and handed to the verifier. Nothing is left open if any step fails.
import { ObjectError } from '../errors.js';
import { BpfMap } from '../maps/map.js';
import { BpfProgram } from '../programs/program.js';
import type { FunctionSpec, ObjectSpec, ProgramSpec } from '../object/spec.js';
import { enumName, ProgType } from '../sys/constants.js';
import { createMaps, releaseMaps, type CreatedMap, type MapLoadOptions } from './create-maps.js';
import { linkFunctions, type LinkedProgram } from './link-functions.js';
import { applyMapRelocations, type AppliedRelocation } from './relocate.js';
import { loadWithLog } from './verifier.js';
import { sanitizeName } from './names.js';

export interface LoadOptions extends MapLoadOptions {
  /**
   * Verifier log level for every program: 0 (default) asks for a log only when a program is refused;
   * 1 or 2 always keeps the log (BpfProgram.verifierLog).
   */
  logLevel?: number;
  /** Called with a line for each step taken (the --explain narration). */
  explain?: (line: string) => void;
}

/** A loaded program together with what the loader did to it. */
export class LoadedProgram extends BpfProgram {
  /** The verifier's log, when LoadOptions.logLevel was set. */
  verifierLog?: string;
  /** Map relocations applied (instruction, map, old and new imm). */
  relocations: AppliedRelocation[] = [];
}

/** What load() returns: the object's maps and programs in the kernel. */
export class LoadedObject {
  readonly maps: Map<string, BpfMap>;
  readonly programs: Map<string, LoadedProgram>;
  readonly #owned: Map<string, CreatedMap>;

  constructor(maps: Map<string, CreatedMap>, programs: Map<string, LoadedProgram>) {
    this.#owned = maps;
    this.maps = new Map([...maps].map(([n, m]) => [n, m.map]));
    this.programs = programs;
  }

  /** Close every fd (pins and attachments stay, which is what pins are for). Maps given in options stay open. */
  close(): void {
    for (const p of this.programs.values()) p.close();
    releaseMaps(this.#owned, false);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** What this loader cannot do yet, said before the kernel gives a less helpful answer. */
function checkSupported(spec: ObjectSpec, prog: ProgramSpec, linked: LinkedProgram): void {
  if (linked.coreRelos.length > 0) {
    throw new ObjectError(spec.file, `program ${prog.name} has ${linked.coreRelos.length} CO-RE relocation(s): CO-RE relocations are not supported yet, so it cannot be loaded correctly; build it without vmlinux.h / preserve_access_index until CO-RE support lands`, { section: prog.section });
  }
  if (linked.callbacks.length > 0) {
    throw new ObjectError(spec.file, `program ${prog.name} passes ${linked.callbacks.join(', ')} as a callback (bpf_loop, bpf_for_each_map_elem, timers): the kernel needs BTF func_info for callbacks, and this loader does not upload BTF yet; remove the program from obj.programs to load the rest`, { section: prog.section });
  }
}

export function loadObject(spec: ObjectSpec, options: LoadOptions = {}): LoadedObject {
  const say = options.explain ?? (() => {});
  say(`creating ${spec.maps.size} map(s) for ${spec.file}`);
  const maps = createMaps(spec.file, spec.name, spec.maps.values(), options);
  const programs = new Map<string, LoadedProgram>();
  try {
    const lookup = (name: string): FunctionSpec | undefined => spec.subprograms.get(name) ?? spec.programs.get(name);
    for (const prog of spec.programs.values()) {
      const linked = linkFunctions(spec.file, prog, lookup);
      checkSupported(spec, prog, linked);
      const fdOf = (name: string) => maps.get(name)?.map.fd.value;
      const applied = applyMapRelocations(spec.file, prog.name, linked.insns, linked.relocations, fdOf);
      for (const a of applied) say(`  ${prog.name}: insn ${a.insn} → ${a.kind === 'map' ? 'map' : 'data of'} ${a.map}, imm ${a.oldImm} → fd ${a.newImm}${a.offset ? ` + ${a.offset}` : ''}`);
      const what = `program ${prog.name} (section ${prog.section}, ${enumName(ProgType, prog.type)}) in ${spec.file}`;
      const { fd, log } = loadWithLog({
        type: prog.type,
        insns: linked.insns,
        license: prog.license || spec.license,
        name: sanitizeName(prog.name),
        expectedAttachType: prog.expectedAttachType,
        kernVersion: prog.kernVersion || spec.kernVersion,
      }, what, options.logLevel);
      const loaded = new LoadedProgram(fd, prog.name, prog.type, prog.expectedAttachType);
      loaded.verifierLog = log;
      loaded.relocations = applied;
      programs.set(prog.name, loaded);
      say(`loaded ${what}: ${linked.insns.length / 8} instructions, fd ${fd.value}`);
    }
  } catch (e) {
    for (const p of programs.values()) p.close();
    releaseMaps(maps, true);
    throw e;
  }
  return new LoadedObject(maps, programs);
}
