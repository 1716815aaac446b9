// BPF iterators read as streams: iter/task lists this process's threads (pid, tid, comm checked
// against /proc), iter/bpf_map lists a map made here with its id and size, and iter/bpf_map_elem
// prints the elements of a map filled here — each through open() (an async iterator of chunks),
// read()/readText() and readSync(); every read is a fresh run that sees the current state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { BpfMap, IterLink, MapType, UsageError, type LoadedProgram } from '../../src/index.js';
import { skipIf } from '../support/skip.js';
import { loadFixture } from './attach-helpers.js';

const t = suite('attach: BPF iterators');

/** Whether this kernel loads the map-element iterator (this host refuses it with EPERM at load). */
function elemIterLoads(): string | undefined {
  try {
    loadFixture('attach_iter.bpf.o', ['dump_elem']).close();
    return undefined;
  } catch (e) {
    return `this kernel refuses iter/bpf_map_elem programs at load: ${(e as Error).message.split(' — ')[0]}; run in the VMs (npm run test:vm -- 6.12 --only kernel/attach-iter)`;
  }
}
const elemTest = skipIf(t, elemIterLoads());

t('iter/task: every thread of this process, as /proc lists them, in a stream of chunks', async () => {
  const f = loadFixture('attach_iter.bpf.o', ['dump_task']);
  try {
    const link = (f.loaded.programs.get('dump_task') as LoadedProgram).attach();
    assert.instance(link, IterLink);
    let text = '';
    let chunks = 0;
    for await (const chunk of (link as IterLink).open({ highWaterMark: 4096 })) { text += chunk; chunks++; }
    assert.ok(chunks >= 1);
    const mine = text.split('\n').filter((l) => l.startsWith(`${process.pid} `)).map((l) => Number(l.split(' ')[1])).sort((a, b) => a - b);
    const proc = readdirSync(`/proc/${process.pid}/task`).map(Number).sort((a, b) => a - b);
    assert.ok(proc.every((tid) => mine.includes(tid)), `threads ${proc} all listed (got ${mine})`);
    const comm = readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
    assert.ok(text.includes(`${process.pid} ${process.pid} ${comm}\n`), `the main thread with its comm ${comm}`);
    assert.ok(text.split('\n').length > 20, 'and the other tasks of the machine');
    link.close();
  } finally {
    f.close();
  }
});

t('iter/bpf_map: a map made here is listed with its id, name and size; each read is a fresh run', async () => {
  const f = loadFixture('attach_iter.bpf.o', ['dump_map']);
  const link = f.loaded.programs.get('dump_map')!.attachIter();
  try {
    const before = link.readSync().toString();
    const map = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 77, name: 'iter_probe', flags: 0 });
    try {
      const id = map.info().id;
      assert.not.ok(before.includes(`${id} iter_probe`));
      assert.ok((await link.readText()).includes(`${id} iter_probe 77\n`));
      assert.ok(link.readSync().toString().includes(`${id} iter_probe 77\n`));
    } finally {
      map.close();
    }
  } finally {
    link.close();
    f.close();
  }
});

elemTest('iter/bpf_map_elem over a map: its elements as KEY=VALUE', async () => {
  const f = loadFixture('attach_iter.bpf.o', ['dump_elem']);
  const map = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8, name: 'iter_elems', flags: 0 });
  try {
    for (const [k, v] of [[1, 10n], [2, 20n], [3, 30000000000n]] as const) {
      const key = Buffer.alloc(4); key.writeUInt32LE(k);
      const value = Buffer.alloc(8); value.writeBigUInt64LE(v);
      map.update(key, value);
    }
    const link = (f.loaded.programs.get('dump_elem') as LoadedProgram).attach({ map });
    assert.instance(link, IterLink);
    const lines = (await (link as IterLink).readText()).trim().split('\n').sort();
    assert.equal(lines, ['1=10', '2=20', '3=30000000000']);
    link.close();
    assert.throws(() => f.loaded.programs.get('dump_elem')!.attachIter(), (e: unknown) => e instanceof Error && /BPF_LINK_CREATE|needs/.test(e.message));
  } finally {
    map.close();
    f.close();
  }
});

t('refusals: a non-iterator program, two iteration targets at once', () => {
  const f = loadFixture('attach_iter.bpf.o', ['dump_task']);
  try {
    const map = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: 'x', flags: 0 });
    try {
      assert.throws(() => f.loaded.programs.get('dump_task')!.attachIter({ map, task: { pid: 1 } }), (e: unknown) => e instanceof UsageError && /one of map, cgroup, task/.test(e.message));
    } finally {
      map.close();
    }
    const task = f.loaded.programs.get('dump_task')!.attachIter({ task: { pid: process.pid } });
    const lines = task.readSync().toString().trim().split('\n');
    assert.ok(lines.length >= 1 && lines.every((l) => l.startsWith(`${process.pid} `)), `only this process's threads (6.1+): ${lines.slice(0, 3)}`);
    task.close();
  } finally {
    f.close();
  }
});

t.run();
