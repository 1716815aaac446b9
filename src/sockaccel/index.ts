// The accelerator's verbs as library functions; the CLI is a thin layer over these.
export { up } from './up.js';
export { down, trackedConnections } from './down.js';
export { status, stats } from './status.js';
export { verify } from './verify.js';
export { cgroupV2Root } from './cgroup.js';
export * from './types.js';
export { doctor, type DoctorCheckResult } from './doctor.js';
export { trace, type TraceLine, type TraceOptions } from './trace.js';
