// The agent's pure parts: config parsing and merging, the Prometheus rendering (checked with
// promtool when it is installed), log lines, the systemd unit it prints. No kernel needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkConfigFile, formatLine, parseConfigText, parseListen, renderMetrics, renderUnit, resolveConfig, toConfigFile, type AgentState, type Snapshot,
} from '../../src/agent/index.js';
import { escapeLabel } from '../../src/agent/metrics.js';
import type { Stats, Status } from '../../src/accel/index.js';
import { need } from '../support/tools.js';
import { parseSamples } from '../support/agent.js';
import { REPO_ROOT } from './fixtures.js';

// ---------------------------------------------------------------- config

test('config: defaults, file, and the command line on top', () => {
  const d = resolveConfig({});
  assert.equal(d.cgroups, []);
  assert.is(d.policy, 'learn');
  assert.is(d.pinDir, '/sys/fs/bpf/sockaccel');
  assert.equal(d.listen, { host: '127.0.0.1', port: 9477 }, 'loopback by default');
  assert.is(d.drainTimeoutS, 30);
  assert.is(d.keepOnExit, false);
  assert.is(d.maxEntries, undefined);

  const file = parseConfigText(JSON.stringify({ cgroups: ['/sys/fs/cgroup/a', 'b'], policy: 'all', ports: [80, 443], trace: true, listen: ':9100', drainTimeout: 5, keepOnExit: true, maxEntries: 1024 }), 'f.json');
  const c = resolveConfig(file, { policy: 'learn', cgroups: ['/sys/fs/cgroup/x'], listen: undefined });
  assert.equal(c.cgroups, ['/sys/fs/cgroup/x'], 'a --cgroup replaces the list of the file');
  assert.is(c.policy, 'learn', 'the command line wins');
  assert.equal(c.ports, [80, 443], 'the file fills in what the command line does not say');
  assert.equal(c.listen, { host: '0.0.0.0', port: 9100 }, '":PORT" is every address');
  assert.is(c.trace, true);
  assert.is(c.keepOnExit, true);
  assert.is(c.drainTimeoutS, 5);
  assert.is(c.maxEntries, 1024);
  assert.equal(resolveConfig({ cgroup: '/sys/fs/cgroup/one' }).cgroups, ['/sys/fs/cgroup/one'], '"cgroup" is a list of one');
});

test('config: --print-config output parses back to the same config', () => {
  const c = resolveConfig(parseConfigText('{"cgroups":["k8s"],"excludePorts":[22],"listen":"[::1]:9477","cgroupRoot":"/host/sys/fs/cgroup"}', 'f'));
  const again = resolveConfig(checkConfigFile(JSON.parse(JSON.stringify(toConfigFile(c))), 'printed'));
  assert.equal(again, c);
  assert.equal(again.listen, { host: '::1', port: 9477 });
});

test('config: every mistake is an error naming the file and the key; unknown keys are refused', () => {
  const bad: [string, RegExp][] = [
    ['[]', /must be a JSON object/],
    ['{"cgroups": "/sys/fs/cgroup/a"}', /"cgroups" must be array of cgroup v2 directories/],
    ['{"cgroup": "/a", "cgroups": ["/b"]}', /not both/],
    ['{"policy": "fast"}', /"policy" must be "learn" or "all", not "fast"/],
    ['{"ports": [0]}', /"ports" must be array of ports/],
    ['{"excludePorts": [70000]}', /"excludePorts"/],
    ['{"ports": ["80"]}', /"ports"/],
    ['{"trace": "yes"}', /"trace" must be true or false/],
    ['{"maxEntries": 1.5}', /"maxEntries" must be a positive integer/],
    ['{"listen": "9477"}', /"listen" must be "HOST:PORT"/],
    ['{"listen": "127.0.0.1:99999"}', /"listen"/],
    ['{"drainTimeout": -1}', /"drainTimeout"/],
    ['{"checkInterval": 0}', /"checkInterval"/],
    ['{"pinDir": ""}', /"pinDir"/],
    ['{"exclude_ports": [22]}', /unknown key "exclude_ports" \(did you mean "excludePorts"\?\)/],
    ['{"cgroupz": []}', /unknown key "cgroupz"/],
    ['{"policy": "learn",}', /not valid JSON/],
  ];
  for (const [text, re] of bad) {
    try {
      parseConfigText(text, '/etc/sockaccel-ffi/agent.json');
      assert.unreachable(`accepted ${text}`);
    } catch (e) {
      const err = e as Error & { code?: string; hint?: string };
      assert.is(err.code, 'BAD_ARGUMENT', text);
      assert.match(err.message, re, text);
      assert.match(err.message, /agent\.json/, `names the file: ${err.message}`);
      assert.ok(err.hint, `has a hint: ${text}`);
    }
  }
});

