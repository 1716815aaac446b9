// One cgroup, one install: a second `up` with another pin dir on the same cgroup, on a child of it
// or on its parent is refused and names the pin dir that owns it (else the second install would be
// silently dead: a socket can be in only one install's map). `down` removes the directories `up`
// created for its pin dir, and no others.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/index.js';
import { down, up } from '../../src/accel/index.js';
import { sockopsAttachments, withScope } from '../support/index.js';

const t = suite('e2e: installs do not overlap');

async function refused(p: Promise<unknown>, owner: string): Promise<void> {
  try {
    await p;
    assert.unreachable('the second install must be refused');
  } catch (e) {
    assert.instance(e, UsageError, String(e));
    assert.is((e as UsageError).code, 'CONFLICT');
    assert.match((e as Error).message, owner);
    assert.match((e as UsageError).hint ?? '', `down --pin-dir ${owner}`);
  }
}

t('a second install on the same cgroup, a child or the parent is refused, naming the first', async () => {
  await withScope('overlap', async (scope) => {
    const parent = scope.cgroup();
    const child = join(parent, 'child');
    mkdirSync(child);
    scope.defer(`rmdir ${child}`, () => { if (existsSync(child)) rmdirSync(child); });
    const first = scope.pinDir('first');
    const second = scope.pinDir('second');
    await up({ cgroup: child, pinDir: first, maxEntries: 16 });
    await refused(up({ cgroup: child, pinDir: second, maxEntries: 16 }), first);
    await refused(up({ cgroup: parent, pinDir: second, maxEntries: 16 }), first);
    assert.not.ok(existsSync(second), 'nothing of the refused install was pinned');
    assert.is(sockopsAttachments(parent).length, 0, 'nothing attached to the parent');
    assert.is(sockopsAttachments(child).length, 1, 'only the first install on the child');
    assert.ok((await down({ pinDir: first, timeoutMs: 5000 })).complete);
    // With the first one gone, the same up is fine.
    await up({ cgroup: parent, pinDir: second, maxEntries: 16 });
    await refused(up({ cgroup: child, pinDir: first, maxEntries: 16 }), second);
    assert.ok((await down({ pinDir: second, timeoutMs: 5000 })).complete);
  });
});

t('down removes the directories up created for the pin dir, not those that were there', async () => {
  await withScope('dirs', async (scope) => {
    const cgroup = scope.cgroup();
    const base = scope.pinDir('base');
    mkdirSync(base);
    const pinDir = join(base, 'a', 'b', 'c');
    await up({ cgroup, pinDir, maxEntries: 16 });
    assert.ok(existsSync(pinDir));
    const r = await down({ pinDir, timeoutMs: 5000 });
    assert.ok(r.complete);
    assert.not.ok(existsSync(join(base, 'a')), 'the parents up created are gone');
    assert.ok(existsSync(base), 'the directory that was there before stays');
  });
});

t.run();
