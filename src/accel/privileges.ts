// Checked up front, so the user gets one clear line instead of an EPERM halfway through.
import { PRIVILEGE_HINT, privileged, UsageError } from '../index.js';

export function requirePrivileges(verb: string): void {
  if (!privileged()) {
    throw new UsageError('NEEDS_PRIVILEGES', `${verb} needs privileges this process does not have`, { hint: PRIVILEGE_HINT });
  }
}
