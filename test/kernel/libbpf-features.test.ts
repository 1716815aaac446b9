// The libbpf features of bpf/corpus on the running kernel, one behaviour per test: what each load
// puts in the kernel (sizes, slots, kconfig values, ksym addresses) is checked by running the
// programs and reading the maps back; refusals name their cause. Whether the kernel has a feature
// (trampolines for fentry, kfuncs, typed ksyms) is found out when the tests are registered, and the
// test for the other case runs instead (this host refuses fentry/lsm; the 6.1/6.12 VMs load them).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BpfError, BpfObject, ObjectError, ProgType, UsageError, VerifierError, type LoadedObject } from '../../src/index.js';
import { hasUprobeMultiLink } from '../../src/features/probe.js';
import { readKernelConfig } from '../../src/load/kconfig.js';
import { kallsymsAddresses } from '../../src/load/ksyms.js';
import { possibleCpus } from '../../src/sys/cpus.js';
import { AttachType, MapFlag } from '../../src/uapi/enums.js';
import { removePinDir, REPO, tempPinDir } from './helpers.js';

const corpus = (name: string) => join(REPO, 'bpf', 'corpus', `${name}.bpf.o`);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const packet = (len: number) => Buffer.alloc(len, 0x11);
const quiet = { warn: () => {} };

/** Load, or the error it gives (to decide, at registration, which test applies). */
function attempt(name: string, programs?: string[]): LoadedObject | Error {
  try {
    return BpfObject.open(corpus(name)).load({ ...quiet, programs });
  } catch (e) {
    return e as Error;
  }
}
function closeIf(x: LoadedObject | Error): boolean {
  if (x instanceof Error) return false;
  x.close();
  return true;
}

const sizes = suite('libbpf features: map sizes and slots');

sizes('PERF_EVENT_ARRAY with max_entries 0 gets one slot per possible CPU; explicit sizes stay', () => {
  const l = BpfObject.open(corpus('perf_event_array')).load(quiet);
  try {
    assert.is(l.maps.get('events_auto')!.info().maxEntries, possibleCpus());
    assert.is(l.maps.get('events_typed')!.info().maxEntries, possibleCpus());
    assert.is(l.maps.get('events_sized')!.info().maxEntries, 8);
    assert.is(l.maps.get('events_auto')!.info().btfValueTypeId, 0, 'no BTF key/value for perf event arrays');
  } finally {
    l.close();
  }
});

sizes('ring buffers are rounded up to a power-of-two number of pages', () => {
  const l = BpfObject.open(corpus('ringbuf')).load(quiet);
  try {
    assert.equal(['rb_exact', 'rb_round', 'urb'].map((n) => l.maps.get(n)!.info().maxEntries), [16384, 16384, 8192]);
  } finally {
    l.close();
  }
});

sizes('statically initialised map-in-map slots hold the inner maps named in the object', () => {
  const l = BpfObject.open(corpus('map_in_map')).load(quiet);
  try {
    const id = (n: string) => l.maps.get(n)!.info().id;
    const slot = (outer: string, k: number) => l.maps.get(outer)!.lookup(u32(k))?.readUInt32LE(0);
    assert.equal([slot('outer_arr', 0), slot('outer_arr', 1), slot('outer_arr', 2)], [id('inner_a'), undefined, id('inner_b')]);
    assert.equal([slot('outer_hash', 1), slot('outer_hash', 5), slot('outer_hash', 0)], [id('inner_b'), id('inner_a'), undefined]);
    assert.is(slot('outer_empty', 0), undefined);
    // And the program reaches them: inner_a[0] = 7 is read back through outer_arr[0].
    l.maps.get('inner_a')!.update(u32(0), Buffer.from([7, 0, 0, 0, 0, 0, 0, 0]));
    assert.is(l.programs.get('lookup_outer')!.testRun({ data: packet(64) }).retval, 7);
  } finally {
    l.close();
  }
});

sizes('statically initialised PROG_ARRAY slots: tail calls reach the programs named in the object', () => {
  const l = BpfObject.open(corpus('prog_array')).load(quiet);
  try {
    // entry tail-calls jmp_table[skb->len & 3]; a socket filter's test run sees the packet without its
    // 14-byte Ethernet header (65 bytes → len 51 → slot 3 → tail_y). Slots 0 and 2 are empty: no tail call.
    const entry = l.programs.get('entry')!;
    assert.equal([65, 67, 64, 66].map((len) => entry.testRun({ data: packet(len) }).retval), [22, 11, 0, 0]);
  } finally {
    l.close();
  }
});

