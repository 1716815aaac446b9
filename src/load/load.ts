// load(): the steps of libbpf's bpf_object__load, in its order:
//   1. choose the programs (autoload, or LoadOptions.programs) and check what the object alone can
//      refuse (unknown sections, unreferenced struct_ops programs), before touching the kernel;
//   2. resolve externs: fill the .kconfig map, find .ksyms in kallsyms and kernel BTF (vmlinux and
//      modules); prepare struct_ops maps against the kernel's types;
//   3. link each program with its subprograms, apply CO-RE against the kernel's BTF;
//   4. load the object's BTF, create the maps (sized, filled, frozen; map-in-map slots set);
//   5. load each program (prog_flags and attach targets from its section, map and extern references
//      patched), bind .rodata to it;
//   6. fill statically initialised PROG_ARRAY slots; prepare struct_ops values with program fds.
// Nothing is left open if any step fails. A refusal names the file, the program or map, and why.
// The steps are a generator (steps.ts): load() runs them as they come, loadAsync() with the
// verifier's work and the kernel BTF read off the event loop — one code path, one LoadedObject.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decode, formatInstruction } from '../asm/disasm.js';
import { kernelBtf, VMLINUX_BTF } from '../btf/lazy.js';
import { ObjectError, UsageError } from '../errors.js';
import { hasBpfCookie, hasSyscallWrapper, hasUprobeMultiLink } from '../features/probe.js';
import type { BpfMap } from '../maps/map.js';
import { recordObjectMapTypes } from '../maps/map-btf.js';
import {
  applyCoreRelocations, applyExternRelocations, applyMapRelocations, encodeFuncInfo, encodeLineInfo, explainPoisoned, FUNC_INFO_REC_SIZE, LINE_INFO_REC_SIZE,
  linkFunctions, sanitizeName, SecFlag, sourceFinder, unknownSectionError,
  type AppliedCoreRelocation, type AppliedRelocation, type CoreContext, type FunctionSpec, type LinkedProgram, type ObjectSpec, type ProgramSpec,
} from '../object/index.js';
import type { BpfProgram } from '../programs/program.js';
import { progBindMapTry, mapUpdate, type ProgLoadValues } from '../sys/commands.js';
import { verifierStats, withNarration } from '../sys/explain.js';
import { Fd } from '../sys/fd.js';
import { AttachType, enumName, MapType, ProgType, UpdateFlag } from '../uapi/enums.js';
import { resolveAttachTarget, type AttachTarget } from './attach-target.js';
import { btfNeededError, uploadBtf, type UploadedBtf } from './btf-upload.js';
import { createMaps, releaseMaps, type CreatedMap, type MapLoadOptions } from './create-maps.js';
import { explainProgLoad } from './diagnose.js';
import { fillKconfig, runningKernelVersion } from './kconfig.js';
import { KernelBtfs } from './kernel-btf.js';
import { kernelBtfWanted } from './kernel-btf-wanted.js';
import { resolveKsyms, type ResolvedKsyms } from './ksyms.js';
import { LoadedProgram } from './loaded-program.js';
import { prepareStructOps, type PreparedStructOps } from './struct-ops.js';
import { kernelBtfStep, runAsync, runSync, type Steps } from './steps.js';
import { loadWithLogSteps, type LoadedProgramFd } from './verifier.js';

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
  /**
   * Load exactly these programs (by name), whatever their autoload says; the others are left out.
   * Without it, the programs whose `autoload` is true are loaded (all but SEC("?...") ones).
   */
  programs?: readonly string[];
  /** freplace targets: program name → the loaded program whose function it replaces (BpfObject.setAttachTarget sets these). */
  attachTargets?: Record<string, BpfProgram | Fd>;
  /** Extra Kconfig lines ("CONFIG_X=y\n..."), which win over the running kernel's (libbpf's `kconfig` open option). */
  kconfig?: string;
}

