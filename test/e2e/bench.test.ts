// `sockaccel-ffi bench` end to end, short: the CLI builds the load generator, installs its own
// sockaccel in a temporary cgroup, measures the three transports, prints JSON of the documented
// shape with the sockaccel bytes redirected, writes the chart and table, and leaves nothing behind.
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

test('bench --sizes 1024 --duration 0.3 --json --out DIR', () => {
  const before = leftovers();
  const out = mkdtempSync(join(tmpdir(), 'sae2e-bench-'));
  try {
    const stdout = execFileSync(process.execPath, [CLI, 'bench', '--sizes', '1024', '--duration', '0.3', '--rounds', '2', '--json', '--quiet', '--out', out],
      { encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(stdout);
    assert.equal(r.throughput.map((e: any) => `${e.transport}/${e.size}`).sort(), ['sockaccel/1024', 'tcp/1024', 'unix/1024']);
    for (const e of r.throughput) {
      assert.ok(e.gbps > 0, `${e.transport} gbps ${e.gbps}`);
      assert.is(e.rounds.length, 2);
      assert.ok(e.gbpsMin <= e.gbps && e.gbps <= e.gbpsMax);
    }
    assert.equal(r.latency.map((e: any) => e.transport).sort(), ['sockaccel', 'tcp', 'unix']);
    for (const e of r.latency) {
      assert.is(e.size, 64);
      assert.ok(e.p50Us > 0 && e.p99Us >= e.p50Us, `${e.transport} ${e.p50Us} ${e.p99Us}`);
    }
    assert.type(r.machine.kernel, 'string');
    assert.ok(r.machine.cpus >= 1);
    // The accelerated runs really went through sockaccel: at least the 2 rounds of 1024-byte
    // stream traffic, and nothing left to TCP.
    assert.ok(r.sockaccel.redirectedBytes > 0, `redirected ${r.sockaccel.redirectedBytes}`);
    assert.is(r.sockaccel.misses, 0);
    assert.is(r.sockaccel.passedBytes, 0);
    assert.equal(readdirSync(out).sort(), ['bench.json', 'bench.md', 'bench.svg']);
    assert.match(readFileSync(join(out, 'bench.svg'), 'utf8'), /^<svg [^]*<\/svg>\n$/);
    assert.match(readFileSync(join(out, 'bench.md'), 'utf8'), /\| 1 KiB \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  assert.equal(leftovers(), before, 'temporary cgroup and pin dir removed');
});

test('bench rejects bad options with exit 2', () => {
  for (const args of [['--sizes', 'abc'], ['--duration', '0'], ['--rounds', '1.5']]) {
    let code = 0;
    try { execFileSync(process.execPath, [CLI, 'bench', ...args], { stdio: 'pipe' }); } catch (e) { code = (e as { status: number }).status; }
    assert.is(code, 2, args.join(' '));
  }
});

test.run();
