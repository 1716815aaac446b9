// One cgroup, one install: a second `up` with another pin dir on the same cgroup, on a child of it
// or on its parent is refused and names the pin dir that owns it (else the second install would be
// silently dead: a socket can be in only one install's map). `down` removes the directories `up`
// created for its pin dir, and no others; a failed `up` leaves nothing behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, UsageError } from '../../src/index.js';
import { readElf } from '../../src/elf/index.js';
import { shippedObject } from '../../src/accel/layout.js';
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

t('a failed up leaves nothing: no pins, no attachment, no directory it made', async () => {
  await withScope('failedup', async (scope) => {
    const cgroup = scope.cgroup();
    const base = scope.pinDir('base');
    mkdirSync(base);
    // The shipped object with the sk_msg program's first instruction made invalid: the loader
    // parses it, maps are created, then the verifier refuses the program.
    const bytes = Buffer.from(readFileSync(shippedObject()));
    const section = readElf(bytes, 'sockaccel.bpf.o').sections.find((x) => x.name === 'sk_msg');
    assert.ok(section, 'the object has an sk_msg section');
    bytes[section!.offset] = 0xff;
    const objectPath = join(scope.tmpDir(), 'broken.bpf.o');
    writeFileSync(objectPath, bytes);
    const pinDir = join(base, 'a', 'b');
    try {
      await up({ cgroup, pinDir, objectPath, maxEntries: 16 });
      assert.unreachable('a refused program must fail up');
    } catch (e) {
      assert.instance(e, BpfError, String(e));
    }
    assert.not.ok(existsSync(join(base, 'a')), 'the directories up made are gone');
    assert.equal(readdirSync(base), [], 'nothing pinned');
    assert.is(sockopsAttachments(cgroup).length, 0, 'nothing attached');
  });
});

t.run();
