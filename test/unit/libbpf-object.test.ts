// What libbpf does at open, done by the pure object layer (no kernel): externs and the .kconfig
// layout, the BTF rewrites the kernel needs, static map-in-map / PROG_ARRAY initialisers, struct_ops,
// legacy maps (iproute2 pinning, trailing bytes), internal map names, BPF_F_MMAPABLE, and the
// loader's pure helpers (kconfig values, kallsyms, relocation encodings, ring buffer sizes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BtfKind, BtfLinkage } from '../../src/btf/kinds.js';
import { LazyBtf } from '../../src/btf/lazy.js';
import { ObjectError, UsageError } from '../../src/errors.js';
import { BpfObject } from '../../src/load/bpf-object.js';
import { effectiveMaxEntries, ringbufSize } from '../../src/load/create-maps.js';
import { fillKconfig, kernelVersionCode, kernelVersionFrom, parseCInteger } from '../../src/load/kconfig.js';
import { kallsymsAddresses } from '../../src/load/ksyms.js';
import { applyExternRelocations, applyMapRelocations, POISON_KFUNC_BASE, POISON_MAP_BASE } from '../../src/object/relocate.js';
import { linkFunctions } from '../../src/object/link-functions.js';
import { kernelName } from '../../src/object/names.js';
import { objectName, parseObject } from '../../src/object/parse.js';
import type { ObjectSpec } from '../../src/object/spec.js';
import { MapFlag, MapType, Pseudo } from '../../src/uapi/enums.js';
import { BtfBuilder } from './btf-builder.js';
import { REPO_ROOT } from './fixtures.js';

const corpus = (name: string) => join(REPO_ROOT, 'bpf', 'corpus', `${name}.bpf.o`);
const open = (name: string): ObjectSpec => parseObject(readFileSync(corpus(name)), corpus(name));

test('.kconfig externs: one map laid out as libbpf (alignment desc, size, name), RDONLY_PROG|MMAPABLE', () => {
  const spec = open('kconfig');
  const off = Object.fromEntries([...spec.externs.values()].map((e) => [e.name, e.kconfig!.offset]));
  assert.equal(off, {
    CONFIG_PHYSICAL_START: 0, CONFIG_HZ: 8, CONFIG_SOCKACCEL_NO_SUCH_OPTION: 12, CONFIG_VETH: 16, LINUX_KERNEL_VERSION: 20,
    CONFIG_BPF_SYSCALL: 24, LINUX_HAS_SYSCALL_WRAPPER: 25, CONFIG_DEFAULT_HOSTNAME: 26, CONFIG_DEFAULT_TCP_CONG: 30,
  });
  assert.equal([...spec.externs.keys()].slice(0, 2), ['CONFIG_PHYSICAL_START', 'CONFIG_HZ'], 'externs in libbpf order');
  const m = spec.maps.get('.kconfig')!;
  assert.equal([m.kind, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags, m.readonly], ['data', MapType.ARRAY, 4, 38, 1, MapFlag.RDONLY_PROG | MapFlag.MMAPABLE, true]);
  assert.is(kernelName(spec.name, '.kconfig'), 'kconfig.kconfig');
  // The BTF the kernel gets: allocated globals at their slots, in a DATASEC of the layout's size.
  const sec = spec.btf!.find('.kconfig', BtfKind.DATASEC);
  assert.ok(sec && sec.kind === BtfKind.DATASEC);
  assert.is(sec.size, 38);
  for (const v of sec.vars) {
    const t = spec.btf!.type(v.type);
    assert.ok(t.kind === BtfKind.VAR && t.linkage === BtfLinkage.GLOBAL, `${t.name} allocated`);
    assert.is(v.offset, off[t.name]);
  }
  assert.equal(spec.btfProblems, [], 'nothing left for BTF fix-ups');
  // A kconfig reference is a global-data reference at the slot's offset.
  const relos = spec.programs.get('read_kconfig')!.relocations.filter((r) => r.kind === 'data' && r.map === '.kconfig');
  assert.ok(relos.length >= 8);
  assert.ok(relos.every((r) => r.kind === 'data' && Object.values(off).includes(r.offset)));
});

