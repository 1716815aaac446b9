// The loader's retry and fallback paths, driven by a fake kernel (setBpfBackend): no bpf() call
// reaches the real kernel here. Each fake answers from the decoded attr, so the tests also check what
// the loader asked for. Returned "fds" are real fds of /dev/null, so closing them is harmless.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSync, readFileSync } from 'node:fs';
import { BpfObject, BpfProgram, Fd, hasHelper, overrideProbe, resetProbes, VerifierError, cgroupV2Root, ProgType, AttachType } from '../../src/index.js';
import { setBpfBackend, type BpfBackend, type SyscallResult } from '../../src/sys/syscall.js';
import type { Attr } from '../../src/sys/attr.js';
import * as A from '../../src/uapi/attr.js';
import { Cmd } from '../../src/uapi/enums.js';
import { decode } from '../../src/uapi/layout.js';
import { attachCgroup, attachToMap } from '../../src/link/attach.js';
import { fixturePath } from './fixtures.js';

const EAGAIN = 11, EACCES = 13, EINVAL = 22, ENOSPC = 28;
const ok = (ret = 0): SyscallResult => ({ ret, errno: 0 });
const fail = (errno: number): SyscallResult => ({ ret: -1, errno });
/** A real fd nobody cares about, as the "new object" a fake command returns. */
const devNull = (): SyscallResult => ok(openSync('/dev/null', 'r'));

/** Run `body` with `fake` as the kernel; every call is recorded. */
function withFake<T>(fake: BpfBackend, body: (calls: { cmd: number; attr: Attr }[]) => T): T {
  const calls: { cmd: number; attr: Attr }[] = [];
  const restore = setBpfBackend((cmd, attr) => {
    calls.push({ cmd, attr });
    return fake(cmd, attr);
  });
  try {
    return body(calls);
  } finally {
    restore();
  }
}

/** Write `text` into the buffer a pointer field of `attr` points at. */
function writeLog(attr: Attr, field: 'log_buf', text: string): void {
  const address = decode(A.PROG_LOAD, attr.buf)[field];
  const buf = attr.pointee(address);
  if (!buf) throw new Error('the loader passed no log buffer');
  buf.write(text.slice(0, buf.length - 1) + '\0', 0, 'utf8');
}

/** A fake kernel that takes BTF, maps and map updates, and answers PROG_LOAD with `progLoad`. */
function kernel(progLoad: (attr: Attr, n: number) => SyscallResult): BpfBackend {
  let loads = 0;
  return (cmd, attr) => {
    switch (cmd) {
      case Cmd.BTF_LOAD: case Cmd.MAP_CREATE: return devNull();
      case Cmd.MAP_UPDATE_ELEM: case Cmd.MAP_FREEZE: return ok();
      case Cmd.PROG_LOAD: return progLoad(attr, loads++);
      default: return fail(EINVAL);
    }
  };
}

const object = () => BpfObject.open(readFileSync(fixturePath('verifier_reject')), 'verifier_reject.bpf.o');

test('a refused program is loaded again with a log, and the log buffer grows on ENOSPC until the verdict fits', () => {
  const verdict = "R0 invalid mem access 'map_value_or_null'";
  const fullLog = `${'0: (b7) r0 = 0\n'.repeat(30000)}${verdict}\nprocessed 5 insns\n`;
  withFake(kernel((attr) => {
    const { log_level, log_size } = decode(A.PROG_LOAD, attr.buf);
    if (!log_level) return fail(EACCES);
    writeLog(attr, 'log_buf', fullLog);
    return log_size > fullLog.length ? fail(EACCES) : fail(ENOSPC);
  }), (calls) => {
    let err: unknown;
    try {
      object().load().close();
    } catch (e) {
      err = e;
    }
    assert.instance(err, VerifierError);
    assert.is((err as VerifierError).verdict, verdict);
    const sizes = calls.filter((c) => c.cmd === Cmd.PROG_LOAD).map((c) => decode(A.PROG_LOAD, c.attr.buf).log_size);
    assert.is(sizes[0], 0, 'the first load asks for no log');
    assert.ok(sizes.length >= 3, `the log grew at least once: ${sizes}`);
    for (let i = 2; i < sizes.length; i++) assert.ok(sizes[i]! > sizes[i - 1]!, `log sizes grow: ${sizes}`);
    assert.ok(sizes.at(-1)! > fullLog.length, 'the last log buffer holds the whole log');
  });
});

test('EAGAIN from the verifier is retried; the program then loads', () => {
  withFake(kernel((_attr, n) => (n < 2 ? fail(EAGAIN) : devNull())), (calls) => {
    const loaded = object().load();
    try {
      assert.is(loaded.programs.size, 1);
      assert.is(calls.filter((c) => c.cmd === Cmd.PROG_LOAD).length, 3);
    } finally {
      loaded.close();
    }
  });
});

