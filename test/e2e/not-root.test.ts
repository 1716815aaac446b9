// The CLI run as an unprivileged user (nobody): exit code 1, one clear message telling to run as
// root or with CAP_BPF and CAP_NET_ADMIN, no stack trace, and nothing attached or pinned.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, REPO_ROOT, cgroupAttachments, listPins, run, withScope } from '../support/index.js';

const t = suite('e2e: not root');

/** argv that runs `args` as user nobody (setpriv, or su when setpriv is missing). If nobody cannot
 * read the package (a checkout under /root, say), fall back to root with every capability dropped
 * (empty bounding set), which the CLI must refuse the same way. */
function unprivileged(args: string[]): { cmd: string; argv: string[]; who: string } {
  const setpriv = existsSync('/usr/bin/setpriv') || existsSync('/bin/setpriv');
  const nobodyCanRead = [CLI, join(REPO_ROOT, 'node_modules', 'commander', 'package.json')].every((f) =>
    spawnSync(setpriv ? 'setpriv' : 'su', setpriv
      ? ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', f]
      : ['-s', '/bin/sh', 'nobody', '-c', `test -r '${f}'`], { timeout: 10_000 }).status === 0);
  if (!nobodyCanRead) {
    return { cmd: 'setpriv', argv: ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', ...args], who: 'root without capabilities' };
  }
  if (setpriv) return { cmd: 'setpriv', argv: ['--reuid=65534', '--regid=65534', '--clear-groups', ...args], who: 'nobody' };
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return { cmd: 'su', argv: ['-s', '/bin/sh', 'nobody', '-c', quoted], who: 'nobody' };
}

const STACK = /^\s+at .+[:(]\d+:\d+\)?$/m;

for (const verb of ['up', 'down'] as const) {
  t(`CLI ${verb} as nobody: exit 1, says to run as root or with CAP_BPF and CAP_NET_ADMIN`, async () => {
    await withScope(`nonroot${verb}`, async (scope) => {
      const cgroup = scope.cgroup();
      const pinDir = scope.pinDir();
      const args = verb === 'up' ? ['up', '--cgroup', cgroup, '--pin-dir', pinDir] : ['down', '--pin-dir', pinDir];
      if (verb === 'down') {
        // Something must be installed for down to have anything to refuse.
        const { up } = await import('../../src/accel/index.js');
        await up({ cgroup, pinDir });
      }
      const u = unprivileged([process.execPath, CLI, ...args]);
      const r = await run(u.cmd, u.argv, { timeoutMs: 30_000, env: { PATH: process.env.PATH, HOME: '/tmp' } });
      assert.is(r.code, 1, `exit code as ${u.who}; stdout: ${r.stdout} stderr: ${r.stderr}`);
      assert.match(r.stderr, /run as root/i, `stderr: ${r.stderr}`);
      assert.match(r.stderr, /CAP_BPF/, `stderr: ${r.stderr}`);
      assert.match(r.stderr, /CAP_NET_ADMIN/, `stderr: ${r.stderr}`);
      assert.not.match(r.stderr, STACK, `stack trace on stderr: ${r.stderr}`);
      assert.ok(r.stderr.trim().split('\n').length <= 3, `a short message, not a dump: ${r.stderr}`);
      if (verb === 'up') {
        assert.equal(cgroupAttachments(cgroup), [], 'nothing attached');
        assert.equal(listPins(pinDir), [], 'nothing pinned');
      } else {
        assert.is(cgroupAttachments(cgroup).length, 1, 'the install is untouched');
      }
    });
  });
}

t.run();
