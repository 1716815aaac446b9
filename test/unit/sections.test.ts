// The section-name table is libbpf's (section_defs of libbpf 1.5, + uprobe.session of 1.6), with its
// matching rules: "name+" is the name alone or "name/…", "name/" needs the slash, others are exact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectError } from '../../src/errors.js';
import { lookupSection, programKindOf, SecFlag, SECTION_DEFS, similarSectionNames, splitAutoload } from '../../src/object/sections.js';
import { AttachType as A, ProgFlag, ProgType as P } from '../../src/uapi/enums.js';

const S = ProgFlag.SLEEPABLE;
const F = ProgFlag.XDP_HAS_FRAGS;
// [section, type, expected attach type, attachTo, prog_flags]
const cases: [string, number, number, string, number][] = [
  ['socket', P.SOCKET_FILTER, 0, '', 0],
  ['sockops', P.SOCK_OPS, A.CGROUP_SOCK_OPS, '', 0],
  ['sk_msg', P.SK_MSG, A.SK_MSG_VERDICT, '', 0],
  ['sk_skb/stream_parser', P.SK_SKB, A.SK_SKB_STREAM_PARSER, '', 0],
  ['sk_skb/stream_verdict', P.SK_SKB, A.SK_SKB_STREAM_VERDICT, '', 0],
  ['sk_skb/verdict', P.SK_SKB, A.SK_SKB_VERDICT, '', 0],
  ['sk_skb', P.SK_SKB, 0, '', 0],
  ['sk_lookup', P.SK_LOOKUP, A.SK_LOOKUP, '', 0],
  ['sk_reuseport/migrate', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, '', 0],
  ['cgroup_skb/ingress', P.CGROUP_SKB, A.CGROUP_INET_INGRESS, '', 0],
  ['cgroup/skb', P.CGROUP_SKB, 0, '', 0],
  ['cgroup/sock', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, '', 0],
  ['cgroup/connect_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, '', 0],
  ['cgroup/getsockopt', P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, '', 0],
  ['xdp', P.XDP, A.XDP, '', 0],
  ['xdp.frags', P.XDP, A.XDP, '', F],
  ['xdp.frags/devmap', P.XDP, A.XDP_DEVMAP, '', F],
  ['xdp/cpumap', P.XDP, A.XDP_CPUMAP, '', 0],
  ['tc', P.SCHED_CLS, 0, '', 0],
  ['tc/ingress', P.SCHED_CLS, A.TCX_INGRESS, '', 0],
  ['tcx/egress', P.SCHED_CLS, A.TCX_EGRESS, '', 0],
  ['netkit/peer', P.SCHED_CLS, A.NETKIT_PEER, '', 0],
  ['classifier', P.SCHED_CLS, 0, '', 0],
  ['action', P.SCHED_ACT, 0, '', 0],
  ['netfilter', P.NETFILTER, A.NETFILTER, '', 0],
  ['kprobe', P.KPROBE, 0, '', 0],
  ['kprobe/tcp_sendmsg', P.KPROBE, 0, 'tcp_sendmsg', 0],
  ['kretprobe/tcp_sendmsg', P.KPROBE, 0, 'tcp_sendmsg', 0],
  ['ksyscall/nanosleep', P.KPROBE, 0, 'nanosleep', 0],
  ['kretsyscall/nanosleep', P.KPROBE, 0, 'nanosleep', 0],
  ['kprobe.multi/do_*', P.KPROBE, A.TRACE_KPROBE_MULTI, 'do_*', 0],
  ['kprobe.session/f', P.KPROBE, A.TRACE_KPROBE_SESSION, 'f', 0],
  ['uprobe//bin/true:main', P.KPROBE, 0, '/bin/true:main', 0],
  ['uprobe.s', P.KPROBE, 0, '', S],
  ['uprobe.multi', P.KPROBE, A.TRACE_UPROBE_MULTI, '', 0],
  ['uprobe.multi.s/x:y', P.KPROBE, A.TRACE_UPROBE_MULTI, 'x:y', S],
  ['uprobe.session', P.KPROBE, A.TRACE_UPROBE_SESSION, '', 0],
  ['usdt/libc.so.6:libc:setjmp', P.KPROBE, 0, 'libc.so.6:libc:setjmp', 0],
  ['usdt.s', P.KPROBE, 0, '', S],
  ['tracepoint/syscalls/sys_enter_open', P.TRACEPOINT, 0, 'syscalls/sys_enter_open', 0],
  ['tp/sched/sched_switch', P.TRACEPOINT, 0, 'sched/sched_switch', 0],
  ['raw_tp/sys_enter', P.RAW_TRACEPOINT, 0, 'sys_enter', 0],
  ['raw_tracepoint.w/sys_exit', P.RAW_TRACEPOINT_WRITABLE, 0, 'sys_exit', 0],
  ['tp_btf/sched_switch', P.TRACING, A.TRACE_RAW_TP, 'sched_switch', 0],
  ['fentry/tcp_connect', P.TRACING, A.TRACE_FENTRY, 'tcp_connect', 0],
  ['fentry.s/bpf_modify_return_test', P.TRACING, A.TRACE_FENTRY, 'bpf_modify_return_test', S],
  ['fexit/mod:fn', P.TRACING, A.TRACE_FEXIT, 'mod:fn', 0],
  ['fmod_ret/f', P.TRACING, A.MODIFY_RETURN, 'f', 0],
  ['freplace/check_len', P.EXT, 0, 'check_len', 0],
  ['lsm/file_open', P.LSM, A.LSM_MAC, 'file_open', 0],
  ['lsm.s/bprm_committed_creds', P.LSM, A.LSM_MAC, 'bprm_committed_creds', S],
  ['lsm_cgroup/socket_bind', P.LSM, A.LSM_CGROUP, 'socket_bind', 0],
  ['iter/task', P.TRACING, A.TRACE_ITER, 'task', 0],
  ['iter.s/task', P.TRACING, A.TRACE_ITER, 'task', S],
  ['syscall', P.SYSCALL, 0, '', S],
  ['struct_ops/cc_ssthresh', P.STRUCT_OPS, 0, 'cc_ssthresh', 0],
  ['struct_ops.s/x', P.STRUCT_OPS, 0, 'x', S],
  ['perf_event', P.PERF_EVENT, 0, '', 0],
  ['lwt_seg6local', P.LWT_SEG6LOCAL, 0, '', 0],
  ['lirc_mode2', P.LIRC_MODE2, A.LIRC_MODE2, '', 0],
  ['flow_dissector', P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, '', 0],
];

for (const [name, type, attach, attachTo, flags] of cases) {
  test(`section ${name}`, () => {
    const k = lookupSection(name);
    assert.ok(k, `${name} is known`);
    assert.equal([k!.type, k!.expectedAttachType, k!.attachTo, k!.progFlags], [type, attach, attachTo, flags]);
  });
}

test('libbpf matching: exact names take no suffix, "name+" needs a slash, order decides', () => {
  for (const n of ['socketx', 'socket/foo', 'kprobex/foo', 'sk_msg/extra', 'tc/classifier', 'xdp/foo', 'sk_skb/foo', 'classifier/x', 'syscall/x', 'kprobe.multix']) {
    assert.is(lookupSection(n), undefined, n);
  }
  // "kprobe+" does not swallow "kprobe.multi/…": the character after the name must be '/' or the end.
  assert.is(lookupSection('kprobe.multi/f')!.expectedAttachType, A.TRACE_KPROBE_MULTI);
  assert.is(lookupSection('fentry.s/f')!.progFlags, S);
  assert.ok(lookupSection('tp_btf')!.secFlags & SecFlag.ATTACH_BTF, 'attach target may be given later');
  assert.ok(lookupSection('usdt')!.secFlags & SecFlag.USDT);
  assert.is(lookupSection('xdp.frags/cpumap')!.progFlags, F);
  assert.ok(SECTION_DEFS.length >= 100, 'the whole table');
});

test('SEC("?name"): autoload off, the rest matched as usual', () => {
  assert.equal(splitAutoload('?socket'), { name: 'socket', autoload: false });
  assert.equal(splitAutoload('raw_tp/x'), { name: 'raw_tp/x', autoload: true });
  assert.is(programKindOf('x.bpf.o', '?raw_tp/sys_enter').type, P.RAW_TRACEPOINT);
});

test('an unknown section is an ObjectError naming it, with the nearest names', () => {
  try {
    programKindOf('x.bpf.o', 'sk_skb1');
  } catch (err) {
    assert.instance(err, ObjectError);
    assert.is((err as ObjectError).section, 'sk_skb1');
    assert.match((err as Error).message, /section "sk_skb1" is not a program section name libbpf knows/);
    assert.match((err as Error).message, /missing BPF prog type, check ELF section name/);
    assert.match((err as Error).message, /did you mean "sk_skb"/);
    return;
  }
  assert.unreachable();
});

test('suggestions only when something is close', () => {
  assert.equal(similarSectionNames('fentri/foo'), ['fentry']);
  assert.equal(similarSectionNames('tracepoin/x')[0], 'tracepoint');
  assert.equal(similarSectionNames('sockaccel/unknown'), []);
});

test.run();
