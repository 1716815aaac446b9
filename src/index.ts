// The package root: the loader's public API. The accelerator's verbs are exported from here too.
export { BpfObject } from './object/object.js';
export { BpfMap } from './maps/map.js';
export { BpfProgram, type TestRunOptions, type TestRunResult } from './programs/program.js';
export { BpfLink, type AttachMethod } from './link/link.js';
export { attachCgroup, attachToMap, type AttachOptions } from './link/attach.js';
export { LoadedObject, LoadedProgram, type LoadOptions } from './load/load.js';
export { BpfError, ObjectError } from './errors.js';
export type { MapSpec, ProgramSpec, FunctionSpec, GlobalSpec, ObjectSpec, Relocation } from './object/spec.js';
export type { MapInfo, ProgramInfo, LinkInfo } from './sys/info.js';
export { MapType, ProgType, AttachType, MapFlag, UpdateFlag } from './sys/constants.js';
export { up, down, status, stats, verify, doctor, trace, cgroupV2Root } from './sockaccel/index.js';
export type { UpOptions, UpResult, DownOptions, DownResult, Status, Stats, VerifyResult, DoctorCheck } from './sockaccel/index.js';
