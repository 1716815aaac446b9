// `sockaccel-ffi inspect`: the compiled CLI as a child process (no root needed, no kernel).
import { spawnSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const MAIN = fileURLToPath(new URL('../../pkg/cli.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: REPO });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('inspect (the shipped object by default): tables, then the disassembly with C lines', () => {
  const r = cli('inspect');
  assert.is(r.code, 0, r.stderr);
  for (const heading of ['sections (', 'maps (', 'programs (', 'globals (', 'relocations (', 'BTF: ', 'CO-RE relocations (']) assert.ok(r.stdout.includes(heading), heading);
  assert.match(r.stdout, /^program sockaccel_sockops \(section sockops\):$/m);
  assert.match(r.stdout, /^ +\d+: r\d = map\[sock_hash\] ll$/m);
  assert.match(r.stdout, /^ +\d+: call bpf_sock_hash_update$/m);
  assert.match(r.stdout, /^; .*\[sockaccel\.bpf\.c:\d+\]$/m);
});

test('inspect FILE --json gives the same as data', () => {
  const r = cli('inspect', 'bpf/fixtures/calls.bpf.o', '--json');
  assert.is(r.code, 0, r.stderr);
  const x = JSON.parse(r.stdout);
  assert.is(x.file, 'bpf/fixtures/calls.bpf.o');
  assert.ok(Array.isArray(x.maps) && Array.isArray(x.programs) && Array.isArray(x.relocations) && Array.isArray(x.disassembly));
  assert.ok(x.disassembly.some((l: { lines: { text: string }[] }) => l.lines.some((line) => line.text === 'call inner_step')));
});

test('--program narrows the disassembly; --no-disasm drops it', () => {
  const one = cli('inspect', '--program', 'sockaccel_msg');
  assert.is(one.code, 0, one.stderr);
  assert.match(one.stdout, /^program sockaccel_msg/m);
  assert.not.match(one.stdout, /^program sockaccel_sockops/m);
  const none = cli('inspect', '--no-disasm', '--json');
  assert.equal(JSON.parse(none.stdout).disassembly, []);
  const missing = cli('inspect', '--program', 'nope');
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /has no program or subprogram nope \(it has: sockaccel_sockops, sockaccel_exclude, sockaccel_msg, obs_send, /);
});

test('errors: a missing file and a file that is not an object', () => {
  const r = cli('inspect', '/nonexistent/x.bpf.o');
  assert.is(r.code, 1);
  assert.match(r.stderr, /^error: cannot read \/nonexistent\/x\.bpf\.o: ENOENT$/m);
  const junk = join(tmpdir(), `inspect-junk-${process.pid}.o`);
  writeFileSync(junk, 'not an ELF file at all, just words');
  try {
    const j = cli('inspect', junk);
    assert.is(j.code, 1);
    assert.match(j.stderr, /^error: /);
    assert.is(j.stdout, '');
  } finally {
    rmSync(junk, { force: true });
  }
});

test.run();
