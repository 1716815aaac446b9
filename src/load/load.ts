// load(): maps first (programs need their fds), then each program linked with its subprograms (pure,
// object/), CO-RE applied against the kernel's BTF, map references patched, and handed to the
// verifier. Nothing is left open if any step fails.
import { decode, formatInstruction } from '../asm/disasm.js';
import { kernelBtf, VMLINUX_BTF } from '../btf/lazy.js';
import { ObjectError } from '../errors.js';
import type { BpfMap } from '../maps/map.js';
import {
  applyCoreRelocations, applyMapRelocations, encodeFuncInfo, encodeLineInfo, explainPoisoned, FUNC_INFO_REC_SIZE, LINE_INFO_REC_SIZE,
  linkFunctions, sanitizeName, sourceFinder,
  type AppliedCoreRelocation, type AppliedRelocation, type CoreContext, type FunctionSpec, type ObjectSpec,
} from '../object/index.js';
import type { ProgLoadValues } from '../sys/commands.js';
import { verifierStats, withNarration } from '../sys/explain.js';
import { enumName, ProgType } from '../uapi/enums.js';
import { resolveAttachBtfId } from './attach-target.js';
import { btfNeededError, uploadBtf, type UploadedBtf } from './btf-upload.js';
import { createMaps, releaseMaps, type CreatedMap, type MapLoadOptions } from './create-maps.js';
import { LoadedProgram } from './loaded-program.js';
import { loadWithLog } from './verifier.js';