test('a feature probe retries EAGAIN instead of caching a transient refusal as "absent"', () => {
  resetProbes();
  try {
    withFake((cmd) => (cmd === Cmd.PROG_LOAD ? fail(EAGAIN) : fail(EINVAL)), (calls) => {
      assert.is(hasHelper(ProgType.SOCK_OPS, 'get_netns_cookie'), false, 'EAGAIN every time: no');
      assert.is(calls.filter((c) => c.cmd === Cmd.PROG_LOAD).length, 5, 'five attempts, then it gives up');
    });
    resetProbes();
    let n = 0;
    withFake((cmd) => (cmd === Cmd.PROG_LOAD ? (n++ < 2 ? fail(EAGAIN) : devNull()) : fail(EINVAL)), (calls) => {
      assert.is(hasHelper(ProgType.SOCK_OPS, 'get_netns_cookie'), true, 'interrupted twice, then loaded: the helper is there');
      assert.is(calls.filter((c) => c.cmd === Cmd.PROG_LOAD).length, 3);
    });
  } finally {
    resetProbes();
  }
});

test('a map whose BTF key/value ids the kernel refuses is created again without them, and the load says so', () => {
  const notes: string[] = [];
  withFake((cmd, attr) => {
    if (cmd === Cmd.MAP_CREATE) return decode(A.MAP_CREATE, attr.buf).btf_value_type_id ? fail(EINVAL) : devNull();
    return kernel(() => devNull())(cmd, attr);
  }, (calls) => {
    const obj = BpfObject.open(readFileSync(fixturePath('maps')), 'maps.bpf.o');
    // Pinning touches the real bpffs (paths are checked before the fake kernel is asked): none here.
    for (const m of obj.maps.values()) m.pinning = 'none';
    const loaded = obj.load({ explain: (l) => notes.push(l) });
    try {
      const creates = calls.filter((c) => c.cmd === Cmd.MAP_CREATE).map((c) => decode(A.MAP_CREATE, c.attr.buf));
      const typed = creates.filter((c) => c.btf_value_type_id);
      assert.ok(typed.length > 0, 'some maps were first asked for with BTF ids');
      for (const t of typed) assert.ok(creates.some((c) => c.map_name === t.map_name && !c.btf_value_type_id), `${t.map_name} created again without ids`);
      assert.ok(notes.some((l) => /refused its BTF key\/value types \(EINVAL\); created without them/.test(l)), notes.join('\n'));
    } finally {
      loaded.close();
    }
  });
});

const program = (type: number, expectedAttachType: number) => {
  const fd = new Fd(openSync('/dev/null', 'r'));
  return new BpfProgram(fd, 'p', type, expectedAttachType);
};

test('cgroup attach falls back to PROG_ATTACH (ALLOW_MULTI) when the kernel has no cgroup link', () => {
  const prog = program(ProgType.SOCK_OPS, 0);
  try {
    withFake((cmd) => (cmd === Cmd.LINK_CREATE ? fail(EINVAL) : cmd === Cmd.PROG_ATTACH ? ok() : fail(EINVAL)), (calls) => {
      // The cgroup root is only opened: the fake kernel attaches nothing anywhere.
      const a = attachCgroup(prog, cgroupV2Root());
      try {
        assert.is(a.method, 'prog_attach');
        assert.equal(calls.map((c) => c.cmd), [Cmd.LINK_CREATE, Cmd.PROG_ATTACH]);
        const attr = decode(A.PROG_ATTACH, calls[1]!.attr.buf);
        assert.is(attr.attach_type, AttachType.CGROUP_SOCK_OPS);
        assert.is(attr.attach_flags, 2, 'ALLOW_MULTI: never replace another program');
      } finally {
        a.close();
      }
    });
    // A real error (not "no such link type") is not hidden behind the fallback.
    withFake((cmd) => (cmd === Cmd.LINK_CREATE ? fail(1) : ok()), (calls) => {
      assert.throws(() => attachCgroup(prog, cgroupV2Root()), /BPF_LINK_CREATE failed .*EPERM/);
      assert.equal(calls.map((c) => c.cmd), [Cmd.LINK_CREATE]);
    });
  } finally {
    prog.close();
  }
});

test('sockmap attach uses PROG_ATTACH where the probe says there are no sockmap links', () => {
  const prog = program(ProgType.SK_MSG, AttachType.SK_MSG_VERDICT);
  const map = { fd: new Fd(openSync('/dev/null', 'r')), name: 'sock_hash', type: 18 };
  overrideProbe('sockmap-links', false);
  try {
    withFake((cmd) => (cmd === Cmd.PROG_ATTACH ? ok() : fail(EINVAL)), (calls) => {
      const a = attachToMap(prog, map);
      try {
        assert.is(a.method, 'prog_attach');
        assert.equal(calls.map((c) => c.cmd), [Cmd.PROG_ATTACH]);
        assert.is(decode(A.PROG_ATTACH, calls[0]!.attr.buf).attach_type, AttachType.SK_MSG_VERDICT);
      } finally {
        a.close();
      }
    });
  } finally {
    resetProbes();
    map.fd.close();
    prog.close();
  }
});

test.run();