test('filling .kconfig: bool, tristate, int, hex, strings (cut), weak missing 0, LINUX_ values', () => {
  const spec = open('kconfig');
  const buf = Buffer.alloc(38);
  const warnings: string[] = [];
  fillKconfig(spec, buf, {
    kernelConfig: () => ({ source: 'test', text: 'CONFIG_BPF_SYSCALL=y\nCONFIG_VETH=m\nCONFIG_HZ=250\nCONFIG_PHYSICAL_START=0x1000000\n# CONFIG_X is not set\nCONFIG_DEFAULT_TCP_CONG="cubic"\nCONFIG_DEFAULT_HOSTNAME="(none)"\n' }),
    kernelVersion: () => kernelVersionCode(6, 1, 123),
    probes: { bpfCookie: () => true, syscallWrapper: () => false },
    warn: (m) => warnings.push(m),
  });
  assert.is(buf.readBigUInt64LE(0), 0x1000000n);
  assert.is(buf.readInt32LE(8), 250);
  assert.is(buf.readInt32LE(12), 0, 'weak and missing: 0');
  assert.is(buf.readUInt32LE(16), 2, 'tristate m');
  assert.is(buf.readUInt32LE(20), 0x06017b);
  assert.is(buf[24], 1);
  assert.is(buf[25], 0);
  assert.is(buf.toString('latin1', 26, 29), '(no', '"(none)" cut to 3 bytes + NUL');
  assert.is(buf[29], 0);
  assert.is(buf.toString('latin1', 30, 35), 'cubic');
  assert.match(warnings.join('\n'), /CONFIG_DEFAULT_HOSTNAME.*cut to 3 bytes/);
  // Extra lines win over the kernel's (libbpf's kconfig open option).
  const again = Buffer.alloc(38);
  fillKconfig(spec, again, {
    extra: 'CONFIG_HZ=1000\n', kernelConfig: () => ({ source: 'test', text: 'CONFIG_HZ=250\nCONFIG_BPF_SYSCALL=y\nCONFIG_VETH=y\nCONFIG_PHYSICAL_START=1\nCONFIG_DEFAULT_TCP_CONG="bbr"\nCONFIG_DEFAULT_HOSTNAME="x"\n' }),
    kernelVersion: () => 1, probes: { bpfCookie: () => true, syscallWrapper: () => true }, warn: () => {},
  });
  assert.is(again.readInt32LE(8), 1000);
  assert.is(again[25], 1, 'LINUX_HAS_SYSCALL_WRAPPER from the probe');
});

test('kconfig refusals: a strong option missing, a value that does not fit, m for a bool, no config at all', () => {
  const ctx = (text: string) => ({ kernelConfig: () => ({ source: 't', text }), kernelVersion: () => 1, probes: { bpfCookie: () => false, syscallWrapper: () => false }, warn: () => {} });
  const missing = open('kconfig_missing');
  assert.throws(() => fillKconfig(missing, Buffer.alloc(5), ctx('CONFIG_BPF_SYSCALL=y\n')),
    (e: Error) => e instanceof ObjectError && /CONFIG_SOCKACCEL_NO_SUCH_OPTION \(strong\) is not set/.test(e.message));
  const spec = open('kconfig');
  const full = 'CONFIG_BPF_SYSCALL=y\nCONFIG_VETH=y\nCONFIG_PHYSICAL_START=1\nCONFIG_DEFAULT_TCP_CONG="bbr"\nCONFIG_DEFAULT_HOSTNAME="x"\n';
  assert.throws(() => fillKconfig(spec, Buffer.alloc(38), ctx(`${full}CONFIG_HZ=0x1ffffffff\n`)), /CONFIG_HZ.*does not fit in 4 bytes/);
  assert.throws(() => fillKconfig(spec, Buffer.alloc(38), ctx(`${full.replace('CONFIG_BPF_SYSCALL=y', 'CONFIG_BPF_SYSCALL=m')}CONFIG_HZ=1\n`)), /CONFIG_BPF_SYSCALL.*'m'.*not bool/);
  assert.throws(() => fillKconfig(spec, Buffer.alloc(38), { ...ctx(''), kernelConfig: () => undefined }),
    (e: Error) => e instanceof UsageError && e.code === 'NOT_SUPPORTED' && /failed to open system Kconfig/.test(e.message));
});