sizes('global data is BPF_F_MMAPABLE when a non-static variable is in it (libbpf), .rodata frozen', () => {
  const l = BpfObject.open(corpus('globals')).load(quiet);
  try {
    const flags = (n: string) => l.maps.get(n)!.info().mapFlags;
    assert.is(flags('.data'), MapFlag.MMAPABLE);
    assert.is(flags('.rodata'), MapFlag.MMAPABLE | MapFlag.RDONLY_PROG);
    assert.is(flags('.data.statics'), 0);
    assert.equal(['.data', '.rodata', '.data.foo'].map((n) => l.maps.get(n)!.info().name), ['globals.data', 'globals.rodata', '.data.foo']);
  } finally {
    l.close();
  }
});
sizes.run();

const externs = suite('libbpf features: .kconfig and .ksyms externs, kfuncs');
const config = readKernelConfig();
const configValue = (name: string) => config?.text.split('\n').find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);
const readSlots = (l: LoadedObject, map: string, n: number) => Array.from({ length: n }, (_, i) => l.maps.get(map)!.lookup(u32(i))!.readBigUInt64LE(0));

(config ? externs : externs.skip)(`kconfig externs read the running kernel's configuration${config ? ` (${config.source})` : ' (skipped: no /boot/config-$(uname -r) or /proc/config.gz here)'}`, () => {
  const l = BpfObject.open(corpus('kconfig')).load(quiet);
  try {
    l.programs.get('read_kconfig')!.testRun({ data: packet(64) });
    const [, syscall, veth, hz, phys] = readSlots(l, 'kconfig_out', 8);
    assert.is(syscall, configValue('CONFIG_BPF_SYSCALL') === 'y' ? 1n : 0n);
    assert.is(veth, { y: 1n, m: 2n }[configValue('CONFIG_VETH') ?? ''] ?? 0n);
    assert.is(hz, BigInt(configValue('CONFIG_HZ') ?? '0'));
    assert.is(phys, BigInt(configValue('CONFIG_PHYSICAL_START') ?? '0'));
  } finally {
    l.close();
  }
});

externs('kconfig values given in LoadOptions.kconfig win over the kernel\'s (and need no config file)', () => {
  // Every CONFIG_ extern given (the weak one too: libbpf reads the kernel's file for any that is not).
  const text = 'CONFIG_BPF_SYSCALL=y\nCONFIG_VETH=m\nCONFIG_HZ=1000\nCONFIG_PHYSICAL_START=0x2000000\nCONFIG_DEFAULT_TCP_CONG="reno"\nCONFIG_DEFAULT_HOSTNAME="h"\nCONFIG_SOCKACCEL_NO_SUCH_OPTION=0\n';
  const l = BpfObject.open(corpus('kconfig')).load({ ...quiet, kconfig: text });
  try {
    l.programs.get('read_kconfig')!.testRun({ data: packet(64) });
    const [, syscall, veth, hz, phys, chars, weak] = readSlots(l, 'kconfig_out', 8);
    assert.equal([syscall, veth, hz, phys, chars, weak], [1n, 2n, 1000n, 0x2000000n, BigInt('r'.charCodeAt(0) | ('h'.charCodeAt(0) << 8)), 0n]);
  } finally {
    l.close();
  }
});

