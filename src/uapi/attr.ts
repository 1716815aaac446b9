// union bpf_attr, one Layout per command (offsets from include/uapi/linux/bpf.h; checked against the
// running kernel's BTF by test/kernel/abi.test.ts). A new command is one entry here and one in ATTR_OF.
import { AttachFlag, AttachType, Cmd, MapFlag, MapType, ObjFlag, ProgFlag, ProgType, QueryFlag, UpdateFlag } from './enums.js';
import { field as f, layout, type Layout } from './layout.js';

export const MAP_CREATE = layout('BPF_MAP_CREATE attr', { attrAnonymousWith: 'map_type' }, [
  f('map_type', 0, 'u32', { enum: MapType, always: true }),
  f('key_size', 4, 'u32', { always: true }),
  f('value_size', 8, 'u32', { always: true }),
  f('max_entries', 12, 'u32', { always: true }),
  f('map_flags', 16, 'u32', { flags: MapFlag, always: true }),
  f('inner_map_fd', 20, 'fd'),
  f('numa_node', 24, 'u32'),
  f('map_name', 28, 'name', { always: true }),
  f('map_ifindex', 44, 'u32'),
  f('btf_fd', 48, 'fd'),
  f('btf_key_type_id', 52, 'u32'),
  f('btf_value_type_id', 56, 'u32'),
  f('btf_vmlinux_value_type_id', 60, 'u32'),
  f('map_extra', 64, 'u64'),
  f('value_type_btf_obj_fd', 72, 'fd'),
  f('map_token_fd', 76, 'fd'),
]);

/** MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM, MAP_DELETE_ELEM, MAP_LOOKUP_AND_DELETE_ELEM, MAP_FREEZE. */
export const MAP_ELEM = layout('BPF_MAP_*_ELEM attr', { attrAnonymousWith: 'key' }, [
  f('map_fd', 0, 'fd', { always: true }),
  f('key', 8, 'ptr'),
  f('value', 16, 'ptr'),
  f('flags', 24, 'u64', { flags: UpdateFlag }),
]);

/** MAP_GET_NEXT_KEY: the same struct, the union member at 16 named for what it holds. */
export const MAP_NEXT_KEY = layout('BPF_MAP_GET_NEXT_KEY attr', { attrAnonymousWith: 'next_key' }, [
  f('map_fd', 0, 'fd', { always: true }),
  f('key', 8, 'ptr', { always: true }),
  f('next_key', 16, 'ptr'),
]);

/** MAP_LOOKUP_BATCH, MAP_LOOKUP_AND_DELETE_BATCH, MAP_UPDATE_BATCH, MAP_DELETE_BATCH. */
export const MAP_BATCH = layout('BPF_MAP_*_BATCH attr', { attrMember: 'batch' }, [
  f('in_batch', 0, 'ptr'),
  f('out_batch', 8, 'ptr'),
  f('keys', 16, 'ptr'),
  f('values', 24, 'ptr'),
  f('count', 32, 'u32', { always: true }),
  f('map_fd', 36, 'fd', { always: true }),
  f('elem_flags', 40, 'u64', { flags: UpdateFlag }),
  f('flags', 48, 'u64'),
]);

export const PROG_LOAD = layout('BPF_PROG_LOAD attr', { attrAnonymousWith: 'prog_type' }, [
  f('prog_type', 0, 'u32', { enum: ProgType, always: true }),
  f('insn_cnt', 4, 'u32', { always: true }),
  f('insns', 8, 'ptr'),
  f('license', 16, 'str', { always: true }),
  f('log_level', 24, 'u32'),
  f('log_size', 28, 'u32'),
  f('log_buf', 32, 'ptr'),
  f('kern_version', 40, 'u32'),
  f('prog_flags', 44, 'u32', { flags: ProgFlag }),
  f('prog_name', 48, 'name', { always: true }),
  f('prog_ifindex', 64, 'u32'),
  f('expected_attach_type', 68, 'u32', { enum: AttachType, always: true }),
  f('prog_btf_fd', 72, 'fd'),
  f('func_info_rec_size', 76, 'u32'),
  f('func_info', 80, 'ptr'),
  f('func_info_cnt', 88, 'u32'),
  f('line_info_rec_size', 92, 'u32'),
  f('line_info', 96, 'ptr'),
  f('line_info_cnt', 104, 'u32'),
  f('attach_btf_id', 108, 'u32'),
  /** A union: the target program (freplace) or the module BTF the attach_btf_id is in. */
  f('attach_prog_fd', 112, 'fd'),
  f('attach_btf_obj_fd', 112, 'fd'),
  f('core_relo_cnt', 116, 'u32'),
  f('fd_array', 120, 'ptr'),
  f('core_relos', 128, 'ptr'),
  f('core_relo_rec_size', 136, 'u32'),
  f('log_true_size', 140, 'u32', { out: true, since: '6.4' }),
  f('prog_token_fd', 144, 'fd'),
  f('fd_array_cnt', 148, 'u32', { since: '6.14' }),
]);

