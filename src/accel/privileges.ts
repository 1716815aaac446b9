// Checked up front, so the user gets one clear line instead of an EPERM halfway through. The
// accelerator's programs need CAP_PERFMON besides CAP_BPF and CAP_NET_ADMIN: they read kernel memory
// (the psock's queue, the file's flags) and format trace lines (bpf_snprintf), which the verifier
// allows only with it; without it the load fails as a verifier refusal, far less clearly.
import { privileged, UsageError } from '../index.js';
import { ACCEL_PRIVILEGE_HINT } from './privilege-hint.js';

export function requirePrivileges(verb: string): void {
  if (!privileged(undefined, { tracing: true })) {
    throw new UsageError('NEEDS_PRIVILEGES', `${verb} needs privileges this process does not have`, { hint: ACCEL_PRIVILEGE_HINT });
  }
}
