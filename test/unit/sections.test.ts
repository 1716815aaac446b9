// The section-name table: program types, expected attach types, attachTo, unknown names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectError } from '../../src/errors.js';
import { lookupSection, programKindOf } from '../../src/object/sections.js';
import { AttachType, ProgType } from '../../src/uapi/enums.js';

const cases: [string, number, number, string][] = [
  ['socket', ProgType.SOCKET_FILTER, 0, ''],
  ['sockops', ProgType.SOCK_OPS, AttachType.CGROUP_SOCK_OPS, ''],
  ['sk_msg', ProgType.SK_MSG, AttachType.SK_MSG_VERDICT, ''],
  ['sk_skb/stream_parser', ProgType.SK_SKB, AttachType.SK_SKB_STREAM_PARSER, ''],
  ['sk_skb/stream_verdict', ProgType.SK_SKB, AttachType.SK_SKB_STREAM_VERDICT, ''],
  ['sk_skb', ProgType.SK_SKB, 0, ''],
  ['sk_lookup', ProgType.SK_LOOKUP, AttachType.SK_LOOKUP, ''],
  ['cgroup_skb/ingress', ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, ''],
  ['cgroup_skb/egress', ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, ''],
  ['cgroup/skb', ProgType.CGROUP_SKB, 0, ''],
  ['cgroup/sock_create', ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, ''],
  ['cgroup/sock', ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, ''],
  ['cgroup/connect4', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT, ''],
  ['cgroup/connect6', ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT, ''],
  ['cgroup/getsockopt', ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_GETSOCKOPT, ''],
  ['cgroup/setsockopt', ProgType.CGROUP_SOCKOPT, AttachType.CGROUP_SETSOCKOPT, ''],
  ['xdp', ProgType.XDP, AttachType.XDP, ''],
  ['tc', ProgType.SCHED_CLS, 0, ''],
  ['tc/classifier', ProgType.SCHED_CLS, 0, 'classifier'],
  ['classifier', ProgType.SCHED_CLS, 0, ''],
  ['kprobe/tcp_sendmsg', ProgType.KPROBE, 0, 'tcp_sendmsg'],
  ['kretprobe/tcp_sendmsg', ProgType.KPROBE, 0, 'tcp_sendmsg'],
  ['uprobe/bin:func', ProgType.KPROBE, 0, 'bin:func'],
  ['tracepoint/syscalls/sys_enter_open', ProgType.TRACEPOINT, 0, 'syscalls/sys_enter_open'],
  ['tp/sched/sched_switch', ProgType.TRACEPOINT, 0, 'sched/sched_switch'],
  ['raw_tp/sys_enter', ProgType.RAW_TRACEPOINT, 0, 'sys_enter'],
  ['raw_tracepoint/sys_enter', ProgType.RAW_TRACEPOINT, 0, 'sys_enter'],
  ['fentry/tcp_connect', ProgType.TRACING, AttachType.TRACE_FENTRY, 'tcp_connect'],
  ['fexit/tcp_connect', ProgType.TRACING, AttachType.TRACE_FEXIT, 'tcp_connect'],
  ['tp_btf/sched_switch', ProgType.TRACING, AttachType.TRACE_RAW_TP, 'sched_switch'],
];

for (const [name, type, attach, attachTo] of cases) {
  test(`section ${name}`, () => {
    assert.equal(lookupSection(name), { type, expectedAttachType: attach, attachTo });
  });
}

test('prefixes only match at a slash; exact names take no suffix', () => {
  assert.is(lookupSection('socketx'), undefined);
  assert.is(lookupSection('socket/foo'), undefined);
  assert.is(lookupSection('kprobex/foo'), undefined);
  assert.is(lookupSection('sk_msg/extra'), undefined);
});

test('an unknown section is an ObjectError naming it and listing the known prefixes', () => {
  try {
    programKindOf('x.bpf.o', 'mystery/thing');
  } catch (err) {
    assert.instance(err, ObjectError);
    assert.is((err as ObjectError).section, 'mystery/thing');
    assert.match((err as Error).message, /unknown program section name "mystery\/thing"/);
    assert.match((err as Error).message, /sockops/);
    assert.match((err as Error).message, /kprobe\[\/\.\.\.\]/);
    return;
  }
  assert.unreachable();
});

test.run();
