// The package root, `sockaccel-ffi`: the loader's public API. The accelerator is `sockaccel-ffi/accel`.
export { BpfObject } from './load/bpf-object.js';
export { LoadedObject, type LoadOptions } from './load/load.js';
export { LoadedProgram } from './load/loaded-program.js';
export { BpfMap, type MapShape } from './maps/map.js';
export { BpfProgram, type TestRunOptions, type TestRunResult } from './programs/program.js';

// Events on the event loop: ring buffer and perf buffer readers.
export { RingBufferReader, type RingBufferOptions, type RingBufferStats, type RingBufferMap } from './events/ringbuf.js';
export { PerfBufferReader, type PerfBufferOptions, type PerfBufferStats, type PerfBufferMap, type PerfSample, type UncoveredCpu } from './events/perfbuf.js';
export type { ReaderOptions, ReaderStats } from './events/reader.js';

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

// Attach kinds (issue 13): one function and one type per kind, with the fallbacks older kernels need.
export { TracepointLink, KprobeLink, UprobeLink, KprobeMultiLink, UprobeMultiLink } from './link/link.js';
export { PerfEventAttachment, type PerfAttachOptions, type PerfEventKind } from './link/perf-event.js';
export { attachKprobe, attachKprobeMulti, traceableFunctions, parseProbeTarget, type KprobeOptions, type KprobeMultiOptions } from './link/kprobe.js';
export { attachUprobe, attachUprobeMulti, parseUprobeTarget, type UprobeOptions, type UprobeMultiOptions } from './link/uprobe.js';
export { resolveBinary, symbolOffset, symbolOffsets } from './link/uprobe-target.js';
export { attachXdp, xdpState, XdpNetlinkAttachment, type XdpMode, type XdpOptions, type XdpState } from './link/xdp.js';
export { attachTc, tcHook, TcFilterAttachment, type TcDirection, type TcOptions, type TcAnchor } from './link/tc.js';
export type { HookQuery } from './sys/link-commands.js';
export type { InterfaceOptions } from './link/interface.js';
export { attachSocketFilter, SocketFilterAttachment } from './link/socket-filter.js';
export { socketFd, type SocketRef } from './link/socket-fd.js';
export { attachNetns, attachSkLookup } from './link/netns.js';
export { attachIter, type IterOptions } from './link/iter.js';
export { attachBySection, syscallFunction, type AttachTarget } from './link/auto-attach.js';
export { inNetns, openNetns, type NetnsRef } from './sys/netns.js';
export { hasPerfEventLinks, hasXdpLinks, hasTcxLinks, hasProbePmu, hasKernelStruct, kernelAtLeast } from './features/probe.js';

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

// Maps: typed keys and values from BTF, batch operations (issue 13).
export { TypedMap } from './maps/typed.js';
export { BatchCursor, type BatchPage } from './maps/batch.js';
export type { LookupOptions, WalkOptions, BatchOptions } from './maps/map.js';
export type { WalkStats } from './maps/walk.js';
export { codecFor, codecOfShape, type Codec } from './btf/codec.js';
export { shapeOf, shapeSize, shapeSignature, type Shape, type FieldShape, type RecordShape, type BtfTypes } from './btf/shape.js';
export { Btf } from './btf/btf.js';
export { hasMapBatch, mapBatchProbeName, type MapBatchOp } from './features/probe.js';

// Generated modules (`sockaccel-ffi gen`): what they import, and the generator itself.
export { Skeleton, LoadedSkeleton, type SkeletonLayout } from './gen/skeleton.js';
export { generateModule, type GenOptions } from './gen/typescript.js';

// What the running kernel can do, as cilium/ebpf's features: { ok, reason, needs }.
export {
  features, haveMapType, haveProgramType, haveHelper, haveLinkKind, featureTable, overrideFeature, featureProbeName, needsText,
  type FeatureAnswer, type FeatureName, type FeatureRow,
} from './features/api.js';
