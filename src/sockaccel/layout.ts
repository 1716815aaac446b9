// Where the accelerator keeps things: the shipped object, and the names of everything pinned under
// the pin directory. One place, so up, down and status always agree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Package root: this file is dist/src/sockaccel/layout.js. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const SHIPPED_OBJECT = join(ROOT, 'bpf', 'sockaccel.bpf.o');

export const VERSION: string = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Names in the object (bpf/sockaccel.bpf.c). */
export const OBJ = {
  sockHash: 'sock_hash',
  passed: 'passed',
  counters: 'counters',
  sockopsProgram: 'sockaccel_sockops',
  msgProgram: 'sockaccel_msg',
  traceSwitch: 'trace_enabled',
} as const;

/** Pin names under the pin directory. */
export const PIN = {
  sockHash: 'sock_hash',
  passed: 'passed',
  counters: 'counters',
  sockopsProgram: 'prog_sockops',
  msgProgram: 'prog_msg',
  sockopsLink: 'link_sockops',
  msgLink: 'link_msg',
  /** A one-element ARRAY map holding the install record (JSON): bpffs holds only BPF objects. */
  record: 'install',
} as const;

export type PinName = keyof typeof PIN;
/** Every pin name, for sweeps (down, leftovers, status). */
export const PIN_NAMES = Object.keys(PIN) as PinName[];

export function pinPath(pinDir: string, name: keyof typeof PIN): string {
  return join(pinDir, PIN[name]);
}
