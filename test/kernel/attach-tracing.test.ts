// BPF trampolines and the BPF LSM, where the kernel allows them (the 6.1/6.12 test VMs; this host
// refuses them, and a test checks that the refusal says so): fentry reads the arguments of this
// process's socket() calls, fexit their results, fmod_ret makes one socket() call fail with EPERM, an LSM
// program refuses another — and after close() everything is as before.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { BpfError, BpfLink, TracingLink, type LoadedProgram } from '../../src/index.js';
import { openSocket } from '../../src/sys/socket.js';
import { AddressFamily, SocketType } from '../../src/uapi/attach.js';
import { skipIf } from '../support/skip.js';
import { loadFixture, notX64, type Fixture } from './attach-helpers.js';
import { removePinDir, tempPinDir } from './helpers.js';

const t = suite('attach: fentry, fexit, fmod_ret, lsm');

/** Why trampolines cannot be tested here, measured: the kernel's answer to the fmod_ret program. */
function refused(): string | undefined {
  try {
    loadFixture('attach_tracing.bpf.o', ['fm_socket']).close();
    return undefined;
  } catch (e) {
    return `this kernel refuses BPF trampolines (${(e as Error).message.split(' — ')[0]}): run in the VMs (npm run test:vm -- 6.12 --only kernel/attach-tracing)`;
  }
}
const why = notX64 ?? refused();
const test = skipIf(t, why);
const refusedTest = skipIf(t, why ? undefined : 'this kernel allows trampolines: the refusal is tested where it refuses (this repository\'s host)');

const load = (keep: string[]): Fixture => loadFixture('attach_tracing.bpf.o', keep, { target_tgid: process.pid });
const prog = (f: Fixture, n: string) => f.loaded.programs.get(n) as LoadedProgram;

/** socket(): 'ok', or the errno name it failed with. */
function trySocket(type: number, protocol: number): string {
  try {
    openSocket(AddressFamily.INET, type | SocketType.CLOEXEC, protocol, 'test socket').close();
    return 'ok';
  } catch (e) {
    return (e as BpfError).code;
  }
}

test('fentry sees the arguments of security_socket_create, fexit its return values; both are TracingLinks', () => {
  const f = load(['fe_socket', 'fx_socket']);
  try {
    const entry = prog(f, 'fe_socket').attach();
    const exit = prog(f, 'fx_socket').attach();
    assert.instance(entry, TracingLink);
    assert.instance(exit, TracingLink);
    for (let i = 0; i < 3; i++) assert.is(trySocket(SocketType.DGRAM, 17), 'ok');
    for (let i = 0; i < 2; i++) assert.is(trySocket(SocketType.STREAM, 6), 'ok');
    assert.is(f.get('fentry_protocol_sum'), 3 * 17 + 2 * 6, 'the protocol argument of each call (Node\'s own sockets pass 0)');
    assert.is(f.get('fexit_allowed'), 5, 'each returned 0');
    entry.close();
    exit.close();
    trySocket(SocketType.DGRAM, 17);
    assert.is(f.get('fentry_protocol_sum'), 63);
  } finally {
    f.close();
  }
});

test('fmod_ret on security_socket_create: one kind of socket() fails with EPERM while attached', () => {
  const f = load(['fm_socket']);
  try {
    assert.is(trySocket(SocketType.DGRAM, 17), 'ok');
    const link = prog(f, 'fm_socket').attach();
    assert.is(trySocket(SocketType.DGRAM, 17), 'EPERM');
    assert.is(trySocket(SocketType.DGRAM, 0), 'ok', 'protocol 0 (what Node asks for) is left alone');
    assert.is(f.get('fmod_ret_denied'), 1);
    link.close();
    assert.is(trySocket(SocketType.DGRAM, 17), 'ok');
  } finally {
    f.close();
  }
});

test('lsm/socket_create refuses TCP sockets asked for by protocol number; a pinned LSM link keeps refusing', () => {
  const dir = tempPinDir('lsm');
  const f = load(['lsm_socket']);
  try {
    const link = prog(f, 'lsm_socket').attach();
    assert.is(trySocket(SocketType.STREAM, 6), 'EPERM');
    assert.is(trySocket(SocketType.STREAM, 0), 'ok');
    link.pin(`${dir}/lsm`);
    link.close();
    assert.is(trySocket(SocketType.STREAM, 6), 'EPERM', 'pinned: still attached');
    const again = BpfLink.fromPin(`${dir}/lsm`);
    assert.instance(again, TracingLink);
    rmSync(`${dir}/lsm`);
    again.close(); // the fd last: its release is synchronous, the pin's goes through the kernel's workqueue (bpf_link_put)
    assert.is(trySocket(SocketType.STREAM, 6), 'ok', 'unpinned and closed: detached');
    assert.is(f.get('lsm_denied'), 2);
  } finally {
    f.close();
    removePinDir(dir);
  }
});

refusedTest('on a kernel that refuses trampolines, the error says EPERM and that the kernel refuses the kind', () => {
  try {
    load(['fm_socket']).close();
    assert.unreachable('must be refused here');
  } catch (e) {
    assert.instance(e, BpfError);
    assert.is((e as BpfError).code, 'EPERM');
    assert.match((e as Error).message, /fm_socket/);
    assert.match((e as Error).message, /needs BPF trampolines.*this kernel refused them/);
    assert.match((e as BpfError).hint ?? '', /not at fault/);
  }
});

t.run();
