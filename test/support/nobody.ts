// The CLI run as user nobody (setpriv), for the not-root tests. nobody must be able to read the CLI,
// its node_modules and the BPF object: a checkout under a 0700 home (/root) is not readable, so then
// what the CLI needs (dist without its tests, node_modules, bpf, package.json; node itself too if
// nobody cannot run it) is copied once to a world-readable temporary directory, removed on exit.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CLI, REPO_ROOT } from './paths.js';
import { need } from './tools.js';

export const AS_NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

function nobodyCan(test: '-r' | '-x', path: string): boolean {
  return spawnSync(need('setpriv'), [...AS_NOBODY, 'test', test, path], { timeout: 10_000, cwd: '/' }).status === 0;
}

let placed: { node: string; cli: string; copy?: string } | undefined;

/** node and the CLI entry point, both runnable by nobody (a copy when the checkout is not). */
export function cliForNobody(): { node: string; cli: string; copy?: string } {
  if (placed) return placed;
  let node = process.execPath;
  let cli = CLI;
  let copy: string | undefined;
  const readable = [CLI, join(REPO_ROOT, 'node_modules', 'commander', 'package.json'), join(REPO_ROOT, 'bpf', 'sockaccel.bpf.o')].every((f) => nobodyCan('-r', f));
  const runnable = nobodyCan('-x', node);
  if (!readable || !runnable) {
    copy = mkdtempSync(join(tmpdir(), 'sockaccel-nobody-'));
    const dir = copy;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    if (!readable) {
      const skip = [join(REPO_ROOT, 'node_modules', '.bin'), join(REPO_ROOT, 'dist', 'test')];
      for (const p of ['package.json', 'bpf', 'node_modules', 'dist']) {
        cpSync(join(REPO_ROOT, p), join(dir, p), { recursive: true, filter: (src) => !skip.includes(src) });
      }
      cli = join(dir, relative(REPO_ROOT, CLI));
    }
    if (!runnable) {
      node = join(dir, 'node');
      copyFileSync(process.execPath, node);
    }
    const chmod = spawnSync('chmod', ['-R', 'a+rX', dir]);
    if (chmod.status !== 0) throw new Error(`chmod -R a+rX ${dir} failed: ${chmod.stderr}`);
    chmodSync(dir, 0o755);
  }
  return (placed = { node, cli, copy });
}

/** The command that runs `sockaccel-ffi ARGS` as nobody, from a directory nobody can enter. */
export function cliAsNobody(args: string[]): { cmd: string; argv: string[]; cwd: string } {
  const { node, cli } = cliForNobody();
  return { cmd: need('setpriv'), argv: [...AS_NOBODY, node, cli, ...args], cwd: '/' };
}
