// `sockaccel-ffi bench` end to end, short: the CLI builds the load generator, installs its own
// sockaccels (policy learn, and policy all with --compare-all) in temporary cgroups, measures the
// four transports, prints JSON of the documented shape with the policy's decision per row and each
// install's counters, writes the chart and table, and leaves nothing behind.
// Speed is not asserted (that is the benchmark's job), only that every piece works.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cgroupRoot } from '../support/cgroup.js';

const CLI = fileURLToPath(new URL('../../pkg/cli.js', import.meta.url));
const leftovers = () => ({
  cgroups: readdirSync(cgroupRoot()).filter((n) => n.startsWith('sockaccel-bench-')),
  pins: readdirSync('/sys/fs/bpf').filter((n) => n.startsWith('sockaccel-bench-')),
});

test('bench --sizes 1024,65536 --compare-all --duration 0.3 --json --out DIR', () => {
  const before = leftovers();
  const out = mkdtempSync(join(tmpdir(), 'sae2e-bench-'));
  try {
    const stdout = execFileSync(process.execPath, [CLI, 'bench', '--sizes', '1024,65536', '--compare-all', '--duration', '0.3', '--rounds', '2', '--json', '--quiet', '--out', out],
      { encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(stdout);
    const transports = ['sockaccel', 'sockaccel-all', 'tcp', 'unix'];
    assert.equal(r.throughput.map((e: any) => `${e.transport}/${e.size}`).sort(), transports.flatMap((t) => [`${t}/1024`, `${t}/65536`]).sort());
    for (const e of r.throughput) {
      assert.ok(e.gbps > 0, `${e.transport} gbps ${e.gbps}`);
      assert.is(e.rounds.length, 2);
      assert.ok(e.gbpsMin <= e.gbps && e.gbps <= e.gbpsMax);
    }
    assert.equal(r.latency.map((e: any) => e.transport).sort(), transports);
    for (const e of r.latency) {
      assert.is(e.size, 64);
      assert.ok(e.p50Us > 0 && e.p99Us >= e.p50Us, `${e.transport} ${e.p50Us} ${e.p99Us}`);
    }
    assert.type(r.machine.kernel, 'string');
    assert.ok(r.machine.cpus >= 1);
    // The learning install decided each row from its warm-up: 1 KiB writes are a stream of small
    // writes (TCP), 64 KiB writes are bulk and ping-pong is request/response (redirected).
    const verdict = (t: string, size: number) => r.throughput.find((e: any) => e.transport === t && e.size === size)?.decision?.verdict;
    assert.equal({ '1024': verdict('sockaccel', 1024), '65536': verdict('sockaccel', 65536), pingpong: r.latency.find((e: any) => e.transport === 'sockaccel')?.decision?.verdict },
      { '1024': 'tcp', '65536': 'accelerate', pingpong: 'accelerate' }, JSON.stringify(r.sockaccel));
    assert.ok(r.sockaccel.redirectedBytes > 0 && r.sockaccel.passedBytes === 0, `learn: ${JSON.stringify(r.sockaccel)}`);
    assert.ok(r.sockaccel.decisions.smallWrites > 0, `learn: small-write sockets stayed out of the map: ${JSON.stringify(r.sockaccel.decisions)}`);
    // Policy all redirected everything: every run's bytes, nothing left to TCP.
    assert.is(r.sockaccelAll.policy, 'all');
    assert.ok(r.sockaccelAll.redirectedBytes > 0, `redirected ${r.sockaccelAll.redirectedBytes}`);
    assert.is(r.sockaccelAll.misses, 0);
    assert.is(r.sockaccelAll.passedBytes, 0);
    assert.equal(readdirSync(out).sort(), ['bench.json', 'bench.md', 'bench.svg']);
    assert.match(readFileSync(join(out, 'bench.svg'), 'utf8'), /^<svg [^]*<\/svg>\n$/);
    const md = readFileSync(join(out, 'bench.md'), 'utf8');
    assert.match(md, /\| 1 KiB \|.*\| TCP: a stream of small writes \|/);
    assert.match(md, /\| 64 KiB \|.*\| redirected \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  assert.equal(leftovers(), before, 'temporary cgroups and pin dirs removed');
});

test('bench rejects bad options with exit 2', () => {
  for (const args of [['--sizes', 'abc'], ['--duration', '0'], ['--rounds', '1.5']]) {
    let code = 0;
    try { execFileSync(process.execPath, [CLI, 'bench', ...args], { stdio: 'pipe' }); } catch (e) { code = (e as { status: number }).status; }
    assert.is(code, 2, args.join(' '));
  }
});

test.run();