export interface LoadOptions extends MapLoadOptions {
  /**
   * Verifier log level for every program: 0 (default) asks for a log only when a program is refused;
   * 1 or 2 always keeps the log (LoadedProgram.verifierLog).
   */
  logLevel?: number;
  /** Called with a line for each step taken (the --explain narration). */
  explain?: (line: string) => void;
  /** Kernel BTF for CO-RE relocations (a BTF file for another kernel); /sys/kernel/btf/vmlinux by default. */
  btfPath?: string;
  /** Where one-time notices go (e.g. "loading without BTF"); process.emitWarning by default. */
  warn?: (message: string) => void;
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

const warned = new Set<string>();
/** Say a thing once per process (the "loaded without BTF" notice). */
function warnOnce(key: string, message: string, warn: (m: string) => void): void {
  if (warned.has(key)) return;
  warned.add(key);
  warn(message);
}

/** BPF_LOG_STATS: the verifier reports only its statistics (the --explain narration asks for them). */
const LOG_STATS = 4;

export function loadObject(spec: ObjectSpec, options: LoadOptions = {}): LoadedObject {
  // With explain, every bpf() call made while loading is narrated too.
  return withNarration(options.explain, () => loadObjectSteps(spec, options));
}

/** The text of the instruction at slot `insn` (for narrating relocations). */
function insnText(insns: Buffer, insn: number): string {
  const x = decode(insns.subarray(insn * 8, insn * 8 + 16))[0];
  return x ? formatInstruction(x) : '?';
}

function loadObjectSteps(spec: ObjectSpec, options: LoadOptions): LoadedObject {
  const say = options.explain ?? (() => {});
  const lookup = (name: string): FunctionSpec | undefined => spec.subprograms.get(name) ?? spec.programs.get(name);
  // Link first (no kernel): what the programs need decides whether BTF is required.
  const linkedPrograms = [...spec.programs.values()].map((prog) => ({ prog, linked: linkFunctions(spec.file, prog, lookup) }));
  // CO-RE: the kernel's BTF is read (once per process) only when some program has relocations.
  let core: CoreContext | undefined;
  if (linkedPrograms.some(({ linked }) => linked.coreRelos.length > 0)) {
    if (!spec.btf) throw new ObjectError(spec.file, 'the object has CO-RE relocations but no .BTF section', { section: '.BTF.ext' });
    const targetName = options.btfPath ?? VMLINUX_BTF;
    core = { file: spec.file, local: spec.btf, target: kernelBtf(targetName), targetName, cache: new Map() };
  }

  let btf: UploadedBtf | undefined;
  if (spec.btf) {
    btf = uploadBtf(spec.btf, spec.btfProblems, spec.file);
    if (btf.fd) say(`loaded the BTF of ${spec.file} (${spec.btf.types.length - 1} types${btf.rewrites.length ? `; rewritten for this kernel: ${btf.rewrites.join(', ')}` : ''}): fd ${btf.fd.value}`);
  }
  const funcInfoOk = !!btf?.fd && btf.funcInfo;
  if (!funcInfoOk) {
    const needy = linkedPrograms.find(({ linked }) => linked.callbacks.length > 0);
    const reason = btf?.reason ?? (spec.btf ? 'this kernel does not know BTF FUNC records' : 'the object has no .BTF section (build with clang -g)');
    if (needy) {
      btf?.fd?.close();
      throw btfNeededError(spec.file, `program ${needy.prog.name} passes ${needy.linked.callbacks.join(', ')} as a callback (bpf_loop, bpf_for_each_map_elem, timers), which the kernel accepts only with BTF func_info`,
        btf ?? (spec.btf ? { reason } : undefined));
    }
    if (spec.btf) {
      const line = `${spec.file}: loading without BTF (no typed maps, no source lines in verifier errors): ${reason}`;
      say(line);
      warnOnce(`nobtf:${spec.file}`, line, options.warn ?? ((m) => process.emitWarning(m, { code: 'SOCKACCEL_NO_BTF' })));
    }
  }

  say(`creating ${spec.maps.size} map(s) for ${spec.file}`);
  let maps: Map<string, CreatedMap>;
  try {
    maps = createMaps(spec.file, spec.name, spec.maps.values(), options, btf?.fd ? { fd: btf.fd.value, note: say } : undefined);
  } catch (e) {
    btf?.fd?.close();
    throw e;
  }
  const programs = new Map<string, LoadedProgram>();
  try {
    for (const { prog, linked } of linkedPrograms) {
      const coreApplied: AppliedCoreRelocation[] = core ? applyCoreRelocations(core, prog.name, linked.insns, linked.coreRelos) : [];
      for (const c of coreApplied) {
        say(`  ${prog.name}: insn ${c.insn} CO-RE ${c.kind} ${c.localType}${c.access ? ` ${c.access}` : ''} → ${c.poisoned ? `poisoned (${c.reason})` : `${c.targets.join(', ') || (c.kind === 'local_type_id' ? '(local)' : '(not found)')}: ${c.oldValue} → ${c.newValue}`}`);
      }
      const fdOf = (name: string) => maps.get(name)?.map.fd.value;
      const before = options.explain ? Buffer.from(linked.insns) : undefined;
      const applied: AppliedRelocation[] = applyMapRelocations(spec.file, prog.name, linked.insns, linked.relocations, fdOf);
      if (before) for (const a of applied) {
        say(`  ${prog.name}: relocated insn ${a.insn} for ${a.kind === 'map' ? 'map' : 'the global data of'} ${a.map}: imm ${a.oldImm} → ${a.newImm} (its fd)${a.offset !== undefined ? `, offset ${a.offset} in the second half` : ''}: \`${insnText(before, a.insn)}\` → \`${insnText(linked.insns, a.insn)}\``);
      }
      const what = `program ${prog.name} (section ${prog.section}, ${enumName(ProgType, prog.type)}) in ${spec.file}`;
      // func_info must name every function of the program, or the kernel refuses the lot.
      const withInfo = funcInfoOk && linked.funcInfo.length === linked.layout.size;
      // Explaining: ask the verifier for its statistics (BPF_LOG_STATS) unless a log level was set.
      const logLevel = options.logLevel || (options.explain ? LOG_STATS : 0);
      const attr: ProgLoadValues = {
        prog_type: prog.type,
        insn_cnt: linked.insns.length / 8,
        insns: linked.insns,
        license: prog.license || spec.license,
        prog_name: sanitizeName(prog.name),
        expected_attach_type: prog.expectedAttachType,
        kern_version: prog.kernVersion || spec.kernVersion,
        attach_btf_id: resolveAttachBtfId(spec.file, prog, () => kernelBtf(VMLINUX_BTF), VMLINUX_BTF),
        ...(withInfo ? {
          prog_btf_fd: btf!.fd!.value,
          func_info_rec_size: FUNC_INFO_REC_SIZE, func_info: encodeFuncInfo(linked.funcInfo), func_info_cnt: linked.funcInfo.length,
          ...(linked.lineInfo.length ? { line_info_rec_size: LINE_INFO_REC_SIZE, line_info: encodeLineInfo(linked.lineInfo), line_info_cnt: linked.lineInfo.length } : {}),
        } : {}),
      };
      let result: ReturnType<typeof loadWithLog>;
      try {
        try {
          result = loadWithLog(attr, what, logLevel, sourceFinder(linked.lineInfo));
        } catch (e) {
          // A statistics-only log has no verdict: load again as without --explain for the real error.
          if (logLevel === (options.logLevel ?? 0)) throw e;
          result = loadWithLog(attr, what, options.logLevel, sourceFinder(linked.lineInfo));
        }
      } catch (e) {
        throw core ? explainPoisoned(e, coreApplied, core.targetName) : e;
      }
      const { fd, log } = result;
      const loaded = new LoadedProgram(fd, prog.name, prog.type, prog.expectedAttachType, prog.section, prog.attachTo);
      loaded.verifierLog = options.logLevel ? log : undefined;
      const stats = options.explain && logLevel === LOG_STATS ? verifierStats(log) : undefined;
      if (stats) say(`the verifier accepted ${prog.name}: ${stats}`);
      loaded.relocations = applied;
      loaded.coreRelocations = coreApplied;
      programs.set(prog.name, loaded);
      say(`loaded ${what}: ${linked.insns.length / 8} instructions${withInfo ? `, ${linked.funcInfo.length} func_info, ${linked.lineInfo.length} line_info` : ''}, fd ${fd.value}`);
    }
  } catch (e) {
    for (const p of programs.values()) p.close();
    releaseMaps(maps, true);
    throw e;
  } finally {
    // Maps and programs hold their own references to the BTF object.
    btf?.fd?.close();
  }
  return new LoadedObject(maps, programs);
}
