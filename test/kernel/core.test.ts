// CO-RE against the running kernel: core_task.bpf.o's local types differ from the kernel's, and each
// relocation kind must give the kernel's real answer (our pid and ppid, bpftool's view of the kernel
// BTF, a bitfield we toggle ourselves). Unresolvable relocations are poisoned, as libbpf does.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { BpfError, BpfObject, ObjectError } from '../../src/index.js';
import { BtfKind } from '../../src/btf/index.js';
import { fixture } from './helpers.js';
import { need } from '../support/tools.js';

const bpftool = (...args: string[]) => execFileSync(need('bpftool'), args, { encoding: 'utf8', maxBuffer: 256 << 20 });

/** The kernel's own view, from bpftool (test oracle): `[id] KIND 'name' size=N ...` lines. Dumped by
 * the first test that needs it (without bpftool, those tests fail; the file still loads). */
let vmlinuxDump: string | undefined;
const vmlinux = () => (vmlinuxDump ??= bpftool('btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'));
function kernelType(kind: string, name: string): { id: number; size: number } {
  const m = new RegExp(`^\\[(\\d+)\\] ${kind} '${name}' size=(\\d+)`, 'm').exec(vmlinux());
  if (!m) throw new Error(`bpftool shows no ${kind} ${name}`);
  return { id: Number(m[1]), size: Number(m[2]) };
}
function kernelEnumValue(enumName: string, value: string): number {
  const at = vmlinux().search(new RegExp(`^\\[\\d+\\] ENUM '${enumName}'`, 'm'));
  const m = new RegExp(`^\\s+'${value}' val=(-?\\d+)`, 'm').exec(vmlinux().slice(at));
  return Number(m![1]);
}

/** sched_setscheduler(0, SCHED_OTHER [| SCHED_RESET_ON_FORK]): sets task->sched_reset_on_fork for this thread. */
const libc = koffi.load('libc.so.6');
const sched_setscheduler = libc.func('int sched_setscheduler(int pid, int policy, void *param)');
const SCHED_RESET_ON_FORK = 0x40000000;
function resetOnFork(on: boolean): void {
  const rc = sched_setscheduler(0, on ? SCHED_RESET_ON_FORK : 0, Buffer.alloc(4));
  if (rc !== 0) throw new Error('sched_setscheduler failed');
}

function loadTask(options = {}) {
  const obj = BpfObject.open(fixture('core_task.bpf.o'));
  obj.programs.delete('read_missing');
  const loaded = obj.load(options);
  const offset = obj.globals.get('out')!.offset;
  const run = (): bigint[] => {
    assert.is(loaded.programs.get('read_task')!.testRun({}).retval, 0);
    const v = loaded.maps.get('.bss')!.lookup(Buffer.alloc(4))!;
    return Array.from({ length: 19 }, (_, i) => v.readBigUInt64LE(offset + i * 8));
  };
  return { obj, loaded, run };
}

const core = suite('core: against /sys/kernel/btf/vmlinux');

core('every relocation kind gives the kernel\'s real answer', () => {
  const { obj, loaded, run } = loadTask();
  try {
    const out = run();
    const task = kernelType('STRUCT', 'task_struct');
    assert.is(out[0], BigInt(process.pid), 'byte_off: task->pid is our pid (main thread)');
    assert.is(out[1], BigInt(process.pid), 'byte_off: task->tgid');
    assert.is(out[2], BigInt(process.ppid), 'byte_off through a pointer: task->real_parent->tgid is our ppid');
    assert.is(out[3], 0n, 'field_exists: a field the kernel lacks');
    assert.is(out[4], 1n, 'field_exists: pid');
    assert.is(out[5], 4n, 'byte_sz: prio is an int in the kernel (unsigned short locally)');
    assert.is(out[6], 1n, 'signed: the kernel\'s prio is signed (unsigned locally)');
    assert.is(out[8], 1n, 'type_exists: task_struct___local → task_struct');
    assert.is(out[9], 0n, 'type_exists: a type the kernel lacks');
    assert.is(out[10], BigInt(task.size), 'type_size: the kernel\'s sizeof(struct task_struct)');
    assert.is(out[11], BigInt(task.id), 'target_type_id: task_struct\'s id in vmlinux BTF');
    assert.is(out[12], BigInt(obj.spec.btf!.find('task_struct___local', BtfKind.STRUCT)!.id), 'local_type_id');
    assert.is(out[13], 1n, 'enumval_exists: PIDTYPE_PGID');
    assert.is(out[14], 0n, 'enumval_exists: an enumerator the kernel lacks');
    assert.is(out[15], BigInt(kernelEnumValue('pid_type', 'PIDTYPE_SID')), 'enumval_value: PIDTYPE_SID (100 locally)');
    assert.is(out[18], 7n, 'a guarded read of a missing field is pruned by the verifier');
    const kinds = new Set(loaded.programs.get('read_task')!.coreRelocations.map((r) => r.kind));
    assert.equal([...kinds].sort(), ['byte_off', 'byte_sz', 'enumval_exists', 'enumval_value', 'field_exists', 'local_type_id', 'lshift_u64', 'rshift_u64', 'signed', 'target_type_id', 'type_exists', 'type_size']);
  } finally {
    loaded.close();
  }
});

core('bitfield (byte_off, byte_sz, lshift, rshift): task->sched_reset_on_fork follows what we set', () => {
  const { loaded, run } = loadTask();
  try {
    resetOnFork(true);
    assert.is(run()[7], 1n, 'set with SCHED_RESET_ON_FORK');
    resetOnFork(false);
    assert.is(run()[7], 0n, 'cleared again');
    resetOnFork(true);
    assert.is(run()[7], 1n);
  } finally {
    resetOnFork(false);
    loaded.close();
  }
});

core('an unguarded read of a missing field: poisoned, and the error names relocation, type and field', () => {
  try {
    BpfObject.open(fixture('core_task.bpf.o')).load();
    assert.unreachable('read_missing must be refused');
  } catch (e) {
    assert.instance(e, BpfError);
    const m = (e as Error).message;
    assert.match(m, /^the verifier refused program read_missing .*: invalid func unknown#195896080/);
    assert.match(m, /at core_task\.bpf\.c:\d+: /);
    assert.match(m, /CO-RE relocation byte_off at instruction \d+ \(struct task_struct___local, does_not_exist_in_kernel, access string "0:2"\)/);
    assert.match(m, /\/sys\/kernel\/btf\/vmlinux: the field does not exist in the target \(candidates: struct task_struct \[\d+\]\)/);
  }
});

core('btfPath: another BTF file is used for CO-RE; a missing one is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'core-btf-'));
  try {
    const copy = join(dir, 'vmlinux');
    copyFileSync('/sys/kernel/btf/vmlinux', copy);
    const { loaded, run } = loadTask({ btfPath: copy });
    try {
      assert.is(run()[0], BigInt(process.pid));
    } finally {
      loaded.close();
    }
    try {
      loadTask({ btfPath: join(dir, 'nope') });
      assert.unreachable('missing BTF file');
    } catch (e) {
      assert.instance(e, ObjectError);
      assert.match((e as Error).message, /nope.*cannot read kernel BTF.*btfPath/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

core('bpftool prog dump xlated shows the C lines of a CO-RE program', () => {
  const { loaded } = loadTask();
  try {
    const xlated = bpftool('prog', 'dump', 'xlated', 'id', String(loaded.programs.get('read_task')!.info().id));
    assert.match(xlated, /; out\[0\] = BPF_CORE_READ\(task, pid\);/);
  } finally {
    loaded.close();
  }
});
core.run();
