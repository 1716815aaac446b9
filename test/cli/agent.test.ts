// `sockaccel-ffi agent` as a command: help, --print-unit, --print-config, and the ways it refuses
// to start (exit 2 for what the user gave, 1 for missing privileges), each with one error line and
// a hint. None of these touches the kernel: they fail before `up`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliAsNobody } from '../support/nobody.js';
import { RUN_ID } from '../support/run-id.js';
import { createCgroup, removeCgroup } from '../support/cgroup.js';

const MAIN = fileURLToPath(new URL('../../pkg/cli.js', import.meta.url));

function cli(args: string[], nobody = false): { code: number | null; stdout: string; stderr: string } {
  const { cmd, argv, cwd } = nobody ? cliAsNobody(args) : { cmd: process.execPath, argv: [MAIN, ...args], cwd: undefined };
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 30_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'sockaccel-agent-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('agent --help: the options, the signals, examples; listed in the top-level help', () => {
  const r = cli(['agent', '--help']);
  assert.is(r.code, 0);
  for (const o of ['--config <file>', '--cgroup <dir>', '--policy <policy>', '--listen <host:port>', '--drain-timeout <seconds>', '--keep-on-exit', '--cgroup-root <dir>', '--print-unit', '--print-config', 'SIGHUP', 'SIGTERM']) {
    assert.ok(r.stdout.includes(o), `agent --help lacks ${o}`);
  }
  assert.match(cli(['--help']).stdout, /^\s+agent \[options\]/m);
});

test('agent --print-unit: the shipped unit with ExecStart = this node and this CLI', () => {
  const r = cli(['agent', '--print-unit', '--config', '/etc/sockaccel-ffi/other.json']);
  assert.is(r.code, 0, r.stderr);
  const exec = /^ExecStart=(.*)$/m.exec(r.stdout)?.[1];
  assert.is(exec, `${process.execPath} ${realpathSync(MAIN)} agent --config /etc/sockaccel-ffi/other.json`);
  assert.match(r.stdout, /^CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_PERFMON$/m);
  assert.match(r.stdout, /^\[Install\]$/m);
});

test('agent --print-config: file + command line as a config file; parses back', () => {
  const file = join(tmp, 'base.json');
  writeFileSync(file, JSON.stringify({ policy: 'learn', excludePorts: [22], drainTimeout: 10 }));
  const r = cli(['agent', '--config', file, '--print-config', '--cgroup', '/sys/fs/cgroup/app', '--ports', '80,443', '--keep-on-exit']);
  assert.is(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout);
  assert.equal(printed.cgroups, ['/sys/fs/cgroup/app']);
  assert.equal(printed.ports, [80, 443]);
  assert.equal(printed.excludePorts, [22]);
  assert.is(printed.drainTimeout, 10);
  assert.is(printed.keepOnExit, true);
  assert.is(printed.listen, '127.0.0.1:9477');
  const again = join(tmp, 'printed.json');
  writeFileSync(again, r.stdout);
  assert.equal(JSON.parse(cli(['agent', '--config', again, '--print-config']).stdout), printed);
});

test('agent refuses what it cannot use: exit 2, one error line, a hint', () => {
  const bad = join(tmp, 'bad.json');
  writeFileSync(bad, '{"cgroups": ["/sys/fs/cgroup/app"], "exclude_ports": [22]}');
  const cases: [string[], RegExp, RegExp][] = [
    [['--config', join(tmp, 'missing.json')], /^error: cannot read the config file .*missing\.json: ENOENT$/m, /--print-config/],
    [['--config', join(tmp, 'missing.json'), '--print-config'], /^error: cannot read the config file .*missing\.json: ENOENT$/m, /--print-config/],
    [['--config', bad], /^error: .*bad\.json: unknown key "exclude_ports" \(did you mean "excludePorts"\?\)$/m, /keys are/],
    [['--ports', '0', '--cgroup', '/nonexistent'], /^error: --ports must be a comma-separated list of ports/m, /e\.g\./],
    [['--listen', 'nowhere', '--cgroup', '/nonexistent'], /^error: --listen must be HOST:PORT/m, /./],
    [['--max-entries', '0'], /--max-entries must be an integer ≥ 1/, /agent --help/],
  ];
  for (const [args, err, hint] of cases) {
    const r = cli(['agent', ...args]);
    assert.is(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`);
    assert.match(r.stderr, err, args.join(' '));
    assert.match(r.stderr, hint, args.join(' '));
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('agent on a port in use: exit 2 before touching the kernel', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  try {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      // Asynchronously: our own event loop must keep the port open meanwhile.
      import('node:child_process').then(({ execFile }) => execFile(process.execPath, [MAIN, 'agent', '--listen', `127.0.0.1:${port}`, '--cgroup', '/nonexistent', '--log-format', 'text'], { timeout: 30_000 }, (e, _out, stderr) => {
        resolve({ code: e ? (e as { code?: number }).code ?? null : 0, stderr });
      }));
    });
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE$`, 'm'));
    assert.match(r.stderr, /another process \(another agent\?\)/);
  } finally {
    srv.close();
  }
});

test('agent as nobody: exit 1, the privileges it needs, nothing installed', async () => {
  const cg = createCgroup(`agent-cli-${process.pid}`);
  const pinDir = `/sys/fs/bpf/sockaccel-agent-nobody-${RUN_ID}`;
  try {
    const port = 61000 + Math.floor(Math.random() * 4000);
    const r = cli(['agent', '--cgroup', cg, '--pin-dir', pinDir, '--listen', `127.0.0.1:${port}`, '--log-format', 'text'], true);
    assert.is(r.code, 1, `${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, /^error: up needs privileges this process does not have$/m);
    assert.match(r.stderr, /CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON/);
    assert.match(r.stdout, /error could not start/, 'the log says so too');
    assert.ok(!existsSync(pinDir), 'nothing pinned');
  } finally {
    rmSync(pinDir, { recursive: true, force: true }); // only there if the refusal regressed
    await removeCgroup(cg);
  }
});

test.run();