/** What load() returns: the object's maps and programs in the kernel. */
export class LoadedObject {
  readonly maps: Map<string, BpfMap>;
  /** The programs that were loaded (see `notLoaded` for the ones left out). */
  readonly programs: Map<string, LoadedProgram>;
  /** Programs of the object that were not loaded (autoload off, or not in LoadOptions.programs). */
  readonly notLoaded: string[];
  /**
   * struct_ops maps: the value to register them with (the kernel's bpf_struct_ops_<type>, with the
   * programs' fds in the function pointers) — BPF_MAP_UPDATE_ELEM at key 0, then, for
   * SEC(".struct_ops.link") maps, a BPF_STRUCT_OPS link. As libbpf, load() does not register them.
   */
  readonly structOps: Map<string, Buffer>;
  readonly #owned: Map<string, CreatedMap>;

  constructor(maps: Map<string, CreatedMap>, programs: Map<string, LoadedProgram>, notLoaded: string[] = [], structOps = new Map<string, Buffer>()) {
    this.#owned = maps;
    this.maps = new Map([...maps].map(([n, m]) => [n, m.map]));
    this.programs = programs;
    this.notLoaded = notLoaded;
    this.structOps = structOps;
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
  const loaded = withNarration(options.explain, () => runSync(loadObjectSteps(spec, options)));
  // For map.typed(): each map keeps its key/value types in the object's BTF.
  recordObjectMapTypes(spec.file, spec.btf, spec.maps, loaded.maps);
  return loaded;
}

/**
 * loadObject with the event loop free while the kernel works: the same steps, with each
 * BPF_PROG_LOAD on a worker thread and the kernel BTF read asynchronously (indexed in slices).
 * The narration (explain) is this load's only, as with loadObject, also when loads overlap.
 */
export async function loadObjectAsync(spec: ObjectSpec, options: LoadOptions = {}): Promise<LoadedObject> {
  const loaded = await withNarration(options.explain, () => runAsync(loadObjectSteps(spec, options)));
  recordObjectMapTypes(spec.file, spec.btf, spec.maps, loaded.maps);
  return loaded;
}

/** The text of the instruction at slot `insn` (for narrating relocations). */
function insnText(insns: Buffer, insn: number): string {
  const x = decode(insns.subarray(insn * 8, insn * 8 + 16))[0];
  return x ? formatInstruction(x) : '?';
}

function describeProgram(file: string, prog: ProgramSpec): string {
  return `program ${prog.name} (section ${prog.section}, ${enumName(ProgType, prog.type)}) in ${file}`;
}

/** Which programs to load: LoadOptions.programs, else autoload; struct_ops ones follow their maps (libbpf). */
function choosePrograms(spec: ObjectSpec, options: LoadOptions): { load: ProgramSpec[]; skipped: string[] } {
  let wanted: Set<string>;
  if (options.programs) {
    wanted = new Set(options.programs);
    for (const n of wanted) {
      if (!spec.programs.has(n)) {
        throw new UsageError('BAD_ARGUMENT', `${spec.file}: LoadOptions.programs names ${n}, which is not a program of the object; its programs are: ${[...spec.programs.keys()].join(', ') || '(none)'}`);
      }
    }
  } else {
    wanted = new Set([...spec.programs.values()].filter((p) => p.autoload).map((p) => p.name));
    // libbpf's bpf_object_adjust_struct_ops_autoload: a struct_ops program loads when a created map uses it.
    const used = new Map<string, boolean>();
    for (const m of spec.maps.values()) {
      for (const prog of m.structOps?.programs.values() ?? []) used.set(prog, (used.get(prog) ?? false) || m.autocreate !== false);
    }
    for (const [prog, load] of used) {
      if (load) wanted.add(prog);
      else wanted.delete(prog);
    }
  }
  const load: ProgramSpec[] = [];
  const skipped: string[] = [];
  for (const p of spec.programs.values()) {
    if (wanted.has(p.name)) load.push(p);
    else skipped.push(p.name);
  }
  return { load, skipped };
}

/** Refusals that need no kernel: a program without a type, a struct_ops program no map uses. */
function checkPrograms(spec: ObjectSpec, programs: readonly ProgramSpec[]): void {
  for (const p of programs) {
    if (p.type === ProgType.UNSPEC) throw unknownSectionError(spec.file, p.section, p.name);
    if (p.type === ProgType.STRUCT_OPS && !p.attachBtfId) {
      const used = [...spec.maps.values()].some((m) => m.autocreate !== false && [...(m.structOps?.programs.values() ?? [])].includes(p.name));
      if (!used) {
        throw new ObjectError(spec.file, `program ${p.name} (section ${p.section}) is a struct_ops program that no created struct_ops map uses (libbpf: "SEC(\\"struct_ops\\") program isn't referenced anywhere")`, {
          section: p.section,
        });
      }
    }
  }
}

function* loadObjectSteps(spec: ObjectSpec, options: LoadOptions): Steps<LoadedObject> {
  const say = options.explain ?? (() => {});
  const warn = options.warn ?? ((m: string) => process.emitWarning(m, { code: 'SOCKACCEL_LOAD' }));
  const { load: toLoad, skipped } = choosePrograms(spec, options);
  if (skipped.length) say(`not loading ${skipped.join(', ')} (autoload off or not asked for)`);
  checkPrograms(spec, toLoad);

  const lookup = (name: string): FunctionSpec | undefined => spec.subprograms.get(name) ?? spec.programs.get(name);
  // Link first (no kernel): what the programs need decides whether BTF is required.
  const linkedPrograms: { prog: ProgramSpec; linked: LinkedProgram }[] = toLoad.map((prog) => ({
    prog, linked: linkFunctions(spec.file, prog, lookup, prog.exceptionCallback ? [prog.exceptionCallback] : []),
  }));

  // The running kernel's BTF, for attach targets, typed ksyms, kfuncs and struct_ops (not btfPath:
  // that one is for CO-RE only, as libbpf's btf_custom_path).
  let kernel: KernelBtfs | undefined;
  const kernelBtfs = () => (kernel ??= new KernelBtfs(VMLINUX_BTF));
  const fds: Fd[] = [];
  try {
    return yield* loadWithKernel(spec, options, say, warn, linkedPrograms, skipped, kernelBtfs, fds);
  } finally {
    kernel?.close();
    for (const fd of fds) fd.close();
  }
}

function* loadWithKernel(
  spec: ObjectSpec, options: LoadOptions, say: (line: string) => void, warn: (m: string) => void,
  linkedPrograms: { prog: ProgramSpec; linked: LinkedProgram }[], skipped: string[], kernelBtfs: () => KernelBtfs, fds: Fd[],
): Steps<LoadedObject> {
  for (const path of kernelBtfWanted(spec, linkedPrograms, options.btfPath)) yield* kernelBtfStep(path);
  // Externs (libbpf resolves all of the object's, whichever programs load).
  const contents = new Map<string, Buffer>();
  const kconfigMap = [...spec.maps.values()].find((m) => m.kind === 'data' && m.section === '.kconfig');
  if (kconfigMap) {
    const filled = Buffer.from(kconfigMap.contents ?? Buffer.alloc(kconfigMap.valueSize));
    fillKconfig(spec, filled, { extra: options.kconfig, probes: { bpfCookie: hasBpfCookie, syscallWrapper: hasSyscallWrapper }, warn });
    contents.set(kconfigMap.name, filled);
    say(`filled ${kconfigMap.name} (${filled.length} bytes) for ${[...spec.externs.values()].filter((e) => e.kind === 'kconfig').map((e) => e.name).join(', ')}`);
  }
  const ksyms: ResolvedKsyms = resolveKsyms(spec, kernelBtfs);
  for (const n of ksyms.notes) say(n);
  const externIndex = new Map([...spec.externs.keys()].map((n, i) => [n, i]));

  // struct_ops maps against the kernel's types.
  const structOps = new Map<string, PreparedStructOps>();
  const structOpsProgs = new Map<string, { attachBtfId: number; expectedAttachType: number; attachBtfObjFd?: number; map: string }>();
  for (const m of spec.maps.values()) {
    if (m.type !== MapType.STRUCT_OPS || !m.structOps || m.autocreate === false) continue;
    const p = prepareStructOps(spec, m, kernelBtfs());
    structOps.set(m.name, p);
    for (const [prog, a] of p.programs) {
      const prev = structOpsProgs.get(prog);
      if (prev && (prev.attachBtfId !== a.attachBtfId || prev.expectedAttachType !== a.expectedAttachType)) {
        throw new ObjectError(spec.file, `struct_ops program ${prog} is used by maps ${prev.map} and ${m.name} for different members or types (libbpf: "invalid reuse of prog")`, { section: m.section });
      }
      structOpsProgs.set(prog, { ...a, map: m.name });
    }
    say(`struct_ops ${m.name}: kernel value ${p.valueSize} bytes (type id ${p.btfVmlinuxValueTypeId}${p.module ? ` in ${p.module.name}` : ''}), programs ${[...p.programs].map(([n, a]) => `${n} → member #${a.expectedAttachType}`).join(', ')}`);
  }

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
    if (btf.fd) {
      fds.push(btf.fd);
      say(`loaded the BTF of ${spec.file} (${spec.btf.types.length - 1} types${btf.rewrites.length ? `; rewritten for this kernel: ${btf.rewrites.join(', ')}` : ''}): fd ${btf.fd.value}`);
    }
  }
  const funcInfoOk = !!btf?.fd && btf.funcInfo;
  if (!funcInfoOk) {
    const needy = linkedPrograms.find(({ linked }) => linked.callbacks.length > 0);
    const reason = btf?.reason ?? (spec.btf ? 'this kernel does not know BTF FUNC records' : 'the object has no .BTF section (build with clang -g)');
    if (needy) {
      throw btfNeededError(spec.file, `program ${needy.prog.name} passes ${needy.linked.callbacks.join(', ')} as a callback (bpf_loop, bpf_for_each_map_elem, timers), which the kernel accepts only with BTF func_info`,
        btf ?? (spec.btf ? { reason } : undefined));
    }
    const needsBtf = structOps.size > 0 ? 'struct_ops maps' : linkedPrograms.find(({ linked }) => linked.relocations.some((r) => r.kind === 'kfunc'))?.prog.name;
    if (needsBtf && spec.btf) {
      throw btfNeededError(spec.file, `${structOps.size ? 'its struct_ops maps need' : `program ${needsBtf} calls kfuncs, which needs`} the object's BTF in the kernel`, btf ?? { reason });
    }
    if (spec.btf) {
      const line = `${spec.file}: loading without BTF (no typed maps, no source lines in verifier errors): ${reason}`;
      say(line);
      warnOnce(`nobtf:${spec.file}`, line, options.warn ?? ((m) => process.emitWarning(m, { code: 'SOCKACCEL_NO_BTF' })));
    }
  }

  say(`creating ${[...spec.maps.values()].filter((m) => m.autocreate !== false).length} map(s) for ${spec.file}`);
  let objectHash: string | undefined;
  const maps = createMaps(spec.file, spec.name, spec.maps.values(), options, btf?.fd ? { fd: btf.fd.value, note: say } : undefined, {
    contents, structOps, warn, note: say,
    objectHash: () => (objectHash ??= spec.file === '<buffer>' ? 'buffer' : createHash('sha1').update(readFileSync(spec.file)).digest('hex')),
  });
  const mapIndex = new Map([...spec.maps.keys()].map((n, i) => [n, i]));
  const rodata = [...spec.maps.values()].filter((m) => m.kind === 'data' && (m.section === '.rodata' || m.section.startsWith('.rodata.')) && maps.has(m.name));
  const kernVersion = runningKernelVersion();
  const usdtMulti = linkedPrograms.some(({ prog }) => prog.secFlags & SecFlag.USDT) ? hasUprobeMultiLink() : false;
  const fdArray = ksyms.fdArray ? Buffer.alloc(ksyms.fdArray.length * 4) : undefined;
  ksyms.fdArray?.forEach((fd, i) => fdArray!.writeInt32LE(fd, i * 4));

  const programs = new Map<string, LoadedProgram>();
  try {
    for (const { prog, linked } of linkedPrograms) {
      const coreApplied: AppliedCoreRelocation[] = core ? applyCoreRelocations(core, prog.name, linked.insns, linked.coreRelos) : [];
      for (const c of coreApplied) {
        say(`  ${prog.name}: insn ${c.insn} CO-RE ${c.kind} ${c.localType}${c.access ? ` ${c.access}` : ''} → ${c.poisoned ? `poisoned (${c.reason})` : `${c.targets.join(', ') || (c.kind === 'local_type_id' ? '(local)' : '(not found)')}: ${c.oldValue} → ${c.newValue}`}`);
      }
      const mapOf = (name: string) => {
        const m = maps.get(name);
        if (m) return m.map.fd.value;
        const i = mapIndex.get(name);
        return i !== undefined && spec.maps.get(name)?.autocreate === false ? { poisonIndex: i } : undefined;
      };
      const before = options.explain ? Buffer.from(linked.insns) : undefined;
      const applied: AppliedRelocation[] = applyMapRelocations(spec.file, prog.name, linked.insns, linked.relocations, mapOf);
      applied.push(...applyExternRelocations(spec.file, prog.name, linked.insns, linked.relocations, (n) => ksyms.values.get(n), (n) => externIndex.get(n) ?? 0));
      if (before) for (const a of applied) {
        const kind = a.kind === 'map' ? 'map' : a.kind === 'data' ? 'the global data of' : a.kind === 'ksym' ? 'ksym' : 'kfunc';
        say(`  ${prog.name}: relocated insn ${a.insn} for ${kind} ${a.map}: imm ${a.oldImm} → ${a.newImm}${a.poisoned ? ' (poisoned)' : a.kind === 'map' || a.kind === 'data' ? ' (its fd)' : ''}${a.offset !== undefined ? `, offset ${a.offset} in the second half` : ''}: \`${insnText(before, a.insn)}\` → \`${insnText(linked.insns, a.insn)}\``);
      }
      const what = describeProgram(spec.file, prog);
      // Attach target and expected attach type.
      let expectedAttachType = prog.expectedAttachType;
      let target: AttachTarget | undefined;
      const so = structOpsProgs.get(prog.name);
      if (so) {
        target = { attachBtfId: so.attachBtfId, attachBtfObjFd: so.attachBtfObjFd, describe: `member #${so.expectedAttachType} of struct_ops ${so.map}` };
        expectedAttachType = so.expectedAttachType;
      } else {
        const tp = options.attachTargets?.[prog.name];
        target = resolveAttachTarget(spec.file, prog, kernelBtfs(), tp === undefined ? undefined : tp instanceof Fd ? tp : tp.fd);
      }
      if ((prog.secFlags & SecFlag.USDT) && usdtMulti) expectedAttachType = AttachType.TRACE_UPROBE_MULTI;
      if (target) say(`  ${prog.name}: attach target ${target.describe} (attach_btf_id ${target.attachBtfId})`);
      // func_info must name every function of the program, or the kernel refuses the lot.
      const withInfo = funcInfoOk && linked.funcInfo.length === linked.layout.size;
      // Explaining: ask the verifier for its statistics (BPF_LOG_STATS) unless a log level was set.
      const logLevel = options.logLevel || (options.explain ? LOG_STATS : 0);
      const usesModuleKfunc = !!fdArray && linked.relocations.some((r) => r.kind === 'kfunc');
      const attr: ProgLoadValues = {
        prog_type: prog.type,
        insn_cnt: linked.insns.length / 8,
        insns: linked.insns,
        license: prog.license || spec.license,
        prog_name: sanitizeName(prog.name),
        expected_attach_type: expectedAttachType,
        prog_flags: prog.flags,
        kern_version: prog.kernVersion || spec.kernVersion || kernVersion,
        attach_btf_id: target?.attachBtfId,
        ...(target?.attachProgFd ? { attach_prog_fd: target.attachProgFd } : target?.attachBtfObjFd ? { attach_btf_obj_fd: target.attachBtfObjFd } : {}),
        ...(usesModuleKfunc ? { fd_array: fdArray } : {}),
        ...(withInfo ? {
          prog_btf_fd: btf!.fd!.value,
          func_info_rec_size: FUNC_INFO_REC_SIZE, func_info: encodeFuncInfo(linked.funcInfo), func_info_cnt: linked.funcInfo.length,
          ...(linked.lineInfo.length ? { line_info_rec_size: LINE_INFO_REC_SIZE, line_info: encodeLineInfo(linked.lineInfo), line_info_cnt: linked.lineInfo.length } : {}),
        } : {}),
      };
      let result: LoadedProgramFd;
      try {
        try {
          result = yield* loadWithLogSteps(attr, what, logLevel, sourceFinder(linked.lineInfo));
        } catch (e) {
          // A statistics-only log has no verdict: load again as without --explain for the real error.
          if (logLevel === (options.logLevel ?? 0)) throw e;
          result = yield* loadWithLogSteps(attr, what, options.logLevel, sourceFinder(linked.lineInfo));
        }
      } catch (e) {
        const explained = explainProgLoad(e, attr, prog, what, [...spec.externs.keys()], [...spec.maps.keys()]);
        throw core ? explainPoisoned(explained, coreApplied, core.targetName) : explained;
      }
      const { fd, log } = result;
      const loaded = new LoadedProgram(fd, prog.name, prog.type, expectedAttachType, prog.section, prog.attachTo);
      programs.set(prog.name, loaded);
      loaded.verifierLog = options.logLevel ? log : undefined;
      loaded.progFlags = prog.flags;
      loaded.attachBtfId = target?.attachBtfId ?? 0;
      const stats = options.explain && logLevel === LOG_STATS ? verifierStats(log) : undefined;
      if (stats) say(`the verifier accepted ${prog.name}: ${stats}`);
      loaded.relocations = applied;
      loaded.coreRelocations = coreApplied;
      say(`loaded ${what}: ${linked.insns.length / 8} instructions${withInfo ? `, ${linked.funcInfo.length} func_info, ${linked.lineInfo.length} line_info` : ''}${prog.flags ? `, prog_flags ${prog.flags}` : ''}, fd ${fd.value}`);
      // libbpf binds .rodata maps to every program, so they live as long as the program (a failure is not fatal).
      for (const m of rodata) {
        const r = progBindMapTry(fd, maps.get(m.name)!.map.fd, `${m.name} to ${what}`);
        if (r.errno) say(`  ${prog.name}: could not bind ${m.name} (${r.errno}); not fatal`);
      }
    }
    // Static PROG_ARRAY initialisers (libbpf's init_prog_array_slots), now that the programs exist.
    for (const m of spec.maps.values()) {
      if (m.type !== MapType.PROG_ARRAY || !m.initSlots) continue;
      const created = maps.get(m.name);
      if (!created || created.reused) continue;
      for (const [slot, name] of m.initSlots) {
        const p = programs.get(name);
        if (!p) {
          throw new UsageError('BAD_ARGUMENT', `${spec.file}: PROG_ARRAY ${m.name} slot ${slot} is initialised with program ${name}, which is not loaded (autoload off or not in LoadOptions.programs)`, {
            hint: `load ${name} too, or leave ${m.name} uninitialised`,
          });
        }
        const key = Buffer.alloc(4);
        key.writeUInt32LE(slot);
        const value = Buffer.alloc(4);
        value.writeUInt32LE(p.fd.value);
        mapUpdate(created.map.fd, key, value, UpdateFlag.ANY, `PROG_ARRAY ${m.name} of ${spec.file}, slot ${slot} (program ${name})`);
        say(`${m.name}[${slot}] = program ${name}`);
      }
    }
  } catch (e) {
    for (const p of programs.values()) p.close();
    releaseMaps(maps, true);
    throw e;
  }
  // struct_ops values with the programs' fds, ready to register.
  const values = new Map<string, Buffer>();
  for (const [name, p] of structOps) {
    const value = Buffer.from(p.value);
    for (const [prog, off] of p.funcOffsets) {
      const lp = programs.get(prog);
      if (lp) value.writeBigUInt64LE(BigInt(lp.fd.value), off);
    }
    values.set(name, value);
  }
  return new LoadedObject(maps, programs, skipped, values);
}
