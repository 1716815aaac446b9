// Numbers the attach kinds beyond bpf() need (include/uapi/linux/{perf_event,bpf,if_link,socket}.h):
// perf-event ioctls, the bpf_link flags of kprobe/uprobe multi links, XDP attach flags, socket
// options for socket filters, and union bpf_iter_link_info. Pure data.
import { field as f, layout } from './layout.js';

/** perf_event ioctls: _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32). */
export const PerfIoctl = { ENABLE: 0x2400, DISABLE: 0x2401, SET_BPF: 0x40042408 } as const;

/** enum bpf_perf_event_type: what a perf-event link holds (bpf_link_info.perf_event.type, 6.6+). */
export const PerfEventLinkType = { UNSPEC: 0, UPROBE: 1, URETPROBE: 2, KPROBE: 3, KRETPROBE: 4, TRACEPOINT: 5, EVENT: 6 } as const;

/** BPF_F_KPROBE_MULTI_RETURN / BPF_F_UPROBE_MULTI_RETURN (link_create.kprobe_multi.flags / uprobe_multi.flags). */
export const MultiProbeFlag = { RETURN: 1 } as const;

/** XDP_FLAGS_* (link_create.flags for XDP links, IFLA_XDP_FLAGS over netlink). */
export const XdpFlag = { UPDATE_IF_NOEXIST: 1, SKB_MODE: 2, DRV_MODE: 4, HW_MODE: 8, REPLACE: 16 } as const;

/** IFLA_XDP_ATTACHED values: how the program on an interface is attached. */
export const XdpAttached = { NONE: 0, DRV: 1, SKB: 2, HW: 3, MULTI: 4 } as const;

/** Address families and socket types (sys/socket.h). */
export const AddressFamily = { UNSPEC: 0, UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17 } as const;
export const SocketType = { STREAM: 1, DGRAM: 2, RAW: 3, SEQPACKET: 5, CLOEXEC: 0o2000000, NONBLOCK: 0o4000 } as const;

/** setsockopt levels and the SOL_SOCKET options used here (asm-generic/socket.h). */
export const SocketLevel = { SOCKET: 1, NETLINK: 270 } as const;
export const SocketOption = { TYPE: 3, ATTACH_FILTER: 26, DETACH_FILTER: 27, RCVTIMEO: 20, ATTACH_BPF: 50, DETACH_BPF: 27, DOMAIN: 39 } as const;

/** setns(2) namespace type for network namespaces. */
export const CLONE_NEWNET = 0x40000000;

/** union bpf_iter_link_info: what an iterator link iterates (a map's elements, a cgroup's tree, one task). */
export const ITER_LINK_INFO = layout('union bpf_iter_link_info', { struct: 'bpf_iter_link_info' }, [
  f('map.map_fd', 0, 'fd'),
  f('cgroup.order', 0, 'u32'),
  f('cgroup.cgroup_fd', 4, 'fd'),
  f('cgroup.cgroup_id', 8, 'u64'),
  f('task.tid', 0, 'u32'),
  f('task.pid', 4, 'u32'),
  f('task.pid_fd', 8, 'u32'),
]);

/** enum bpf_cgroup_iter_order. */
export const CgroupIterOrder = { UNSPEC: 0, SELF_ONLY: 1, DESCENDANTS_PRE: 2, DESCENDANTS_POST: 3, ANCESTORS_UP: 4 } as const;