test('listen addresses', () => {
  assert.equal(parseListen('127.0.0.1:9477'), { host: '127.0.0.1', port: 9477 });
  assert.equal(parseListen('localhost:1'), { host: 'localhost', port: 1 });
  assert.equal(parseListen('[::]:9477'), { host: '::', port: 9477 });
  assert.equal(parseListen(':80'), { host: '0.0.0.0', port: 80 });
  for (const bad of ['', '9477', '127.0.0.1', '::1:9477', '127.0.0.1:0', 'a b:1', '[::1]']) assert.is(parseListen(bad), undefined, bad);
});

// ---------------------------------------------------------------- metrics

/** A Stats with every field a distinct value (a new Stats field fails to compile here until added). */
function sampleStats(): Stats {
  return {
    socketsInserted: 101, insertFailures: 102 + 103, insertFailuresFull: 102, insertFailuresOther: 103, redirectedMessages: 104,
    redirectedBytes: 1_000_000_000_105, passedMessages: 106, passedBytes: 107, misses: 108, markFailures: 109, skippedEarlyData: 110,
    staleMarks: 111, marksCleared: 112,
    decisions: { redirect: 201, forced: 202, probation: 203, spliceReader: 204, blockingReader: 215, smallWrites: 206, excludedPort: 207, excludedCgroup: 208, readerSemantics: 209 },
    rescuedSplice: 113, rescuedHalfClose: 114, atRiskSplice: 115, atRiskBlocking: 116, demotedSmall: 117, observedSides: 118, spliceDirectionsMarked: 119,
  };
}

function sampleStatus(): Status {
  return {
    up: true, state: 'up', pinDir: '/sys/fs/bpf/sockaccel', cgroup: '/sys/fs/cgroup/a', cgroups: ['/sys/fs/cgroup/a', '/sys/fs/cgroup/b "q"'],
    excludeCgroups: [], policy: 'learn', ports: [80], excludePorts: [22], observers: 'tp_btf', services: { total: 6, accelerated: 3, tcp: 2, probation: 1 },
    trace: false, version: '0.1.0', sockops: { method: 'link', programId: 41, linkId: 7 }, msg: { method: 'link', programId: 42, linkId: 8 },
    maps: { sockHash: 1, passed: 2, counters: 3 }, maxEntries: 1000, connections: 250, installedAt: '2025-01-01T00:00:00.000Z',
  };
}

function agentState(over: Partial<AgentState> = {}): AgentState {
  return { startedAtS: 1735689600, configApplied: true, reloads: { applied: 2, unchanged: 1, pending: 0, failed: 3 }, ready: true, scrapeErrors: 0, phase: 'running', ...over };
}

const build = { version: '0.1.0', kernel: '6.18.0-test', node: 'v20.0.0' };

const samples = parseSamples;

