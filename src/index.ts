// The package root, `sockaccel-ffi`: the loader's public API. The accelerator is `sockaccel-ffi/accel`.
export { BpfObject } from './load/bpf-object.js';
export { LoadedObject, type LoadOptions } from './load/load.js';
export { LoadedProgram } from './load/loaded-program.js';
export { BpfMap, type MapShape } from './maps/map.js';
export { BpfProgram, type TestRunOptions, type TestRunResult } from './programs/program.js';

export {
  BpfLink, CgroupLink, SockmapLink, RawTracepointLink, TracingLink, PerfEventLink, XdpLink, TcxLink, NetnsLink, IterLink,
  type LinkKind,
} from './link/link.js';
export { ProgAttachment, type ProgAttachTarget } from './link/prog-attach.js';
export type { AttachMethod, AttachableProgram, AttachableMap } from './link/types.js';
export {
  attachCgroup, attachToMap, attachRawTracepoint, attachTracing, attachTracepoint, cgroupAttachment, mapAttachment, openCgroup, type AttachOptions, type Attachment,
} from './link/attach.js';
export { cgroupV2Root, checkCgroupDir, setCgroupV2Root, CGROUP_ROOT_ENV } from './link/cgroup.js';

export {
  hasMapType, hasHelper, hasSockmapLinks, hasCgroupLinks, hasKernelBtf, hasBtfTracepoint, hasKernelFunction, overrideProbe, resetProbes, helperProbeName,
} from './features/probe.js';

export { BpfError, VerifierError, ObjectError, UsageError, type UsageCode, type SourceLine, type ErrorDetails } from './errors.js';
export type { MapInfo, ProgramInfo, LinkInfo, BtfInfo } from './sys/info.js';
export type {
  MapSpec, ProgramSpec, FunctionSpec, GlobalSpec, ObjectSpec, Relocation,
} from './object/index.js';
export {
  Cmd, MapType, ProgType, AttachType, LinkType, MapFlag, UpdateFlag, AttachFlag, ProgFlag, enumName, flagNames,
} from './uapi/enums.js';

// Pins, narration, trace output, privileges: what tools built on the loader (like the accelerator) need.
export { preparePinPath, mountDefaultBpffs, bpffsFor, exists as pathExists, DEFAULT_BPFFS, readMounts, type Mount } from './sys/bpffs.js';
export { withNarration, unnarrated, describeCall } from './sys/explain.js';
export { readTracePipe, parseTraceLine, tracePipe, type TraceLine, type TraceOptions } from './trace/trace-pipe.js';
export { effectiveCaps, hasCap, privileged, Cap, PRIVILEGE_HINT } from './sys/caps.js';
export { errnoName } from './sys/errno.js';
export { inspectObject, renderInspection, type Inspection } from './inspect/inspect.js';
export { narrateObject } from './inspect/narrate.js';

// The escape hatch: the owned fd type and the raw syscall layer, for what the API does not cover yet.
export { Fd, closeOnThrow } from './sys/fd.js';
export { Attr } from './sys/attr.js';
export { bpfCall, bpfTry, cmdName, type SyscallResult } from './sys/syscall.js';
export * as abi from './uapi/index.js';

// What the running kernel can do, as cilium/ebpf's features: { ok, reason, needs }.
export {
  features, haveMapType, haveProgramType, haveHelper, haveLinkKind, featureTable, overrideFeature, featureProbeName, needsText,
  type FeatureAnswer, type FeatureName, type FeatureRow,
} from './features/api.js';
