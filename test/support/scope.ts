// One test's resources and their cleanup. Everything a test creates goes through a Scope, and
// `close()` (called from `finally`) undoes it in reverse order even when the test failed:
// peers killed by pid, netns deleted, the accelerator taken down (forced, bounded), pins removed,
// the cgroup emptied and removed. Errors during cleanup are collected and reported, not hidden.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCgroup, removeCgroup } from './cgroup.js';
import { addNetns, deleteNetns } from './netns.js';
import { listPins, removePinDir, tempPinDir } from './pins.js';
import { start, type Proc, type StartOptions } from './proc.js';

type Cleanup = { what: string; fn: () => void | Promise<void> };

export class Scope {
  private cleanups: Cleanup[] = [];
  private procs: Proc[] = [];

  constructor(readonly tag: string) {}

  defer(what: string, fn: () => void | Promise<void>): void {
    this.cleanups.push({ what, fn });
  }

  cgroup(name = this.tag): string {
    const dir = createCgroup(name);
    this.defer(`remove cgroup ${dir}`, () => removeCgroup(dir));
    return dir;
  }

  netns(name = this.tag): string {
    const ns = addNetns(name);
    this.defer(`delete netns ${ns}`, () => deleteNetns(ns));
    return ns;
  }

  /** A private temporary directory, removed with everything in it. */
  tmpDir(name = this.tag): string {
    const dir = mkdtempSync(join(tmpdir(), `sae2e-${name}-`));
    this.defer(`rm -r ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A pin directory; cleanup takes down whatever is still installed there (forced), then rm -rf. */
  pinDir(name = this.tag): string {
    const dir = tempPinDir(name);
    this.defer(`down and remove ${dir}`, async () => {
      if (listPins(dir).length > 0) {
        const { down } = await import('../../src/accel/index.js');
        try {
          await down({ pinDir: dir, force: true, timeoutMs: 1000 });
        } finally {
          removePinDir(dir);
        }
      }
      removePinDir(dir);
    });
    return dir;
  }

  start(cmd: string, args: string[], opts: StartOptions): Proc {
    const p = start(cmd, args, opts);
    this.procs.push(p);
    this.defer(`kill pid ${p.pid} (${cmd})`, async () => {
      p.kill();
      await Promise.race([p.done, new Promise((r) => setTimeout(r, 3000))]);
    });
    return p;
  }

  async close(): Promise<void> {
    const errors: string[] = [];
    // Peers first (they hold sockets in the map and keep namespaces alive), then the rest in reverse.
    const order = [...this.cleanups].reverse();
    const kills = order.filter((c) => c.what.startsWith('kill pid'));
    const rest = order.filter((c) => !c.what.startsWith('kill pid'));
    for (const c of [...kills, ...rest]) {
      try {
        await c.fn();
      } catch (e) {
        errors.push(`${c.what}: ${(e as Error).message}`);
      }
    }
    this.cleanups = [];
    if (errors.length) throw new Error(`cleanup of ${this.tag} failed:\n  ${errors.join('\n  ')}`);
  }
}

/** Run `body` with a fresh Scope, always closing it. A cleanup error is thrown only when the body passed. */
export async function withScope<T>(tag: string, body: (s: Scope) => Promise<T>): Promise<T> {
  const s = new Scope(tag);
  let ok = false;
  try {
    const r = await body(s);
    ok = true;
    return r;
  } finally {
    try {
      await s.close();
    } catch (e) {
      if (ok) throw e;
      console.error(String(e));
    }
  }
}

/**
 * Setup shared by the tests of one suite, done lazily inside the first test that needs it.
 * Not in uvu's `before` hook on purpose: uvu 0.5 swallows an exception thrown by `before` (its
 * runner returns from `finally`), and the suite then "passes" with 0 tests run. Here a failing
 * setup fails every test that needs it. `close` (for `after`) never throws into uvu; a cleanup
 * failure is printed and fails the run through the exit code (set on exit: uvu sets
 * process.exitCode itself after the last suite, which would overwrite an earlier 1).
 */
export function sharedSetup<T>(tag: string, setup: (s: Scope) => Promise<T>): { get(): Promise<T>; close(): Promise<void>; scope: Scope } {
  const scope = new Scope(tag);
  let p: Promise<T> | undefined;
  return {
    scope,
    get: () => (p ??= setup(scope)),
    async close() {
      try {
        await scope.close();
      } catch (e) {
        console.error(String(e));
        process.on('exit', () => { process.exitCode = 1; });
      }
    },
  };
}
