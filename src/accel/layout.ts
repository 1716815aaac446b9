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
  services: 'services',
  conns: 'conns',
  config: 'config',
  portRules: 'port_rules',
  sockopsProgram: 'sockaccel_sockops',
  excludeProgram: 'sockaccel_exclude',
  msgProgram: 'sockaccel_msg',
} as const;

/** Every map of the object: pinned under its own name, so a resumed or inspected install finds them. */
export const MAP_NAMES = ['sock_hash', 'passed', 'counters', 'services', 'conns', 'config', 'port_rules', 'signal_tgids', 'in_splice'] as const;

/**
 * The observers of the learning policy, by kernel: on 6.3+ BTF-typed tracepoints; before that BPF
 * trampolines (fexit) where the kernel has them. The rest exist on every supported kernel.
 */
export const OBSERVERS = {
  tp_btf: ['obs_send', 'obs_recv'],
  fexit: ['obs_send_fexit', 'obs_recv_fexit', 'obs_recv6_fexit'],
  always: ['obs_space', 'obs_splice_enter', 'obs_splice_exit', 'obs_signal'],
} as const;
export const ALL_OBSERVERS: readonly string[] = [...OBSERVERS.tp_btf, ...OBSERVERS.fexit, ...OBSERVERS.always];

/** Pin names under the pin directory. */
export const PIN = {
  sockHash: 'sock_hash',
  passed: 'passed',
  counters: 'counters',
  services: 'services',
  config: 'config',
  sockopsProgram: 'prog_sockops',
  msgProgram: 'prog_msg',
  excludeProgram: 'prog_exclude',
  /** The first sock_ops link; further cgroups get link_sockops_1, _2… (bpffs refuses dots in names: EPERM) */
  sockopsLink: 'link_sockops',
  msgLink: 'link_msg',
  /** A one-element ARRAY map holding the install record (JSON): bpffs holds only BPF objects. */
  record: 'install',
} as const;

export type PinName = keyof typeof PIN;

export function pinPath(pinDir: string, name: PinName): string {
  return join(pinDir, PIN[name]);
}

/** The pin of the i-th sock_ops link (one per accelerated cgroup), of an exclude marker, of an observer. */
export const sockopsLinkPin = (pinDir: string, i: number) => join(pinDir, i === 0 ? PIN.sockopsLink : `${PIN.sockopsLink}_${i}`);
export const excludeLinkPin = (pinDir: string, i: number) => join(pinDir, `link_exclude_${i}`);
export const programPin = (pinDir: string, program: string) => join(pinDir, `prog_${program}`);
export const observerLinkPin = (pinDir: string, program: string) => join(pinDir, `link_${program}`);
export const mapPin = (pinDir: string, map: string) => join(pinDir, map);

/** Is this file in a pin dir one of ours (for sweeps: down, leftovers, status)? */
export function isOurPin(name: string): boolean {
  return name === PIN.record || (MAP_NAMES as readonly string[]).includes(name) || name.startsWith('prog_') || name.startsWith('link_');
}

/** The kernel name of the install-record map: how `up` finds other installs on bpffs. */
export const RECORD_MAP_NAME = 'sockaccel_inst';
