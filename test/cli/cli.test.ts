// The compiled CLI, run as a child process against the real kernel (the tests run as root).
// `up` is only ever run with a test cgroup of our own and a unique pin dir, removed in finally.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliAsNobody } from '../support/nobody.js';
import { TIME_SCALE } from '../support/proc.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const MAIN = fileURLToPath(new URL('../../pkg/cli.js', import.meta.url));
const VERBS = ['up', 'down', 'status', 'services', 'stats', 'trace', 'verify', 'doctor'];

interface Run { code: number | null; stdout: string; stderr: string }

function cli(args: string[], opts: { nobody?: boolean; timeoutMs?: number } = {}): Run {
  // As nobody: setpriv, from a copy of the package when nobody cannot read the checkout (test/support/nobody.ts).
  const { cmd, argv, cwd } = opts.nobody ? cliAsNobody(args) : { cmd: process.execPath, argv: [MAIN, ...args], cwd: undefined };
  // Bounds scale with TIME_SCALE: under TCG in the VMs a node start alone can take seconds.
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: (opts.timeoutMs ?? 60_000) * TIME_SCALE, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.signal ? `${r.stderr}\n(killed by ${r.signal}: the time bound ran out)` : r.stderr };
}

const unique = () => `cli-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const testPinDir = () => `/sys/fs/bpf/${unique()}`;

function cgroup2Root(): string {
  const line = readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
  if (!line) throw new Error('no cgroup2 mount');
  return line.split(' ')[1];
}

/** Start the CLI in the background; resolves once `ready` matches its stdout. */
function cliBackground(args: string[], ready: RegExp): Promise<{ child: ChildProcess; out: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out waiting for ${ready}: ${out}`)); }, 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) { clearTimeout(timer); resolve({ child, out: () => out, exited }); }
    });
  });
}