test('metrics: every Stats counter, per-reason decisions, rescues, map fill, services, state, build info', () => {
  const text = renderMetrics({ status: sampleStatus(), stats: sampleStats(), build, agent: agentState() });
  const s = samples(text);
  const expect: Record<string, number> = {
    'sockaccel_up': 1,
    'sockaccel_install_state{state="up"}': 1, 'sockaccel_install_state{state="draining"}': 0, 'sockaccel_install_state{state="absent"}': 0,
    'sockaccel_sockets_inserted_total': 101,
    'sockaccel_insert_failures_total{reason="map_full"}': 102, 'sockaccel_insert_failures_total{reason="other"}': 103,
    'sockaccel_redirected_messages_total': 104, 'sockaccel_redirected_bytes_total': 1_000_000_000_105,
    'sockaccel_passed_messages_total': 106, 'sockaccel_passed_bytes_total': 107, 'sockaccel_lookup_misses_total': 108,
    'sockaccel_mark_failures_total': 109, 'sockaccel_skipped_early_data_total': 110, 'sockaccel_stale_marks_total': 111, 'sockaccel_marks_cleared_total': 112,
    'sockaccel_decisions_total{reason="redirect"}': 201, 'sockaccel_decisions_total{reason="forced"}': 202, 'sockaccel_decisions_total{reason="probation"}': 203,
    'sockaccel_decisions_total{reason="splice_reader"}': 204, 'sockaccel_decisions_total{reason="blocking_reader"}': 215, 'sockaccel_decisions_total{reason="small_writes"}': 206,
    'sockaccel_decisions_total{reason="excluded_port"}': 207, 'sockaccel_decisions_total{reason="excluded_cgroup"}': 208, 'sockaccel_decisions_total{reason="reader_semantics"}': 209,
    'sockaccel_rescues_total{kind="splice"}': 113, 'sockaccel_rescues_total{kind="half_close"}': 114,
    'sockaccel_at_risk_total{kind="splice"}': 115, 'sockaccel_at_risk_total{kind="blocking"}': 116,
    'sockaccel_demoted_small_total': 117, 'sockaccel_observed_sides_total': 118, 'sockaccel_splice_directions_marked_total': 119,
    'sockaccel_map_sockets': 250, 'sockaccel_map_capacity': 1000, 'sockaccel_map_fill_ratio': 0.25,
    'sockaccel_services{verdict="accelerate"}': 3, 'sockaccel_services{verdict="tcp"}': 2, 'sockaccel_services{verdict="probation"}': 1,
    'sockaccel_install_timestamp_seconds': 1735689600,
    'sockaccel_agent_ready': 1, 'sockaccel_agent_config_applied': 1, 'sockaccel_agent_config_pending{reason=""}': 0,
    'sockaccel_agent_reloads_total{result="applied"}': 2, 'sockaccel_agent_reloads_total{result="failed"}': 3,
    'sockaccel_agent_start_time_seconds': 1735689600, 'sockaccel_agent_stopping': 0, 'sockaccel_agent_scrape_errors_total': 0,
  };
  for (const [k, v] of Object.entries(expect)) assert.is(s.get(k), v, k);
  // Every number of Stats shows up somewhere (the sum insertFailures is the two reasons).
  const values = new Set(s.values());
  const flat = (o: object): number[] => Object.values(o).flatMap((v) => (typeof v === 'number' ? [v] : flat(v)));
  for (const v of flat(sampleStats())) assert.ok(values.has(v) || v === 102 + 103, `Stats value ${v} is not exported`);
  assert.match(text, /^sockaccel_build_info\{version="0\.1\.0",kernel="6\.18\.0-test",node="v20\.0\.0",observers="tp_btf"\} 1$/m);
  assert.match(text, /sockaccel_install_info\{[^}]*policy="learn"[^}]*sockops_program_id="41",msg_program_id="42"/);
  assert.match(text, /cgroups="\/sys\/fs\/cgroup\/a,\/sys\/fs\/cgroup\/b \\"q\\""/, 'label values escaped');
  // Each family has HELP and TYPE once, counters end in _total.
  const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
  assert.is(new Set(types.map(([n]) => n)).size, types.length, 'one TYPE line per family');
  for (const [n, t] of types) {
    assert.match(text, new RegExp(`^# HELP ${n} \\S`, 'm'));
    if (t === 'counter') assert.ok(n.endsWith('_total'), `${n} is a counter without _total`);
  }
});

