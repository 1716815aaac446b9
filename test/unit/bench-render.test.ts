// The bench's renderings (src/bench/render.ts) and statistics: the text/Markdown tables, the SVG
// chart's structure, and the helpers behind them. No kernel needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatSize, logTicks, niceAxis, renderMarkdown, renderSvg, renderText } from '../../src/bench/render.js';
import { median, spread } from '../../src/bench/stats.js';
import type { BenchResult, Transport } from '../../src/bench/types.js';

const counters = (policy: 'learn' | 'all') => ({ policy, redirectedBytes: 1000, redirectedMessages: 10, passedBytes: 0, misses: 0, decisions: { redirect: 4, smallWrites: 2 } });

function sample(compareAll = false): BenchResult {
  const g: Record<Transport, number[]> = { tcp: [0.5, 3, 13], sockaccel: [0.49, 2.95, 40.8], 'sockaccel-all': [0.25, 2.2, 40.1], unix: [0.45, 3.3, 42.5] };
  const transports: Transport[] = compareAll ? ['tcp', 'sockaccel', 'sockaccel-all', 'unix'] : ['tcp', 'sockaccel', 'unix'];
  const sizes = [128, 1024, 65536];
  const decision = (i: number) => (i < 2 ? { verdict: 'tcp' as const, reason: 'a stream of small writes' } : { verdict: 'accelerate' as const, reason: 'request/response or bulk writes' });
  return {
    throughput: sizes.flatMap((size, i) => transports.map((t) => ({
      transport: t, size, gbps: g[t][i]!, gbpsMin: g[t][i]! * 0.9, gbpsMax: g[t][i]! * 1.1, spread: 0.2, rounds: [g[t][i]!],
      ...(t === 'sockaccel' ? { decision: decision(i) } : {}),
    }))),
    latency: transports.map((t, i) => ({
      transport: t, size: 64, p50Us: [20, 12, 11, 10][i]!, p99Us: [40, 30, 28, 25][i]!, p50Min: 1, p50Max: 30, iterations: 1000, rounds: [],
      ...(t === 'sockaccel' ? { decision: decision(2) } : {}),
    })),
    machine: { kernel: '6.18.0', arch: 'x64', cpu: 'Test <CPU> & co', cpus: 2, memoryGiB: 8, node: 'v20.0.0', compiler: 'gcc' },
    transports,
    sockaccel: counters('learn'),
    ...(compareAll ? { sockaccelAll: counters('all') } : {}),
    settings: { sizes, duration: 1, rounds: 5, latencySize: 64, compareAll, startedAt: '2025-01-01T00:00:00Z', seconds: 60 },
  };
}

test('median and spread', () => {
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.equal(spread([1, 2, 3]), { min: 1, max: 3, spread: 1 });
});

test('formatSize', () => {
  assert.is(formatSize(128), '128 B');
  assert.is(formatSize(1024), '1 KiB');
  assert.is(formatSize(65536), '64 KiB');
  assert.is(formatSize(1536), '1536 B');
  assert.is(formatSize(1 << 20), '1 MiB');
});

test('axes: nice linear top, 1-2-5 log ticks covering the data', () => {
  assert.equal(niceAxis(47), { top: 50, step: 10 });
  assert.equal(niceAxis(0), { top: 1, step: 0.2 });
  const t = logTicks(0.15, 47);
  assert.equal(t.ticks, [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]);
  assert.ok(t.lo <= 0.15 && t.hi >= 47);
});

test('text table: one row per size, ratios, the policy per row, latency and machine', () => {
  const s = renderText(sample());
  assert.match(s, /128 B\s+0\.500 ±10%\s+0\.490 ±10%\s+0\.450 ±10%\s+0\.98×\s+1\.09×\s+TCP: a stream of small writes/);
  assert.match(s, /64 KiB\s+13\.0 ±10%\s+40\.8 ±10%\s+42\.5 ±10%\s+3\.14×\s+0\.96×\s+redirected/);
  assert.match(s, /TCP \+ sockaccel, 64 B\s+12\.0\s+30\.0\s+0\.60×\s+redirected/);
  assert.match(s, /machine: Test <CPU> & co, 2 CPUs, 8 GiB, Linux 6\.18\.0/);
  assert.match(s, /sockaccel \(policy learn\): 1000 bytes redirected.*sockets by decision: redirect 4, smallWrites 2/);
});

test('text table with --compare-all: a policy-all column and its ratio', () => {
  const s = renderText(sample(true));
  assert.match(s, /TCP \+ sockaccel, policy all Gbit\/s/);
  assert.match(s, /128 B\s+0\.500 ±10%\s+0\.490 ±10%\s+0\.250 ±10%\s+0\.450 ±10%\s+0\.98×\s+0\.50×\s+1\.09×\s+TCP: a stream of small writes/);
  assert.match(s, /sockaccel \(policy all\): /);
  const svg = renderSvg(sample(true));
  assert.is((svg.match(/<polyline /g) ?? []).length, 4);
});

test('markdown table: header, alignment row, rows', () => {
  const md = renderMarkdown(sample());
  const lines = md.split('\n');
  assert.match(lines[0]!, /^\| write size \| TCP \(plain\) Gbit\/s \| TCP \+ sockaccel Gbit\/s \| AF_UNIX Gbit\/s \|/);
  assert.match(lines[1]!, /^\| --- \|( ---: \|)+$/);
  assert.is(lines.filter((l) => /^\| (128 B|1 KiB|64 KiB) \|/.test(l)).length, 3);
  assert.match(md, /\| ping-pong \| p50 µs \| p99 µs \| p50 vs TCP \| policy \|/);
  assert.match(md, /Machine: Test <CPU> & co/);
});

test('svg: well-formed, one line per transport, a point per size, latency bars, escaped text', () => {
  const svg = renderSvg(sample());
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.is((svg.match(/<polyline /g) ?? []).length, 3);
  assert.is((svg.match(/<circle /g) ?? []).length, 9);
  assert.is((svg.match(/<rect [^>]*><title>p(50|99) /g) ?? []).length, 6);
  assert.match(svg, /Test &lt;CPU&gt; &amp; co/);
  assert.not.match(svg, /NaN|undefined|Infinity/);
  // every tag opened is closed (a cheap well-formedness check: text and title elements)
  for (const tag of ['text', 'title', 'circle']) {
    const open = (svg.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length;
    assert.is((svg.match(new RegExp(`</${tag}>`, 'g')) ?? []).length, open, tag);
  }
});

test('svg: a single size still renders (no division by zero)', () => {
  const r = sample();
  r.throughput = r.throughput.filter((e) => e.size === 1024);
  const svg = renderSvg(r);
  assert.not.match(svg, /NaN|Infinity/);
  assert.is((svg.match(/<circle /g) ?? []).length, 3);
});

test.run();
