// The object layer: everything about a BPF object file that needs no kernel — parse the ELF, BTF and
// BTF.ext into specs, link subprograms, apply CO-RE against a target BTF, patch map references with
// the fds the caller gives. Like aya-obj: no syscall, no native binding (test/unit/layers.test.ts).
export { parseObject, objectName } from './parse.js';
export { setGlobal } from './globals.js';
export { lookupSection, programKindOf, SECTION_DEFS, type SectionDef, type ProgramKind } from './sections.js';
export { linkFunctions, type LinkedProgram } from './link-functions.js';
export { applyMapRelocations, type AppliedRelocation } from './relocate.js';
export { applyCoreRelocations, explainPoisoned, POISON_IMM, type AppliedCoreRelocation, type CoreContext } from './core-apply.js';
export { encodeFuncInfo, encodeLineInfo, sourceFinder, FUNC_INFO_REC_SIZE, LINE_INFO_REC_SIZE } from './program-btf.js';
export { kernelName, sanitizeName } from './names.js';
export type { MapSpec, ProgramSpec, FunctionSpec, GlobalSpec, ObjectSpec, Relocation, FuncInfo, LineInfo, CoreRelo } from './spec.js';