/** OBJ_PIN and OBJ_GET. */
export const OBJ = layout('BPF_OBJ_PIN/BPF_OBJ_GET attr', { attrAnonymousWith: 'pathname' }, [
  f('pathname', 0, 'str', { always: true }),
  f('bpf_fd', 8, 'fd'),
  f('file_flags', 12, 'u32', { flags: ObjFlag }),
  f('path_fd', 16, 's32'),
]);

/** PROG_ATTACH and PROG_DETACH. */
export const PROG_ATTACH = layout('BPF_PROG_ATTACH/BPF_PROG_DETACH attr', { attrAnonymousWith: 'attach_bpf_fd' }, [
  f('target_fd', 0, 'fd', { always: true }),
  f('target_ifindex', 0, 'u32', { since: '6.6' }),
  f('attach_bpf_fd', 4, 'fd', { always: true }),
  f('attach_type', 8, 'u32', { enum: AttachType, always: true }),
  f('attach_flags', 12, 'u32', { flags: AttachFlag }),
  f('replace_bpf_fd', 16, 'fd'),
  f('relative_fd', 20, 'fd'),
  f('relative_id', 20, 'u32'),
  f('expected_revision', 24, 'u64'),
]);

export const PROG_TEST_RUN = layout('BPF_PROG_TEST_RUN attr', { attrMember: 'test' }, [
  f('prog_fd', 0, 'fd', { always: true }),
  f('retval', 4, 'u32', { out: true }),
  /** In: bytes of data_in; data_size_out is in (room) and out (written). */
  f('data_size_in', 8, 'u32'),
  f('data_size_out', 12, 'u32'),
  f('data_in', 16, 'ptr'),
  f('data_out', 24, 'ptr'),
  f('repeat', 32, 'u32'),
  f('duration', 36, 'u32', { out: true }),
  f('ctx_size_in', 40, 'u32'),
  f('ctx_size_out', 44, 'u32'),
  f('ctx_in', 48, 'ptr'),
  f('ctx_out', 56, 'ptr'),
  f('flags', 64, 'u32'),
  f('cpu', 68, 'u32'),
  f('batch_size', 72, 'u32'),
]);

/** *_GET_FD_BY_ID and *_GET_NEXT_ID: the id fields are one union, named per command. */
export const OBJ_ID = layout('BPF_*_GET_FD_BY_ID/BPF_*_GET_NEXT_ID attr', { attrAnonymousWith: 'next_id' }, [
  f('start_id', 0, 'u32'),
  f('prog_id', 0, 'u32'),
  f('map_id', 0, 'u32'),
  f('btf_id', 0, 'u32'),
  f('link_id', 0, 'u32'),
  f('next_id', 4, 'u32', { out: true }),
  f('open_flags', 8, 'u32', { flags: ObjFlag }),
]);

export const OBJ_GET_INFO_BY_FD = layout('BPF_OBJ_GET_INFO_BY_FD attr', { attrMember: 'info' }, [
  f('bpf_fd', 0, 'fd', { always: true }),
  /** In: room in `info`; out: bytes the kernel wrote. */
  f('info_len', 4, 'u32', { always: true }),
  f('info', 8, 'ptr'),
]);

export const PROG_QUERY = layout('BPF_PROG_QUERY attr', { attrMember: 'query' }, [
  f('target_fd', 0, 'fd', { always: true }),
  f('target_ifindex', 0, 'u32', { since: '6.6' }),
  f('attach_type', 4, 'u32', { enum: AttachType, always: true }),
  f('query_flags', 8, 'u32', { flags: QueryFlag }),
  f('attach_flags', 12, 'u32', { out: true }),
  f('prog_ids', 16, 'ptr'),
  /** In: room in prog_ids; out: how many are attached. */
  f('prog_cnt', 24, 'u32'),
  f('prog_attach_flags', 32, 'ptr'),
  f('link_ids', 40, 'ptr'),
  f('link_attach_flags', 48, 'ptr'),
  f('revision', 56, 'u64', { out: true }),
]);

