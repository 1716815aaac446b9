// `sockaccel-ffi/accel`: the accelerator's verbs as library functions; the CLI is a thin layer over
// these. Built on the loader's public API only (`sockaccel-ffi`), like any other user of it.
export { up, hasNetnsCookieInSockops } from './up.js';
export { down, trackedConnections } from './down.js';
export { status, stats, services } from './status.js';
export type { ServiceInfo, Verdict } from './policy.js';
export { verify } from './verify.js';
export * from './types.js';
export { doctor, type DoctorCheckResult } from './doctor.js';
export { trace, TRACE_MARKER, type TraceLine, type TraceOptions } from './trace.js';
export { packageVersion } from './layout.js';
