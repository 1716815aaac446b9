// Where the accelerator keeps things: the shipped object, and the names of everything pinned under
// the pin directory. One place, so up, down and status always agree. Nothing is read at import.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;
/** The package's root directory: the first parent of this module with package.json and bpf/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6 && !(existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bpf'))); i++) dir = dirname(dir);
  root = dir;
  return root;
}

/** The BPF object the package ships. */
export function shippedObject(): string {
  return join(packageRoot(), 'bpf', 'sockaccel.bpf.o');
}

/** Set by the bundler (tools/bundle.mjs); undefined when running the plain compiled sources. */
declare const __SOCKACCEL_VERSION__: string | undefined;

let version: string | undefined;
/** The package version: built into the bundles, else read from package.json on first use. */
export function packageVersion(): string {
  version ??= typeof __SOCKACCEL_VERSION__ === 'string'
    ? __SOCKACCEL_VERSION__
    : (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

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

/** The kernel name of the install-record map: how `up` finds other installs on bpffs. */
export const RECORD_MAP_NAME = 'sockaccel_inst';
