// up is idempotent (same settings: changed:false, still ONE sock_ops attachment), changes policy,
// ports and tracing in place (same program), replaces an install of another shape (still one
// attachment, a new program), and down twice is a no-op the second
// time. The same through the CLI, by exit codes and bpftool.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { down, status, up } from '../../src/accel/index.js';
import { CLI, listPins, run, sockopsAttachments, withScope } from '../support/index.js';

const t = suite('e2e: up/down idempotence');

t('library: up twice, up with other settings, down twice', async () => {
  await withScope('idem', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();

    const first = await up({ cgroup, pinDir });
    assert.is(first.changed, true, 'first up changes something');
    assert.is(first.replaced, false);
    assert.is(first.status.up, true);
    const a1 = sockopsAttachments(cgroup);
    assert.is(a1.length, 1, `bpftool: sock_ops attachments after first up: ${JSON.stringify(a1)}`);
    assert.is(a1[0]!.id, first.status.sockops?.programId, 'bpftool sees the program status() reports');

    const second = await up({ cgroup, pinDir });
    assert.is(second.changed, false, 'same settings again: nothing changed');
    assert.is(second.replaced, false);
    const a2 = sockopsAttachments(cgroup);
    assert.is(a2.length, 1, `bpftool: sock_ops attachments after second up: ${JSON.stringify(a2)}`);
    assert.is(a2[0]!.id, a1[0]!.id, 'the same program stays attached');

    const third = await up({ cgroup, pinDir, trace: true, policy: 'learn', ports: [80] });
    assert.is(third.changed, true, 'tracing and ports: changed');
    assert.is(third.replaced, false, 'tracing and ports change the config maps in place, nothing is replaced');
    assert.is(third.status.trace, true);
    assert.equal(third.status.ports, [80]);
    assert.equal(sockopsAttachments(cgroup).map((a) => a.id), [a1[0]!.id], 'bpftool: the same program stays attached');

    const fourth = await up({ cgroup, pinDir, maxEntries: 1024 });
    assert.is(fourth.changed, true, 'another map size: changed');
    assert.is(fourth.replaced, true, 'another map size: the old install was replaced');
    assert.is(fourth.status.maxEntries, 1024);
    assert.is(fourth.status.trace, false);
    const a3 = sockopsAttachments(cgroup);
    assert.is(a3.length, 1, `bpftool: sock_ops attachments after replacing: ${JSON.stringify(a3)}`);
    assert.is.not(a3[0]!.id, a1[0]!.id, 'a new program replaced the old one');
    assert.is(a3[0]!.id, fourth.status.sockops?.programId);

    const d1 = await down({ pinDir, timeoutMs: 5000 });
    assert.equal({ wasUp: d1.wasUp, complete: d1.complete, remaining: d1.remaining }, { wasUp: true, complete: true, remaining: 0 });
    assert.equal(sockopsAttachments(cgroup), [], 'nothing attached after down');
    assert.equal(listPins(pinDir), [], 'nothing pinned after down');
    assert.is(status({ pinDir }).up, false);
    const d2 = await down({ pinDir, timeoutMs: 5000 });
    assert.is(d2.wasUp, false, 'second down: was not up');
    assert.is(d2.complete, true);
  });
});

t('CLI: up twice and down twice exit 0; one attachment, then none', async () => {
  await withScope('idemcli', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { timeoutMs: 30_000 });

    const ids: number[] = [];
    for (const round of [1, 2]) {
      const r = await cli('up', '--cgroup', cgroup, '--pin-dir', pinDir);
      assert.is(r.code, 0, `up #${round} exit code; stderr: ${r.stderr}`);
      const att = sockopsAttachments(cgroup);
      assert.is(att.length, 1, `bpftool after CLI up #${round}: ${JSON.stringify(att)}`);
      ids.push(att[0]!.id);
      assert.is(status({ pinDir }).up, true);
    }
    assert.is(ids[1], ids[0], 'the second CLI up left the same program attached (nothing changed)');
    for (const round of [1, 2]) {
      const r = await cli('down', '--pin-dir', pinDir, '--timeout', '5');
      assert.is(r.code, 0, `down #${round} exit code; stderr: ${r.stderr}`);
      assert.equal(sockopsAttachments(cgroup), [], `bpftool after CLI down #${round}`);
      assert.equal(listPins(pinDir), []);
    }
  });
});

t.run();