export const RAW_TRACEPOINT_OPEN = layout('BPF_RAW_TRACEPOINT_OPEN attr', { attrMember: 'raw_tracepoint' }, [
  f('name', 0, 'str', { always: true }),
  f('prog_fd', 8, 'fd', { always: true }),
  f('cookie', 16, 'u64'),
]);

export const BTF_LOAD = layout('BPF_BTF_LOAD attr', { attrAnonymousWith: 'btf_size' }, [
  f('btf', 0, 'ptr', { always: true }),
  f('btf_log_buf', 8, 'ptr'),
  f('btf_size', 16, 'u32', { always: true }),
  f('btf_log_size', 20, 'u32'),
  f('btf_log_level', 24, 'u32'),
  f('btf_log_true_size', 28, 'u32', { out: true, since: '6.4' }),
  f('btf_flags', 32, 'u32'),
  f('btf_token_fd', 36, 'fd'),
]);

export const TASK_FD_QUERY = layout('BPF_TASK_FD_QUERY attr', { attrMember: 'task_fd_query' }, [
  f('pid', 0, 'u32', { always: true }),
  f('fd', 4, 'u32', { always: true }),
  f('flags', 8, 'u32'),
  f('buf_len', 12, 'u32'),
  f('buf', 16, 'ptr'),
  f('prog_id', 24, 'u32', { out: true }),
  f('fd_type', 28, 'u32', { out: true }),
  f('probe_offset', 32, 'u64', { out: true }),
  f('probe_addr', 40, 'u64', { out: true }),
]);

export const LINK_CREATE = layout('BPF_LINK_CREATE attr', { attrMember: 'link_create' }, [
  f('prog_fd', 0, 'fd', { always: true }),
  f('map_fd', 0, 'fd', { since: '6.4' }),
  f('target_fd', 4, 'fd', { always: true }),
  f('target_ifindex', 4, 'u32'),
  f('attach_type', 8, 'u32', { enum: AttachType, always: true }),
  f('flags', 12, 'u32'),
  // The rest is one union: each link kind reads its own member.
  f('target_btf_id', 16, 'u32'),
  f('iter_info', 16, 'ptr'),
  f('iter_info_len', 24, 'u32'),
  f('perf_event.bpf_cookie', 16, 'u64'),
  f('kprobe_multi.flags', 16, 'u32'),
  f('kprobe_multi.cnt', 20, 'u32'),
  f('kprobe_multi.syms', 24, 'ptr'),
  f('kprobe_multi.addrs', 32, 'ptr'),
  f('kprobe_multi.cookies', 40, 'ptr'),
  f('tracing.target_btf_id', 16, 'u32'),
  f('tracing.cookie', 24, 'u64'),
  f('netfilter.pf', 16, 'u32'),
  f('netfilter.hooknum', 20, 'u32'),
  f('netfilter.priority', 24, 's32'),
  f('netfilter.flags', 28, 'u32'),
  f('tcx.relative_fd', 16, 'fd'),
  f('tcx.relative_id', 16, 'u32'),
  f('tcx.expected_revision', 24, 'u64'),
  f('uprobe_multi.path', 16, 'str'),
  f('uprobe_multi.offsets', 24, 'ptr'),
  f('uprobe_multi.ref_ctr_offsets', 32, 'ptr'),
  f('uprobe_multi.cookies', 40, 'ptr'),
  f('uprobe_multi.cnt', 48, 'u32'),
  f('uprobe_multi.flags', 52, 'u32'),
  f('uprobe_multi.pid', 56, 'u32'),
  f('netkit.relative_fd', 16, 'fd'),
  f('netkit.relative_id', 16, 'u32'),
  f('netkit.expected_revision', 24, 'u64'),
  f('cgroup.relative_fd', 16, 'fd'),
  f('cgroup.relative_id', 16, 'u32'),
  f('cgroup.expected_revision', 24, 'u64'),
]);

export const LINK_UPDATE = layout('BPF_LINK_UPDATE attr', { attrMember: 'link_update' }, [
  f('link_fd', 0, 'fd', { always: true }),
  f('new_prog_fd', 4, 'fd', { always: true }),
  f('new_map_fd', 4, 'fd', { since: '6.4' }),
  f('flags', 8, 'u32'),
  f('old_prog_fd', 12, 'fd'),
  f('old_map_fd', 12, 'fd', { since: '6.4' }),
]);

