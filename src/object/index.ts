// The object layer: everything about a BPF object file that needs no kernel — parse the ELF, BTF and
// BTF.ext into specs, link subprograms, apply CO-RE against a target BTF, patch map references with
// the fds the caller gives. Like aya-obj: no syscall, no native binding (test/unit/layers.test.ts).
export { parseObject, objectName } from './parse.js';
export { setGlobal } from './globals.js';
export { knownSectionNames, lookupSection, programKindOf, progFlagsOf, SecFlag, SECTION_DEFS, splitAutoload, unknownSectionError, type SectionDef, type ProgramKind } from './sections.js';
export { linkFunctions, type LinkedProgram } from './link-functions.js';
export { applyExternRelocations, applyMapRelocations, POISON_KFUNC_BASE, POISON_MAP_BASE, type AppliedRelocation, type ExternValue } from './relocate.js';
export { applyCoreRelocations, explainPoisoned, POISON_IMM, type AppliedCoreRelocation, type CoreContext } from './core-apply.js';
export { encodeFuncInfo, encodeLineInfo, sourceFinder, FUNC_INFO_REC_SIZE, LINE_INFO_REC_SIZE } from './program-btf.js';
export { kernelName, sanitizeName } from './names.js';
export type { MapSpec, ProgramSpec, FunctionSpec, GlobalSpec, ObjectSpec, Relocation, FuncInfo, LineInfo, CoreRelo, ExternSpec, StructOpsSpec } from './spec.js';
export { alignOf, KCONFIG_SECTION, KSYMS_SECTION } from './externs.js';