externs(`a strong kconfig extern the kernel does not set is refused, naming it${config ? '' : ' (no config file here: refused for that, naming it)'}`, () => {
  try {
    BpfObject.open(corpus('kconfig_missing')).load({ ...quiet, kconfig: 'CONFIG_BPF_SYSCALL=y\n' }).close();
    assert.unreachable();
  } catch (e) {
    if (config) {
      assert.instance(e, ObjectError);
      assert.match((e as Error).message, /kconfig_missing\.bpf\.o.*CONFIG_SOCKACCEL_NO_SUCH_OPTION \(strong\)/);
    } else {
      assert.instance(e, UsageError);
      assert.match((e as Error).message, /kconfig_missing\.bpf\.o: kconfig externs CONFIG_SOCKACCEL_NO_SUCH_OPTION need the kernel's configuration/);
    }
  }
});

externs('untyped ksyms are their /proc/kallsyms addresses; weak missing ones read 0', () => {
  const l = BpfObject.open(corpus('ksyms_text')).load(quiet);
  try {
    l.programs.get('text_addrs')!.testRun({ data: packet(64) });
    const addr = kallsymsAddresses(new Set(['_text', 'schedule']));
    const [delta, missing1, missing2] = readSlots(l, 'ksyms_text_out', 3);
    assert.is(delta, addr.get('schedule')![0]! - addr.get('_text')![0]!);
    assert.equal([missing1, missing2], [0n, 0n]);
  } finally {
    l.close();
  }
});

const dataSymbols = kallsymsAddresses(new Set(['bpf_prog_active'])).has('bpf_prog_active');
if (dataSymbols) {
  externs('typed ksyms (per-CPU runqueues, process_counts) and an untyped data symbol load (CONFIG_KALLSYMS_ALL)', () => {
    const l = BpfObject.open(corpus('ksyms')).load(quiet);
    try {
      assert.ok(l.programs.get('on_sys_enter')!.info().id > 0);
    } finally {
      l.close();
    }
  });
} else {
  externs('without data symbols in kallsyms (no CONFIG_KALLSYMS_ALL), a strong untyped ksym is refused, naming it', () => {
    try {
      BpfObject.open(corpus('ksyms')).load(quiet).close();
      assert.unreachable();
    } catch (e) {
      assert.instance(e, UsageError);
      assert.match((e as Error).message, /ksyms\.bpf\.o: extern bpf_prog_active \(strong\) cannot be resolved: it is not in \/proc\/kallsyms/);
    }
  });
}

const kfuncs = attempt('kfunc');
if (closeIf(kfuncs)) {
  externs('kfunc calls resolve to kernel BTF ids; a weak missing kfunc is dead code; the program runs', () => {
    const l = BpfObject.open(corpus('kfunc')).load(quiet);
    try {
      // 1 when bpf_task_from_pid(1) finds PID 1 of the initial namespace (not in every sandbox).
      assert.ok([0, 1].includes(l.programs.get('kfunc_calls')!.testRun().retval));
      const xlated = l.programs.get('kfunc_calls')!.info().xlatedInsns;
      assert.ok(xlated > 0 && xlated < 20, 'the guarded call of the missing weak kfunc is pruned');
    } finally {
      l.close();
    }
  });
} else {
  externs(`a kernel without these kfuncs: refused naming the kfunc (${(kfuncs as Error).message.split('\n')[0]?.slice(0, 80)}…)`, () => {
    assert.match((kfuncs as Error).message, /kfunc\.bpf\.o.*bpf_task_from_pid|bpf_task_release|bpf_rcu_read_lock/);
  });
}
externs.run();

const progs = suite('libbpf features: sections, autoload, subsets, attach targets');

progs('SEC("?...") programs are not loaded; load({ programs }) loads exactly those named', () => {
  const obj = BpfObject.open(corpus('autoload'));
  const l = obj.load(quiet);
  try {
    assert.equal([[...l.programs.keys()], l.notLoaded], [['always_on'], ['maybe_bad']]);
  } finally {
    l.close();
  }
  try {
    obj.load({ ...quiet, programs: ['maybe_bad'] }).close();
    assert.unreachable('maybe_bad does not verify');
  } catch (e) {
    assert.instance(e, VerifierError);
    assert.match((e as Error).message, /maybe_bad/);
  }
  const runq = BpfObject.open(corpus('tool_runqlat'));
  const r = runq.load({ ...quiet, programs: ['raw_switch', 'raw_wakeup'] });
  try {
    assert.equal([...r.programs.keys()].sort(), ['raw_switch', 'raw_wakeup']);
  } finally {
    r.close();
  }
});

progs('an unknown section is refused naming it; setting the type loads it', () => {
  const obj = BpfObject.open(corpus('unknown_section'));
  assert.throws(() => obj.load(quiet), (e: Error) => e instanceof ObjectError && /mystery: section "sockaccel\/unknown"/.test(e.message));
  obj.programs.get('mystery')!.type = ProgType.SOCKET_FILTER;
  const l = obj.load(quiet);
  try {
    assert.is(l.programs.get('mystery')!.info().type, ProgType.SOCKET_FILTER);
  } finally {
    l.close();
  }
});

progs('sleepable and xdp.frags sections load with BPF_F_SLEEPABLE / BPF_F_XDP_HAS_FRAGS; usdt per uprobe-multi support', () => {
  const t = BpfObject.open(corpus('sec_trace')).load(quiet);
  try {
    assert.is(t.programs.get('s_uprobe_s')!.progFlags, 16);
    assert.is(t.programs.get('s_syscall')!.progFlags, 16);
    assert.is(t.programs.get('s_kprobe')!.progFlags, 0);
  } finally {
    t.close();
  }
  const n = BpfObject.open(corpus('sec_net')).load(quiet);
  try {
    assert.is(n.programs.get('s_xdp_frags')!.progFlags, 32);
  } finally {
    n.close();
  }
  const u = BpfObject.open(corpus('tool_usdt')).load(quiet);
  try {
    assert.is(u.programs.get('on_usdt')!.expectedAttachType, hasUprobeMultiLink() ? AttachType.TRACE_UPROBE_MULTI : 0);
    assert.is(u.programs.get('on_uprobe')!.expectedAttachType, 0);
  } finally {
    u.close();
  }
});

// fmod_ret is apart: it also needs its target on the kernel's error-injection list (Debian's 6.1/6.12
// do not allow bpf_modify_return_test), which the verifier checks.
const fentry = attempt('fentry', ['fentry_test1', 'fexit_test1']);
if (closeIf(fentry)) {
  progs('fentry/fexit load with attach_btf_id of their kernel function; fentry.s and fmod_ret load or are refused naming the target', () => {
    const l = BpfObject.open(corpus('fentry')).load({ ...quiet, programs: ['fentry_test1', 'fexit_test1'] });
    try {
      for (const p of l.programs.values()) assert.ok(p.attachBtfId > 0 && p.info().attachBtfId === p.attachBtfId, p.name);
    } finally {
      l.close();
    }
    // bpf_modify_return_test is sleepable and modifiable only with error injection (Debian's 6.1 and
    // 6.12 say no to both; the verifier refuses before any instruction, and the hint says so).
    const refusals: Record<string, RegExp> = { fentry_sleepy: /fentry_sleepy .*bpf_modify_return_test is not sleepable/, fmodret_test: /fmodret_test .*bpf_modify_return_test\(\) is not modifiable/ };
    for (const [name, why] of Object.entries(refusals)) {
      const m = attempt('fentry', [name]);
      if (m instanceof Error) {
        assert.instance(m, VerifierError);
        assert.match(m.message, why);
        assert.match((m as VerifierError).hint ?? '', /before checking any instruction/);
      } else {
        if (name === 'fentry_sleepy') assert.is(m.programs.get(name)!.progFlags, 16);
        m.close();
      }
    }
  });
} else {
  progs('a kernel without trampolines: fentry is refused with the feature named, not blamed on the program', () => {
    const e = fentry as Error;
    assert.instance(e, BpfError);
    assert.match(e.message, /^fentry needs BPF trampolines .*: this kernel refused them \(EPERM for program fentry_test1/);
    assert.not.match(e.message, /needs root/);
  });
}

const fentryModule = attempt('fentry_module');
if (closeIf(fentryModule)) {
  progs('fentry on a module function: attach_btf_id in the module\'s BTF (MODULE:FN, and found by search)', () => {
    const l = BpfObject.open(corpus('fentry_module')).load(quiet);
    try {
      for (const p of l.programs.values()) {
        const info = p.info();
        assert.ok(info.attachBtfObjId > 0 && info.attachBtfId === p.attachBtfId, `${p.name} attached to module BTF`);
      }
    } finally {
      l.close();
    }
  });
} else {
  progs('fentry on a module function where the module or trampolines are missing: refused naming which', () => {
    assert.match((fentryModule as Error).message, /veth:veth_xmit, but no loaded module veth has BTF|trampolines/);
  });
}

const lsm = attempt('lsm');
if (closeIf(lsm)) {
  progs('lsm, lsm.s and lsm_cgroup programs load with attach_btf_id of bpf_lsm_<hook>', () => {
    const l = BpfObject.open(corpus('lsm')).load(quiet);
    try {
      assert.equal([...l.programs.keys()].sort(), ['check_bind', 'check_bprm', 'check_file_open']);
      assert.is(l.programs.get('check_bind')!.expectedAttachType, AttachType.LSM_CGROUP);
    } finally {
      l.close();
    }
  });
} else {
  progs('a kernel that refuses LSM programs: refused with the feature named', () => {
    assert.match((lsm as Error).message, /^lsm needs the BPF LSM .*this kernel refused them/);
  });
}

progs('freplace: needs a target (named in the error); replaces a global function of a loaded program', () => {
  const obj = BpfObject.open(corpus('freplace'));
  assert.throws(() => obj.load(quiet), (e: Error) => e instanceof UsageError && /new_check .*replaces function check_len .*no target program was given/.test(e.message));
  const target = BpfObject.open(corpus('freplace_target')).load(quiet);
  try {
    obj.setAttachTarget('new_check', target.programs.get('target_prog')!, 'check_len');
    let l: LoadedObject | undefined;
    try {
      l = obj.load(quiet);
      assert.is(l.programs.get('new_check')!.info().type, ProgType.EXT);
    } catch (e) {
      // Kernels without trampolines refuse the kind, and say so.
      assert.instance(e, BpfError);
      assert.match((e as Error).message, /^freplace needs BPF trampolines/);
    } finally {
      l?.close();
    }
    obj.setAttachTarget('new_check', target.programs.get('target_prog')!, 'no_such_function');
    assert.throws(() => obj.load(quiet), /no such function in its BTF/);
  } finally {
    target.close();
  }
});

progs('iter programs load; struct_ops loads with the kernel\'s value type and its value prepared (or is refused naming the map)', () => {
  closeIf(BpfObject.open(corpus('iter')).load(quiet));
  const so = attempt('struct_ops');
  if (so instanceof Error) {
    assert.match(so.message, /corpus_cc/);
    return;
  }
  try {
    const value = so.structOps.get('corpus_cc')!;
    assert.is(value.length, so.maps.get('corpus_cc')!.info().valueSize);
    assert.ok(value.includes(Buffer.from('corpus_cc\0')), 'the name member copied into the kernel layout');
    assert.is(so.programs.get('cc_undo_cwnd')!.expectedAttachType > 0, true, 'member index as expected attach type');
  } finally {
    so.close();
  }
});
progs.run();

const pins = suite('libbpf features: pinning');

pins('LIBBPF_PIN_BY_NAME pins under pinRoot and the next load reuses the pin', () => {
  const root = tempPinDir('byname');
  try {
    const a = BpfObject.open(corpus('pin_by_name')).load({ ...quiet, pinRoot: root });
    const id = a.maps.get('shared_counts')!.info().id;
    a.close();
    assert.ok(existsSync(join(root, 'shared_counts')));
    assert.not.ok(existsSync(join(root, 'local_counts')));
    const b = BpfObject.open(corpus('pin_by_name')).load({ ...quiet, pinRoot: root });
    try {
      assert.is(b.maps.get('shared_counts')!.info().id, id);
    } finally {
      b.close();
    }
  } finally {
    removePinDir(root);
  }
});

pins('legacy iproute2 maps: PIN_GLOBAL_NS under tc/globals, PIN_OBJECT_NS under tc/<sha1 of the object>, reused', () => {
  const root = tempPinDir('tc');
  try {
    const a = BpfObject.open(corpus('legacy_elf_map')).load({ ...quiet, pinRoot: root });
    const id = a.maps.get('tc_global')!.info().id;
    a.close();
    const sha = createHash('sha1').update(readFileSync(corpus('legacy_elf_map'))).digest('hex');
    assert.ok(existsSync(join(root, 'tc', 'globals', 'tc_global')));
    assert.ok(existsSync(join(root, 'tc', sha, 'tc_object')));
    assert.not.ok(existsSync(join(root, 'tc', 'globals', 'tc_private')));
    const b = BpfObject.open(corpus('legacy_elf_map')).load({ ...quiet, pinRoot: root });
    try {
      assert.is(b.maps.get('tc_global')!.info().id, id);
    } finally {
      b.close();
    }
  } finally {
    removePinDir(root);
  }
});
pins.run();
