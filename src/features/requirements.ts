// When each BPF feature arrived, and what kernel configuration it needs: the "needs kernel X /
// CONFIG_Y" half of a features answer. Releases are those that added the type or command to
// include/uapi/linux/bpf.h (and the code behind it); configs are the #ifdef guards around its entry
// in include/linux/bpf_types.h, or the Kconfig symbol its implementation is built under.

export interface Requirement {
  /** The first release that has it: "6.6". */
  kernel: string;
  /** The kernel configuration it is built under, when not plain CONFIG_BPF_SYSCALL. */
  config?: string;
}

export const MAP_TYPES: Record<string, Requirement> = {
  HASH: { kernel: '3.19' }, ARRAY: { kernel: '3.19' }, PROG_ARRAY: { kernel: '4.2' }, PERF_EVENT_ARRAY: { kernel: '4.3' },
  PERCPU_HASH: { kernel: '4.6' }, PERCPU_ARRAY: { kernel: '4.6' }, STACK_TRACE: { kernel: '4.6', config: 'CONFIG_PERF_EVENTS' },
  CGROUP_ARRAY: { kernel: '4.8', config: 'CONFIG_CGROUPS' }, LRU_HASH: { kernel: '4.10' }, LRU_PERCPU_HASH: { kernel: '4.10' },
  LPM_TRIE: { kernel: '4.11' }, ARRAY_OF_MAPS: { kernel: '4.12' }, HASH_OF_MAPS: { kernel: '4.12' },
  DEVMAP: { kernel: '4.14', config: 'CONFIG_NET' }, SOCKMAP: { kernel: '4.14', config: 'CONFIG_INET' }, CPUMAP: { kernel: '4.15', config: 'CONFIG_NET' },
  XSKMAP: { kernel: '4.18', config: 'CONFIG_XDP_SOCKETS' }, SOCKHASH: { kernel: '4.18', config: 'CONFIG_INET' },
  CGROUP_STORAGE: { kernel: '4.19', config: 'CONFIG_CGROUP_BPF' }, REUSEPORT_SOCKARRAY: { kernel: '4.19', config: 'CONFIG_INET' },
  PERCPU_CGROUP_STORAGE: { kernel: '4.20', config: 'CONFIG_CGROUP_BPF' }, QUEUE: { kernel: '4.20' }, STACK: { kernel: '4.20' },
  SK_STORAGE: { kernel: '5.2', config: 'CONFIG_NET' }, DEVMAP_HASH: { kernel: '5.4', config: 'CONFIG_NET' },
  STRUCT_OPS: { kernel: '5.6', config: 'CONFIG_BPF_JIT' }, RINGBUF: { kernel: '5.8' }, INODE_STORAGE: { kernel: '5.10', config: 'CONFIG_BPF_LSM' },
  TASK_STORAGE: { kernel: '5.11' }, BLOOM_FILTER: { kernel: '5.16' }, USER_RINGBUF: { kernel: '6.1' },
  CGRP_STORAGE: { kernel: '6.2', config: 'CONFIG_CGROUPS' }, ARENA: { kernel: '6.9', config: 'CONFIG_MMU' },
};

export const PROGRAM_TYPES: Record<string, Requirement> = {
  SOCKET_FILTER: { kernel: '3.19', config: 'CONFIG_NET' }, KPROBE: { kernel: '4.1', config: 'CONFIG_BPF_EVENTS' },
  SCHED_CLS: { kernel: '4.1', config: 'CONFIG_NET_CLS_BPF' }, SCHED_ACT: { kernel: '4.1', config: 'CONFIG_NET_ACT_BPF' },
  TRACEPOINT: { kernel: '4.7', config: 'CONFIG_BPF_EVENTS' }, XDP: { kernel: '4.8', config: 'CONFIG_NET' },
  PERF_EVENT: { kernel: '4.9', config: 'CONFIG_BPF_EVENTS' }, CGROUP_SKB: { kernel: '4.10', config: 'CONFIG_CGROUP_BPF' },
  CGROUP_SOCK: { kernel: '4.10', config: 'CONFIG_CGROUP_BPF' }, LWT_IN: { kernel: '4.10', config: 'CONFIG_NET' },
  LWT_OUT: { kernel: '4.10', config: 'CONFIG_NET' }, LWT_XMIT: { kernel: '4.10', config: 'CONFIG_NET' },
  SOCK_OPS: { kernel: '4.13', config: 'CONFIG_NET' }, SK_SKB: { kernel: '4.14', config: 'CONFIG_NET' },
  CGROUP_DEVICE: { kernel: '4.15', config: 'CONFIG_CGROUP_BPF' }, SK_MSG: { kernel: '4.17', config: 'CONFIG_NET' },
  RAW_TRACEPOINT: { kernel: '4.17', config: 'CONFIG_BPF_EVENTS' }, CGROUP_SOCK_ADDR: { kernel: '4.17', config: 'CONFIG_CGROUP_BPF' },
  LWT_SEG6LOCAL: { kernel: '4.18', config: 'CONFIG_IPV6_SEG6_BPF' }, LIRC_MODE2: { kernel: '4.18', config: 'CONFIG_BPF_LIRC_MODE2' },
  SK_REUSEPORT: { kernel: '4.19', config: 'CONFIG_INET' }, FLOW_DISSECTOR: { kernel: '4.20', config: 'CONFIG_NET' },
  CGROUP_SYSCTL: { kernel: '5.2', config: 'CONFIG_CGROUP_BPF' }, RAW_TRACEPOINT_WRITABLE: { kernel: '5.2', config: 'CONFIG_BPF_EVENTS' },
  CGROUP_SOCKOPT: { kernel: '5.3', config: 'CONFIG_CGROUP_BPF' }, TRACING: { kernel: '5.5', config: 'CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS' },
  STRUCT_OPS: { kernel: '5.6', config: 'CONFIG_BPF_JIT' }, EXT: { kernel: '5.6', config: 'CONFIG_BPF_JIT' },
  LSM: { kernel: '5.7', config: 'CONFIG_BPF_LSM' }, SK_LOOKUP: { kernel: '5.9', config: 'CONFIG_INET' },
  SYSCALL: { kernel: '5.14' }, NETFILTER: { kernel: '6.4', config: 'CONFIG_NETFILTER_BPF_LINK' },
};