test('kernel version as libbpf reads it: Ubuntu signature, Debian uname -v, else uname -r', () => {
  assert.is(kernelVersionFrom({ release: '6.1.0-57-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.123-1 (2025-01-02)' }), kernelVersionCode(6, 1, 123));
  assert.is(kernelVersionFrom({ release: '5.15.0-91-generic', version: '#101-Ubuntu SMP', signature: 'Ubuntu 5.15.0-91.101-generic 5.15.131\n' }), kernelVersionCode(5, 15, 131));
  assert.is(kernelVersionFrom({ release: '6.18.44-fc-v1045', version: '#1 SMP PREEMPT_DYNAMIC @0' }), kernelVersionCode(6, 18, 44));
  assert.is(kernelVersionCode(4, 19, 300), (4 << 16) + (19 << 8) + 255, 'sublevel capped at 255');
  assert.equal([parseCInteger('0x10'), parseCInteger('010'), parseCInteger('42'), parseCInteger('0'), parseCInteger('4x'), parseCInteger('-1')], [16n, 8n, 42n, 0n, undefined, 0xffffffffffffffffn]);
});

test('.ksyms externs: typed, untyped, weak; the BTF gets int VARs at 4-byte slots', () => {
  const spec = open('ksyms');
  const e = (n: string) => spec.externs.get(n)!;
  assert.equal([e('runqueues').kind, e('runqueues').ksym!.func, e('runqueues').ksym!.typeId !== 0, e('runqueues').weak], ['ksym', false, true, false]);
  assert.is(e('bpf_prog_active').ksym!.typeId, 0, 'extern const void: untyped');
  assert.ok(e('sockaccel_no_such_symbol').weak);
  assert.equal([...spec.externs.keys()], [...spec.externs.keys()].sort(), 'ksyms by name');
  const sec = spec.btf!.find('.ksyms', BtfKind.DATASEC);
  assert.ok(sec && sec.kind === BtfKind.DATASEC);
  assert.is(sec.size, sec.vars.length * 4);
  sec.vars.forEach((v, i) => {
    const t = spec.btf!.type(v.type);
    assert.ok(t.kind === BtfKind.VAR && t.linkage === BtfLinkage.GLOBAL);
    assert.is(v.offset, i * 4);
  });
  const kinds = spec.programs.get('on_sys_enter')!.relocations.filter((r) => r.kind === 'ksym').map((r) => r.kind === 'ksym' && r.extern);
  assert.ok(kinds.includes('runqueues') && kinds.includes('bpf_prog_active'));
});

test('kfuncs: FUNC externs in .ksyms become dummy_ksym VARs; calls are kfunc relocations', () => {
  const spec = open('kfunc');
  const k = spec.externs.get('bpf_task_from_pid')!;
  assert.ok(k.ksym!.func && !k.weak);
  assert.ok(spec.externs.get('bpf_sockaccel_no_such_kfunc')!.weak);
  const sec = spec.btf!.find('.ksyms', BtfKind.DATASEC)!;
  const dummy = spec.btf!.findByName('dummy_ksym', BtfKind.VAR)[0];
  assert.ok(dummy, 'dummy_ksym added');
  assert.ok(sec.kind === BtfKind.DATASEC && sec.vars.every((v) => v.type === dummy!.id));
  const f = spec.btf!.findByName('bpf_task_from_pid', BtfKind.FUNC)[0]!;
  assert.ok(f.kind === BtfKind.FUNC && f.linkage === BtfLinkage.GLOBAL, 'extern FUNC made global for the kernel');
  const calls = spec.programs.get('kfunc_calls')!.relocations.filter((r) => r.kind === 'kfunc').map((r) => r.kind === 'kfunc' && r.extern);
  assert.ok(calls.includes('bpf_task_from_pid') && calls.includes('bpf_task_release') && calls.includes('bpf_sockaccel_no_such_kfunc'));
});