/** A process in cgroup `cg` holding one open TCP connection over 127.0.0.1 (accelerated if we are up). */
function holdConnection(cg: string): Promise<ChildProcess> {
  const script = `
    const fs = require('node:fs'), net = require('node:net');
    fs.writeFileSync(${JSON.stringify(cg + '/cgroup.procs')}, String(process.pid));
    const server = net.createServer((s) => s.on('data', () => {}));
    server.listen(0, '127.0.0.1', () => {
      const c = net.connect(server.address().port, '127.0.0.1', () => { c.write('hello'); console.log('ready'); });
    });
    setTimeout(() => process.exit(0), 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`connection holder exited (${code})`)));
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(child); });
  });
}

/** rmdir a test cgroup, retrying while its last process is still exiting. */
async function removeCgroup(cg: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(cg);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const noStack = (s: string) => !/\n\s+at /.test(s);

test('--help exits 0 and lists every verb, with examples', () => {
  const r = cli(['--help']);
  assert.is(r.code, 0);
  for (const v of VERBS) assert.match(r.stdout, new RegExp(`^  ${v} `, 'm'), `verb ${v} listed`);
  assert.match(r.stdout, /sudo npx sockaccel-ffi up/);
  assert.match(r.stdout, /sudo npx sockaccel-ffi status/);
  assert.match(r.stdout, /sudo npx sockaccel-ffi down/);
  assert.match(r.stdout, /--debug/);
  assert.match(r.stdout, /--version/);
});

test('each verb has help', () => {
  for (const v of VERBS) {
    const r = cli([v, '--help']);
    assert.is(r.code, 0, v);
    assert.match(r.stdout, new RegExp(`Usage: sockaccel-ffi ${v}`));
  }
  assert.match(cli(['down', '--help']).stdout, /--timeout <seconds>/);
  assert.match(cli(['stats', '--help']).stdout, /--watch \[seconds\]/);
});

test('--version prints the package version', () => {
  const r = cli(['--version']);
  assert.is(r.code, 0);
  const { version } = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
  assert.is(r.stdout.trim(), version);
});

test('bad usage exits 2 with a one-line message', () => {
  for (const args of [['frobnicate'], ['status', '--bogus'], ['down', '--timeout', 'soon'], ['stats', '--watch', '0'], ['status', 'extra']]) {
    const r = cli(args);
    assert.is(r.code, 2, args.join(' '));
    assert.is(r.stdout, '', args.join(' '));
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], /^error: /);
  }
  assert.match(cli(['frobnicate']).stderr, /unknown command 'frobnicate'/);
  assert.match(cli(['status', '--bogus']).stderr, /unknown option '--bogus'/);
  assert.match(cli(['stauts']).stderr, /did you mean .*status/);
  // No command at all: the help, on stderr, as a usage error.
  const none = cli([]);
  assert.is(none.code, 2);
  assert.match(none.stderr, /Usage: sockaccel-ffi/);
});

test('help [command] exits 0 and prints the help on stdout', () => {
  const r = cli(['help']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Usage: sockaccel-ffi/);
  const up = cli(['help', 'up']);
  assert.is(up.code, 0);
  assert.match(up.stdout, /--cgroup/);
});

test('a bad --cgroup or --pin-dir is bad usage (exit 2) that says what is wrong, and nothing is installed', () => {
  const pinDir = testPinDir();
  const cases: [string[], RegExp][] = [
    [['up', '--cgroup', '/nonexistent/sockaccel-test', '--pin-dir', pinDir], /cgroup \/nonexistent\/sockaccel-test does not exist/],
    [['up', '--cgroup', '/etc/hostname', '--pin-dir', pinDir], /cgroup \/etc\/hostname is not a directory/],
    [['up', '--cgroup', '/tmp', '--pin-dir', pinDir], /\/tmp is not a cgroup v2 directory/],
    [['up', '--cgroup', cgroup2Root(), '--pin-dir', '/sys/fs/bpf'], /--pin-dir \/sys\/fs\/bpf is the root of a bpffs mount/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(noStack(r.stderr), r.stderr);
  }
  assert.not.ok(existsSync(pinDir), 'nothing pinned');
});

test('status --json with nothing installed: {"up": false}, exit 0', () => {
  const pinDir = testPinDir();
  const r = cli(['status', '--json', '--pin-dir', pinDir]);
  assert.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { up: boolean; pinDir: string };
  assert.is(s.up, false);
  assert.is(s.pinDir, pinDir);
  const human = cli(['status', '--pin-dir', pinDir]);
  assert.is(human.code, 0);
  assert.match(human.stdout, /not installed/);
});

test('stats with nothing installed: exit 1, a clear message, no stack', () => {
  const r = cli(['stats', '--pin-dir', testPinDir()]);
  assert.is(r.code, 1);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^error: .*not up/);
  assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
  assert.ok(noStack(r.stderr));
});

test('down with nothing installed: exit 0', () => {
  const r = cli(['down', '--pin-dir', testPinDir()]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /not installed/);
});

test('--debug shows the stack trace', () => {
  const r = cli(['--debug', 'stats', '--pin-dir', testPinDir()]);
  assert.is(r.code, 1);
  assert.not.ok(noStack(r.stderr), r.stderr);
});

const EXPECTED_CHECKS = ['privileges', 'kernel', 'bpffs', 'cgroup2', 'btf', 'sockhash', 'netns-cookie', 'sockmap-links', 'cgroup-links'];

test('doctor --json as root: every check ok here', () => {
  const r = cli(['doctor', '--json']);
  const checks = JSON.parse(r.stdout) as { name: string; ok: boolean; detail: string; skipped?: boolean }[];
  assert.equal(checks.map((c) => c.name), EXPECTED_CHECKS);
  for (const c of checks) {
    assert.ok(c.ok, `${c.name}: ${c.detail}`);
    assert.not.ok(c.skipped, c.name);
    assert.ok(c.detail.length > 0);
  }
  assert.is(r.code, 0);
  const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
  assert.match(byName.privileges.detail, /root/);
  assert.match(byName.kernel.detail, /^Linux \d+\.\d+/);
  assert.match(byName.cgroup2.detail, new RegExp(cgroup2Root()));
  const human = cli(['doctor']);
  assert.is(human.code, 0);
  assert.match(human.stdout, /all checks passed/);
});

test('doctor as non-root: exit 1, names root and CAP_BPF, probes not checked', () => {
  const r = cli(['doctor'], { nobody: true });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stdout, /FAIL\s+privileges/);
  assert.match(r.stdout, /root/);
  assert.match(r.stdout, /CAP_BPF/);
  assert.match(r.stdout, /skip\s+sockhash\s+not checked: needs root/);
  const j = cli(['doctor', '--json'], { nobody: true });
  assert.is(j.code, 1);
  const checks = JSON.parse(j.stdout) as { name: string; ok: boolean; skipped?: boolean }[];
  assert.equal(checks.filter((c) => !c.ok).map((c) => c.name), ['privileges']);
  assert.ok(checks.find((c) => c.name === 'netns-cookie')!.skipped);
});

test('up as non-root: exit 1, "run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON", no stack', () => {
  const cg = `${cgroup2Root()}/${unique()}`;
  const pinDir = testPinDir();
  mkdirSync(cg);
  try {
    const r = cli(['up', '--cgroup', cg, '--pin-dir', pinDir], { nobody: true });
    assert.is(r.code, 1);
    assert.match(r.stderr, /run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON/);
    assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
    assert.ok(noStack(r.stderr), r.stderr);
    assert.not.ok(existsSync(pinDir));
  } finally {
    rmdirSync(cg);
    rmSync(pinDir, { recursive: true, force: true });
  }
});

test('trace as non-root: exit 1, says to run as root', () => {
  const r = cli(['trace', '--pin-dir', testPinDir()], { nobody: true, timeoutMs: 10_000 });
  assert.is(r.code, 1, r.stderr);
  assert.ok(/root/.test(r.stderr), r.stderr);
  assert.ok(noStack(r.stderr));
});

test('up, status, stats, verify, down on a test cgroup', async () => {
  const cg = `${cgroup2Root()}/${unique()}`;
  const pinDir = testPinDir();
  mkdirSync(cg);
  try {
    const u = cli(['up', '--cgroup', cg, '--pin-dir', pinDir, '--explain']);
    assert.is(u.code, 0, u.stderr);
    assert.match(u.stdout, /^sockaccel: up$/m);
    assert.match(u.stdout, new RegExp(`cgroup:\\s+${cg}`));

    const again = cli(['up', '--cgroup', cg, '--pin-dir', pinDir]);
    assert.is(again.code, 0, again.stderr);
    assert.match(again.stdout, /already up/);

    const s = JSON.parse(cli(['status', '--json', '--pin-dir', pinDir]).stdout) as Record<string, unknown>;
    assert.is(s.up, true);
    assert.is(s.cgroup, cg);
    assert.ok((s.sockops as { programId: number }).programId > 0);
    assert.ok((s.msg as { programId: number }).programId > 0);
    assert.is(typeof s.connections, 'number');
    const human = cli(['status', '--pin-dir', pinDir]);
    assert.match(human.stdout, /sock_ops:\s+program \d+, attached to the cgroup with (bpf_link \d+|prog_attach)/);

    const st = cli(['stats', '--json', '--pin-dir', pinDir]);
    assert.is(st.code, 0, st.stderr);
    const stats = JSON.parse(st.stdout) as Record<string, number>;
    for (const k of ['redirectedBytes', 'redirectedMessages', 'passedBytes', 'passedMessages', 'misses', 'socketsInserted', 'insertFailures']) {
      assert.is(typeof stats[k], 'number', k);
    }
    assert.match(cli(['stats', '--pin-dir', pinDir]).stdout, /redirected:\s+\d/);

    const v = cli(['verify', '--json', '--pin-dir', pinDir]);
    const vr = JSON.parse(v.stdout) as { accelerated: boolean; payloadBytes: number; loBytes: number; reason?: string };
    assert.ok(vr.accelerated, vr.reason);
    assert.is(v.code, 0);
    assert.ok(vr.loBytes < vr.payloadBytes / 10, `lo ${vr.loBytes} vs payload ${vr.payloadBytes}`);

    // stats --watch: a line per interval, until Ctrl-C, then exit 0.
    const w = await cliBackground(['stats', '--watch', '0.3', '--pin-dir', pinDir], /^\d\d:\d\d:\d\d .*redirected .*\/s/m);
    w.child.kill('SIGINT');
    assert.is(await w.exited, 0);

    // --policy all, in place (same program), so that the next connection is accelerated at once.
    const all = cli(['up', '--cgroup', cg, '--pin-dir', pinDir, '--policy', 'all']);
    assert.is(all.code, 0, all.stderr);
    assert.match(all.stdout + all.stderr, /in place/);
    const sAll = JSON.parse(cli(['status', '--json', '--pin-dir', pinDir]).stdout) as { policy: string; sockops: { programId: number } };
    assert.equal([sAll.policy, sAll.sockops.programId], ['all', (s.sockops as { programId: number }).programId]);

    // down with an accelerated connection open: progress on stderr, exit 1 (draining); --force finishes.
    const holder = await holdConnection(cg);
    try {
      const busy = JSON.parse(cli(['status', '--json', '--pin-dir', pinDir]).stdout) as { connections: number };
      assert.ok(busy.connections >= 2, `connections: ${busy.connections}`);
      const slow = cli(['down', '--pin-dir', pinDir, '--timeout', '1']);
      assert.is(slow.code, 1, slow.stderr);
      assert.match(slow.stderr, /waiting for \d+ sockets \(\d+ connections?\) to close \(\d+s\/1s\)\.\.\./);
      assert.match(slow.stderr, /down --force/);
      assert.match(slow.stdout, /draining/);
      assert.match(cli(['status', '--pin-dir', pinDir]).stdout, /^sockaccel: draining/);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => (holder.exitCode !== null || holder.signalCode !== null ? r(null) : holder.once('exit', r)));
    }

    const d = cli(['down', '--pin-dir', pinDir, '--timeout', '10']);
    assert.is(d.code, 0, d.stderr);
    assert.match(d.stdout, /sockaccel: down/);
    assert.is((JSON.parse(cli(['status', '--json', '--pin-dir', pinDir]).stdout) as { up: boolean }).up, false);
    const nv = cli(['verify', '--pin-dir', pinDir]);
    assert.is(nv.code, 1);
  } finally {
    cli(['down', '--force', '--pin-dir', pinDir]);
    await removeCgroup(cg);
    rmSync(pinDir, { recursive: true, force: true });
  }
});

test.run();