/** Helpers most programs ask about (the rest answer without a release: the verifier's word only). */
export const HELPERS: Record<string, Requirement> = {
  map_lookup_elem: { kernel: '3.19' }, map_update_elem: { kernel: '3.19' }, map_delete_elem: { kernel: '3.19' },
  ktime_get_ns: { kernel: '4.1' }, trace_printk: { kernel: '4.1' }, get_prandom_u32: { kernel: '4.1' },
  tail_call: { kernel: '4.2' }, get_current_pid_tgid: { kernel: '4.2' }, get_current_comm: { kernel: '4.2' },
  perf_event_output: { kernel: '4.4' }, get_stackid: { kernel: '4.6' }, probe_read: { kernel: '4.1' },
  redirect: { kernel: '4.4' }, get_socket_cookie: { kernel: '4.12' }, redirect_map: { kernel: '4.14' },
  sock_map_update: { kernel: '4.14' }, sock_hash_update: { kernel: '4.18' }, msg_redirect_hash: { kernel: '4.18' },
  msg_redirect_map: { kernel: '4.17' }, sk_redirect_hash: { kernel: '4.18' }, get_current_cgroup_id: { kernel: '4.18' },
  sk_storage_get: { kernel: '5.2' }, probe_read_kernel: { kernel: '5.5' }, probe_read_user: { kernel: '5.5' },
  get_netns_cookie: { kernel: '5.7' }, ringbuf_output: { kernel: '5.8' }, ringbuf_reserve: { kernel: '5.8' },
  ringbuf_submit: { kernel: '5.8' }, ktime_get_boot_ns: { kernel: '5.8' }, get_current_task_btf: { kernel: '5.11' },
  for_each_map_elem: { kernel: '5.13' }, snprintf: { kernel: '5.13' }, timer_init: { kernel: '5.15' },
  get_attach_cookie: { kernel: '5.15' }, get_func_ip: { kernel: '5.15' }, loop: { kernel: '5.17' },
  ktime_get_tai_ns: { kernel: '6.1' }, user_ringbuf_drain: { kernel: '6.1' }, cgrp_storage_get: { kernel: '6.2' },
};

/** Features by name: attach and link kinds, and the map types and helpers users ask about by name. */
export const NAMED: Record<string, Requirement & { what: string }> = {
  kprobe: { kernel: '4.1', config: 'CONFIG_KPROBE_EVENTS', what: 'kprobes/kretprobes (perf_event kprobe PMU)' },
  uprobe: { kernel: '4.17', config: 'CONFIG_UPROBE_EVENTS', what: 'uprobes/uretprobes (perf_event uprobe PMU)' },
  tracepoint: { kernel: '4.7', config: 'CONFIG_TRACEPOINTS', what: 'tracepoints (perf_event_open on a tracefs event)' },
  raw_tracepoint: { kernel: '4.17', config: 'CONFIG_BPF_EVENTS', what: 'raw tracepoints (BPF_RAW_TRACEPOINT_OPEN)' },
  perf_link: { kernel: '5.15', config: 'CONFIG_PERF_EVENTS', what: 'bpf_link on a perf event (BPF_PERF_EVENT)' },
  kprobe_multi: { kernel: '5.18', config: 'CONFIG_FPROBE', what: 'kprobe.multi links (BPF_TRACE_KPROBE_MULTI)' },
  uprobe_multi: { kernel: '6.6', config: 'CONFIG_UPROBES', what: 'uprobe.multi links with PID filtering (BPF_TRACE_UPROBE_MULTI)' },
  tracing: { kernel: '5.5', config: 'CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS', what: 'fentry/fexit programs and tracing links (BPF trampolines)' },
  iter: { kernel: '5.8', what: 'BPF iterators (iter/task)' },
  cgroup_link: { kernel: '5.7', config: 'CONFIG_CGROUP_BPF', what: 'bpf_link on a cgroup' },
  sockmap_link: { kernel: '6.10', config: 'CONFIG_INET', what: 'bpf_link for sk_msg/sk_skb on a SOCKMAP/SOCKHASH' },
  netns_link: { kernel: '5.8', config: 'CONFIG_NET', what: 'bpf_link on a network namespace (flow_dissector, sk_lookup)' },
  xdp_link: { kernel: '5.9', config: 'CONFIG_NET', what: 'bpf_link for XDP on an interface' },
  tcx: { kernel: '6.6', config: 'CONFIG_NET_XGRESS', what: 'tcx links (tc ingress/egress without qdiscs)' },
  netkit: { kernel: '6.7', config: 'CONFIG_NETKIT', what: 'netkit device links' },
  netfilter_link: { kernel: '6.4', config: 'CONFIG_NETFILTER_BPF_LINK', what: 'netfilter hooks as bpf_link' },
  bpf_cookie: { kernel: '5.15', what: 'bpf_get_attach_cookie (a cookie per attachment)' },
  ringbuf: { kernel: '5.8', what: 'BPF ring buffers (BPF_MAP_TYPE_RINGBUF)' },
  arena: { kernel: '6.9', config: 'CONFIG_MMU', what: 'BPF arenas (BPF_MAP_TYPE_ARENA)' },
};