test('extern relocations: BTF_ID ld_imm64, kallsyms address, kfunc call, and libbpf\'s poisons', () => {
  const ld = () => { const b = Buffer.alloc(16); b[0] = 0x18; b[1] = 0x01; return b; };
  const a = ld();
  applyExternRelocations('f', 'p', a, [{ kind: 'ksym', insn: 0, extern: 'x', symbol: 'x' }], () => ({ btfId: 1234, btfObjFd: 7, fdIndex: 0 }), () => 0);
  assert.equal([a[1]! >> 4, a[1]! & 0xf, a.readInt32LE(4), a.readInt32LE(12)], [Pseudo.BTF_ID, 1, 1234, 7]);
  const b = ld();
  applyExternRelocations('f', 'p', b, [{ kind: 'ksym', insn: 0, extern: 'x', symbol: 'x' }], () => ({ addr: 0xffffffff81000010n }), () => 0);
  assert.equal([b[1]! >> 4, b.readUInt32LE(4), b.readUInt32LE(12)], [0, 0x81000010, 0xffffffff]);
  const call = Buffer.from([0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  applyExternRelocations('f', 'p', call, [{ kind: 'kfunc', insn: 0, extern: 'k', symbol: 'k' }], () => ({ btfId: 99, btfObjFd: 5, fdIndex: 2 }), () => 0);
  assert.equal([call[1]! >> 4, call.readInt16LE(2), call.readInt32LE(4)], [Pseudo.KFUNC_CALL, 2, 99]);
  const weak = Buffer.from([0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  applyExternRelocations('f', 'p', weak, [{ kind: 'kfunc', insn: 0, extern: 'k', symbol: 'k' }], () => undefined, () => 4);
  assert.equal([weak[1], weak.readInt32LE(4)], [0, POISON_KFUNC_BASE + 4]);
  const map = ld();
  applyMapRelocations('f', 'p', map, [{ kind: 'map', insn: 0, map: 'm', symbol: 'm' }], () => ({ poisonIndex: 3 }));
  assert.equal([map[0], map.readInt32LE(4), map[8], map.readInt32LE(12)], [0x85, POISON_MAP_BASE + 3, 0x85, POISON_MAP_BASE + 3]);
});

test('kallsyms: names as libbpf matches them (.llvm. suffixes of data symbols dropped, modules)', () => {
  const text = 'ffffffff81000000 T _text\nffffffff82000000 d counter.llvm.123456\nffffffffc0000000 t veth_xmit\t[veth]\nffffffff83000000 D counter2\nffffffff84000000 D dup\nffffffff84000010 D dup\n';
  const got = kallsymsAddresses(new Set(['_text', 'counter', 'veth_xmit', 'dup', 'absent']), text);
  assert.equal(got.get('_text'), [0xffffffff81000000n]);
  assert.equal(got.get('counter'), [0xffffffff82000000n]);
  assert.equal(got.get('veth_xmit'), [0xffffffffc0000000n]);
  assert.is(got.get('dup')!.length, 2, 'ambiguous: both kept, the resolver refuses');
  assert.is(got.get('absent'), undefined);
});

test('static map-in-map and PROG_ARRAY initialisers: slots by name', () => {
  const mim = open('map_in_map');
  assert.equal([...mim.maps.get('outer_arr')!.initSlots!], [[0, 'inner_a'], [2, 'inner_b']]);
  assert.equal([...mim.maps.get('outer_hash')!.initSlots!], [[1, 'inner_b'], [5, 'inner_a']]);
  assert.is(mim.maps.get('outer_empty')!.initSlots, undefined);
  const pa = open('prog_array');
  const jt = pa.maps.get('jmp_table')!;
  assert.equal([jt.type, jt.keySize, jt.valueSize, jt.maxEntries, jt.innerMap], [MapType.PROG_ARRAY, 4, 4, 4, undefined]);
  assert.equal([...jt.initSlots!], [[1, 'tail_x'], [3, 'tail_y']]);
});

test('struct_ops: a STRUCT_OPS map per variable, its programs by member, BPF_F_LINK for .struct_ops.link', () => {
  const spec = open('struct_ops');
  const m = spec.maps.get('corpus_cc')!;
  assert.equal([m.kind, m.type, m.keySize, m.maxEntries, m.flags, m.autocreate], ['struct_ops', MapType.STRUCT_OPS, 4, 1, MapFlag.LINK, true]);
  assert.is(m.structOps!.typeName, 'tcp_congestion_ops');
  assert.equal([...m.structOps!.programs], [['ssthresh', 'cc_ssthresh'], ['cong_avoid', 'cc_cong_avoid'], ['undo_cwnd', 'cc_undo_cwnd']]);
  assert.is(m.structOps!.data.toString('latin1', 24, 33), 'corpus_cc', 'name member as compiled');
});

test('legacy maps: iproute2 pinning read; unknown non-zero trailing bytes refused (cilium/ebpf)', () => {
  const spec = open('legacy_elf_map');
  assert.equal(['tc_global', 'tc_object', 'tc_private'].map((n) => spec.maps.get(n)!.pinning), ['globalNs', 'objectNs', 'none']);
  assert.throws(() => open('legacy_trailing'), (e: Error) => e instanceof ObjectError && /legacy map odd_map: its 40-byte record has non-zero bytes at offset 36/.test(e.message));
  // iproute2's map-in-map wiring (inner_id) is refused, not ignored.
  const buf = Buffer.from(readFileSync(corpus('legacy_elf_map')));
  const elf = parseObject(buf, 'x.bpf.o');
  assert.ok(elf);
  const maps = buf.indexOf(Buffer.from([1, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 128, 0, 0, 0])); // tc_global: HASH 4 8 128
  assert.ok(maps > 0);
  buf.writeUInt32LE(3, maps + 28); // inner_id
  assert.throws(() => parseObject(buf, 'x.bpf.o'), /map-in-map fields are set.*inner_id 3/);
});

test('global data: libbpf\'s internal names, BPF_F_MMAPABLE only with a non-static variable', () => {
  assert.equal([kernelName('tool_execsnoop', '.rodata'), kernelName('tool_execsnoop', '.bss'), kernelName('tool_execsnoop', '.kconfig'), kernelName('globals', '.data.foo'), kernelName('x', '.rodata.str1.1')],
    ['tool_exe.rodata', 'tool_exe.bss', 'tool_ex.kconfig', '.data.foo', '.rodata.str1.1']);
  assert.equal([objectName('/a/tool_execsnoop.bpf.o'), objectName('a.b.c.o'), objectName('averyveryverylongname.o')], ['tool_execsnoop', 'a', 'averyveryverylo']);
  const g = open('globals');
  const flags = (n: string) => g.maps.get(n)!.flags;
  assert.equal([flags('.data'), flags('.rodata'), flags('.data.statics'), flags('.bss.baz')], [MapFlag.MMAPABLE, MapFlag.RDONLY_PROG | MapFlag.MMAPABLE, 0, MapFlag.MMAPABLE]);
  assert.is(open('rodata_static').maps.get('.rodata')!.flags, MapFlag.RDONLY_PROG, 'only static strings: not mmapable');
  assert.is(open('tool_runqlat').maps.get('.bss')!.flags, 0);
});

test('sizes libbpf fills in: ring buffers to power-of-two pages, PERF_EVENT_ARRAY 0 to the possible CPUs', () => {
  assert.equal([ringbufSize(10000, 4096), ringbufSize(5000, 4096), ringbufSize(16384, 4096), ringbufSize(0, 4096), ringbufSize(12288, 4096)], [16384, 8192, 16384, 0, 16384]);
  const spec = open('perf_event_array');
  const cpus = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',').reduce((n, r) => { const [a, b] = r.split('-').map(Number); return n + (b === undefined ? 1 : b - a! + 1); }, 0);
  assert.is(effectiveMaxEntries(spec.maps.get('events_auto')!), cpus);
  assert.is(effectiveMaxEntries(spec.maps.get('events_sized')!), 8);
});

test('autoload and a subset: SEC("?...") is off; LoadOptions.programs must name programs (checked before the kernel)', () => {
  const obj = BpfObject.open(corpus('autoload'));
  assert.equal([obj.programs.get('always_on')!.autoload, obj.programs.get('maybe_bad')!.autoload], [true, false]);
  assert.is(obj.programs.get('maybe_bad')!.section, 'socket', 'the "?" is not part of the section name');
  assert.throws(() => obj.load({ programs: ['nope'] }), (e: Error) => e instanceof UsageError && /names nope, which is not a program/.test(e.message));
  // An unreferenced struct_ops program is refused before the kernel is asked anything.
  const so = BpfObject.open(corpus('struct_ops'));
  so.maps.get('corpus_cc')!.autocreate = false;
  assert.throws(() => so.load({ programs: ['cc_ssthresh'] }), /struct_ops program that no created struct_ops map uses/);
});

test('subprograms are appended depth first, as libbpf\'s reloc_code; an exception callback after them', () => {
  const call = Buffer.from([0x85, 0x10, 0, 0, 0, 0, 0, 0]);
  const exit = Buffer.from([0x95, 0, 0, 0, 0, 0, 0, 0]);
  const fn = (name: string, callees: string[]) => ({
    name, section: '.text', instructions: Buffer.concat([...callees.map(() => call), exit]),
    relocations: callees.map((target, insn) => ({ kind: 'call' as const, insn, target, symbol: target })), funcInfo: [], lineInfo: [], coreRelos: [],
  });
  const fns = new Map([['a', fn('a', ['b', 'c'])], ['b', fn('b', ['d'])], ['c', fn('c', [])], ['d', fn('d', [])], ['cb', fn('cb', ['c'])]]);
  const linked = linkFunctions('x.bpf.o', fns.get('a')!, (n) => fns.get(n), ['cb']);
  assert.equal([...linked.layout], [['a', 0], ['b', 3], ['d', 5], ['c', 6], ['cb', 7]]);
  // a's first call (insn 0) now reaches b at 3: imm = 3 - 0 - 1.
  assert.is(linked.insns.readInt32LE(4), 2);
});

test('split BTF (a module\'s): ids and string offsets continue the base\'s, own types found by name', () => {
  const base = new BtfBuilder();
  const int = base.type('int', BtfKind.INT, 0, false, 4, (1 << 24) | 32);
  base.type('task_struct', BtfKind.STRUCT, 0, false, 0);
  const baseBtf = LazyBtf.parse(base.build(), 'base', 'BTF');
  assert.is(baseBtf.count, 3);
  // Split: FUNC_PROTO int(int) and FUNC veth_xmit; its strings start after the base's ("\0int\0task_struct\0" = 17 bytes).
  const baseStrLen = baseBtf.strings.length;
  const strs = Buffer.from('veth_xmit\0x\0');
  const words = [
    0, (BtfKind.FUNC_PROTO << 24) | 1, int, baseStrLen + 10, int, // [3] int (int x)
    baseStrLen, (BtfKind.FUNC << 24) | 1, 3, // [4] FUNC veth_xmit global
    1, (BtfKind.STRUCT << 24), 0, // [5] a second "int"-named type, named by a base string
  ];
  const types = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => types.writeUInt32LE(w >>> 0, i * 4));
  const h = Buffer.alloc(24);
  h.writeUInt16LE(0xeb9f, 0); h[2] = 1; h.writeUInt32LE(24, 4); h.writeUInt32LE(0, 8); h.writeUInt32LE(types.length, 12); h.writeUInt32LE(types.length, 16); h.writeUInt32LE(strs.length, 20);
  const split = LazyBtf.parseSplit(Buffer.concat([h, types, strs]), baseBtf, 'veth');
  assert.equal([split.startId, split.count], [3, 6]);
  const fn = split.idsByEssentialName('veth_xmit');
  assert.equal(fn, [4]);
  const t = split.type(4);
  assert.ok(t.kind === BtfKind.FUNC && t.name === 'veth_xmit' && t.type === 3);
  const proto = split.type(3);
  assert.ok(proto.kind === BtfKind.FUNC_PROTO && proto.params[0]!.name === 'x' && proto.returnType === int);
  assert.is(split.type(int).name, 'int', 'base types through the split BTF');
  assert.equal(split.idsByEssentialName('int'), [5], 'own types only, also when named by a base string');
});

test.run();