test('metrics: absent install, draining, pending change', () => {
  const absent = samples(renderMetrics({ status: { up: false, pinDir: '/p' }, build, agent: agentState({ ready: false }) }));
  assert.is(absent.get('sockaccel_up'), 0);
  assert.is(absent.get('sockaccel_install_state{state="absent"}'), 1);
  assert.is(absent.get('sockaccel_redirected_bytes_total'), undefined, 'no counters without an install');
  assert.is(absent.get('sockaccel_agent_ready'), 0);
  const draining = samples(renderMetrics({
    status: { ...sampleStatus(), up: false, state: 'draining' }, stats: sampleStats(), build,
    agent: agentState({ pending: 'replace_waits_for_open_sockets', configApplied: false, phase: 'stopping' }),
  }));
  assert.is(draining.get('sockaccel_install_state{state="draining"}'), 1);
  assert.is(draining.get('sockaccel_up'), 0);
  assert.is(draining.get('sockaccel_agent_config_pending{reason="replace_waits_for_open_sockets"}'), 1);
  assert.is(draining.get('sockaccel_agent_config_applied'), 0);
  assert.is(draining.get('sockaccel_agent_stopping'), 1);
  assert.is(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});

test('metrics: promtool check metrics finds no problem', () => {
  const promtool = need('promtool'); // fails naming the package when missing, never a silent pass
  for (const snap of [
    { status: sampleStatus(), stats: sampleStats(), build, agent: agentState({ lastReloadS: 1735689700 }) },
    { status: { up: false, pinDir: '/p' }, build, agent: agentState() },
  ] as Snapshot[]) {
    const r = spawnSync(promtool, ['check', 'metrics'], { input: renderMetrics(snap), encoding: 'utf8' });
    assert.is(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
    assert.is((r.stdout + r.stderr).trim(), '', `promtool lint: ${r.stdout}${r.stderr}`);
  }
});

// ---------------------------------------------------------------- logs

test('log lines: JSON when not a terminal, text otherwise', () => {
  const t = new Date('2025-01-01T00:00:00.000Z');
  const j = JSON.parse(formatLine('json', t, 'warn', 'config change waits', { reason: 'busy "x"', n: 2, skip: undefined }));
  assert.equal(j, { time: '2025-01-01T00:00:00.000Z', level: 'warn', msg: 'config change waits', reason: 'busy "x"', n: 2 });
  assert.is(formatLine('text', t, 'info', 'installed', { pinDir: '/sys/fs/bpf/x', cgroups: ['/a'], why: 'has space' }),
    '2025-01-01T00:00:00.000Z info  installed pinDir=/sys/fs/bpf/x cgroups=["/a"] why="has space"');
});

// ---------------------------------------------------------------- the systemd unit

const UNIT = join(REPO_ROOT, 'deploy', 'systemd', 'sockaccel-ffi.service');

test('unit: ExecStart points at this installation; home directories get ProtectHome=read-only', () => {
  const { text, warnings } = renderUnit({ node: '/usr/bin/node', cli: '/usr/lib/node_modules/sockaccel-ffi/dist/pkg/cli.js', config: '/etc/sockaccel-ffi/agent.json' });
  assert.match(text, /^ExecStart=\/usr\/bin\/node \/usr\/lib\/node_modules\/sockaccel-ffi\/dist\/pkg\/cli\.js agent --config \/etc\/sockaccel-ffi\/agent\.json$/m);
  assert.is(text.match(/^ExecStart=/gm)!.length, 1);
  assert.match(text, /^ProtectHome=yes$/m);
  assert.equal(warnings, []);
  const home = renderUnit({ node: '/root/.nvm/node', cli: '/home/me/sockaccel ffi/dist/pkg/cli.js', config: '/etc/a.json' });
  assert.match(home.text, /^ExecStart=\/root\/\.nvm\/node "\/home\/me\/sockaccel ffi\/dist\/pkg\/cli\.js" agent/m, 'paths with spaces are quoted');
  assert.match(home.text, /^ProtectHome=read-only$/m);
  assert.is(home.warnings.length, 1);
  assert.match(renderUnit({ node: '/usr/bin/node', cli: '/root/.npm/_npx/abc/node_modules/sockaccel-ffi/dist/pkg/cli.js', config: '/c' }).warnings.join(), /npx's cache/);
});

test('unit: the shipped file has what the agent needs and nothing more', () => {
  const text = readFileSync(UNIT, 'utf8');
  const values = (key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());
  assert.equal(values('CapabilityBoundingSet'), ['CAP_BPF CAP_NET_ADMIN CAP_PERFMON'], 'the measured set (e2e/agent-sandbox)');
  assert.equal(values('AmbientCapabilities'), [], 'runs as root: no ambient capabilities needed');
  assert.ok(values('ReadWritePaths').join(' ').split(/\s+/).includes('/sys/fs/bpf'), 'bpffs writable under ProtectSystem=strict');
  assert.equal(values('ProtectSystem'), ['strict']);
  assert.equal(values('NoNewPrivileges'), ['yes']);
  assert.match(values('RequiresMountsFor').join(' '), /\/sys\/fs\/bpf/);
  assert.match(values('RequiresMountsFor').join(' '), /\/sys\/fs\/cgroup/);
  assert.match(values('After').join(' '), /sys-fs-bpf\.mount/);
  assert.equal(values('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  assert.equal(values('MemoryDenyWriteExecute'), [], 'Node.js JIT needs W+X');
  // The stop timeout leaves room for the default drain.
  assert.ok(Number(values('TimeoutStopSec')[0]) > 30, 'TimeoutStopSec above the default drainTimeout');
});

test('unit: systemd-analyze verify accepts the printed unit', () => {
  // A missing systemd-analyze fails here naming the package (tools/prerequisites.txt), never a silent pass.
  const analyze = need('systemd-analyze');
  const { text } = renderUnit({ node: process.execPath, cli: join(REPO_ROOT, 'dist', 'pkg', 'cli.js'), config: '/etc/sockaccel-ffi/agent.json' });
  const dir = mkdtempSync(join(tmpdir(), 'sockaccel-unit-'));
  const path = join(dir, 'sockaccel-ffi.service');
  writeFileSync(path, text);
  try {
    const r = spawnSync(analyze, ['verify', '--man=no', path], { encoding: 'utf8', timeout: 30_000 });
    assert.is(r.status, 0, `systemd-analyze verify: ${r.stdout}${r.stderr}`);
    assert.not.match(r.stdout + r.stderr, /sockaccel-ffi\.service/, `warnings about the unit: ${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