export const LINK_DETACH = layout('BPF_LINK_DETACH attr', { attrMember: 'link_detach' }, [
  f('link_fd', 0, 'fd', { always: true }),
]);

export const ENABLE_STATS = layout('BPF_ENABLE_STATS attr', { attrMember: 'enable_stats' }, [
  f('type', 0, 'u32', { always: true }),
]);

export const ITER_CREATE = layout('BPF_ITER_CREATE attr', { attrMember: 'iter_create' }, [
  f('link_fd', 0, 'fd', { always: true }),
  f('flags', 4, 'u32'),
]);

export const PROG_BIND_MAP = layout('BPF_PROG_BIND_MAP attr', { attrMember: 'prog_bind_map' }, [
  f('prog_fd', 0, 'fd', { always: true }),
  f('map_fd', 4, 'fd', { always: true }),
  f('flags', 8, 'u32'),
]);

/** The attr layout of each command, for narrating any call. */
export const ATTR_OF: ReadonlyMap<number, Layout> = new Map<number, Layout>([
  [Cmd.MAP_CREATE, MAP_CREATE],
  [Cmd.MAP_LOOKUP_ELEM, MAP_ELEM], [Cmd.MAP_UPDATE_ELEM, MAP_ELEM], [Cmd.MAP_DELETE_ELEM, MAP_ELEM],
  [Cmd.MAP_LOOKUP_AND_DELETE_ELEM, MAP_ELEM], [Cmd.MAP_FREEZE, MAP_ELEM],
  [Cmd.MAP_GET_NEXT_KEY, MAP_NEXT_KEY],
  [Cmd.MAP_LOOKUP_BATCH, MAP_BATCH], [Cmd.MAP_LOOKUP_AND_DELETE_BATCH, MAP_BATCH], [Cmd.MAP_UPDATE_BATCH, MAP_BATCH], [Cmd.MAP_DELETE_BATCH, MAP_BATCH],
  [Cmd.PROG_LOAD, PROG_LOAD],
  [Cmd.OBJ_PIN, OBJ], [Cmd.OBJ_GET, OBJ],
  [Cmd.PROG_ATTACH, PROG_ATTACH], [Cmd.PROG_DETACH, PROG_ATTACH],
  [Cmd.PROG_TEST_RUN, PROG_TEST_RUN],
  [Cmd.PROG_GET_NEXT_ID, OBJ_ID], [Cmd.MAP_GET_NEXT_ID, OBJ_ID], [Cmd.BTF_GET_NEXT_ID, OBJ_ID], [Cmd.LINK_GET_NEXT_ID, OBJ_ID],
  [Cmd.PROG_GET_FD_BY_ID, OBJ_ID], [Cmd.MAP_GET_FD_BY_ID, OBJ_ID], [Cmd.BTF_GET_FD_BY_ID, OBJ_ID], [Cmd.LINK_GET_FD_BY_ID, OBJ_ID],
  [Cmd.OBJ_GET_INFO_BY_FD, OBJ_GET_INFO_BY_FD],
  [Cmd.PROG_QUERY, PROG_QUERY],
  [Cmd.RAW_TRACEPOINT_OPEN, RAW_TRACEPOINT_OPEN],
  [Cmd.BTF_LOAD, BTF_LOAD],
  [Cmd.TASK_FD_QUERY, TASK_FD_QUERY],
  [Cmd.LINK_CREATE, LINK_CREATE],
  [Cmd.LINK_UPDATE, LINK_UPDATE],
  [Cmd.LINK_DETACH, LINK_DETACH],
  [Cmd.ENABLE_STATS, ENABLE_STATS],
  [Cmd.ITER_CREATE, ITER_CREATE],
  [Cmd.PROG_BIND_MAP, PROG_BIND_MAP],
]);

/** Commands whose success value is a new fd. */
export const FD_RETURNING: ReadonlySet<number> = new Set([
  Cmd.MAP_CREATE, Cmd.PROG_LOAD, Cmd.OBJ_GET, Cmd.PROG_GET_FD_BY_ID, Cmd.MAP_GET_FD_BY_ID, Cmd.LINK_GET_FD_BY_ID,
  Cmd.BTF_GET_FD_BY_ID, Cmd.BTF_LOAD, Cmd.LINK_CREATE, Cmd.RAW_TRACEPOINT_OPEN, Cmd.ITER_CREATE, Cmd.ENABLE_STATS,
]);
