// Network namespaces for tests: each has its own loopback (and its own lo counters).
import { RUN_ID } from './run-id.js';
import { sh } from './proc.js';

let counter = 0;
/** `ip netns add` a fresh namespace with lo up; returns its name. */
export function addNetns(tag: string): string {
  const name = `sae2e-${RUN_ID}-${++counter}-${tag.replace(/[^a-z0-9]/gi, '')}`.slice(0, 60);
  sh('ip', ['netns', 'add', name]);
  try {
    sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    deleteNetns(name);
    throw e;
  }
  return name;
}

export function deleteNetns(name: string): void {
  try {
    sh('ip', ['netns', 'del', name]);
  } catch (e) {
    if (!/No such file|Cannot remove/.test((e as Error).message)) throw e;
  }
}

/** Run a quick command inside the namespace and return its stdout. */
export function netnsExec(name: string, cmd: string, args: string[], timeoutMs = 10_000): string {
  return sh('ip', ['netns', 'exec', name, cmd, ...args], timeoutMs);
}
