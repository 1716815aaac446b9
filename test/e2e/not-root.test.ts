// The CLI run as an unprivileged user (nobody): exit code 1, one clear message telling to run as
// root or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, no stack trace, and nothing attached or pinned.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cgroupAttachments, cliAsNobody, listPins, run, withScope } from '../support/index.js';

const t = suite('e2e: not root');

const STACK = /^\s+at .+[:(]\d+:\d+\)?$/m;

for (const verb of ['up', 'down'] as const) {
  t(`CLI ${verb} as nobody: exit 1, says to run as root or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON`, async () => {
    await withScope(`nonroot${verb}`, async (scope) => {
      const cgroup = scope.cgroup();
      const pinDir = scope.pinDir();
      const args = verb === 'up' ? ['up', '--cgroup', cgroup, '--pin-dir', pinDir] : ['down', '--pin-dir', pinDir];
      if (verb === 'down') {
        // Something must be installed for down to have anything to refuse.
        const { up } = await import('../../src/accel/index.js');
        await up({ cgroup, pinDir });
      }
      // As nobody, from a copy of the package when nobody cannot read the checkout (under /root, say).
      const u = cliAsNobody(args);
      const r = await run(u.cmd, u.argv, { timeoutMs: 30_000, cwd: u.cwd, env: { PATH: process.env.PATH, HOME: '/tmp' } });
      assert.is(r.code, 1, `exit code as nobody; stdout: ${r.stdout} stderr: ${r.stderr}`);
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
