// Whether the kernel creates maps of a type, asked with the attributes that type insists on (as
// cilium/ebpf's HaveMapType does): an LPM trie wants BPF_F_NO_PREALLOC and a prefix in its key,
// map-in-maps an inner map, cgroup storage the bpf_cgroup_storage_key and no max_entries, local
// storages BTF for key and value, ring buffers a page-sized power of two. A generic one-entry map
// of 4-byte keys and values would be refused by a kernel that has the type.
import { existsSync } from 'node:fs';
import { kernelBtf, VMLINUX_BTF } from '../btf/lazy.js';
import { encodeBtf } from '../btf/encode.js';
import { BtfKind } from '../btf/kinds.js';
import { btfLoadTry, mapCreate, mapCreateTry, type MapCreateValues } from '../sys/commands.js';
import { errnoName } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { enumName, MapFlag, MapType } from '../uapi/enums.js';

/** A BTF with one type, `int` (id 1): what local-storage maps name as their key and value type. */
function intBtf(): Buffer {
  return encodeBtf({ version: 1, flags: 0 }, [{ id: 1, name: 'int', nameOff: 1, kindFlag: false, kind: BtfKind.INT, size: 4, encoding: 1, bitOffset: 0, bits: 32 }], Buffer.from('\0int\0'));
}

const LOCAL_STORAGE = new Set<number>([MapType.SK_STORAGE, MapType.INODE_STORAGE, MapType.TASK_STORAGE, MapType.CGRP_STORAGE]);

/** Undefined when the kernel creates a map of `type`, else why not. */
export function probeMapType(type: number): string | undefined {
  const name = enumName(MapType, type);
  const held: Fd[] = [];
  try {
    let v: MapCreateValues = { map_type: type, key_size: 4, value_size: 4, max_entries: 1, map_name: 'probe' };
    switch (type) {
      case MapType.LPM_TRIE: v = { ...v, key_size: 8, map_flags: MapFlag.NO_PREALLOC }; break;
      case MapType.STACK_TRACE: v = { ...v, value_size: 8 }; break;
      case MapType.SOCKMAP: case MapType.SOCKHASH: v = { ...v, value_size: 8 }; break;
      // struct bpf_cgroup_storage_key: u64 inode id, u32 attach type, padded to 16.
      case MapType.CGROUP_STORAGE: case MapType.PERCPU_CGROUP_STORAGE: v = { ...v, key_size: 16, value_size: 8, max_entries: 0 }; break;
      case MapType.QUEUE: case MapType.STACK: case MapType.BLOOM_FILTER: v = { ...v, key_size: 0 }; break;
      case MapType.RINGBUF: case MapType.USER_RINGBUF: v = { ...v, key_size: 0, value_size: 0, max_entries: 4096 }; break;
      case MapType.ARENA: v = { ...v, key_size: 0, value_size: 0, map_flags: MapFlag.MMAPABLE }; break;
      case MapType.ARRAY_OF_MAPS: case MapType.HASH_OF_MAPS: {
        const inner = mapCreate({ map_type: MapType.ARRAY, key_size: 4, value_size: 4, max_entries: 1, map_name: 'probe_inner' }, 'probe inner map (array)');
        held.push(inner);
        v = { ...v, inner_map_fd: inner.value };
        break;
      }
    }
    if (LOCAL_STORAGE.has(type) || type === MapType.STRUCT_OPS) {
      const btf = btfLoadTry(intBtf(), undefined, 0, 'probe BTF (int)');
      if (!btf.fd) return `the kernel refused the BTF a ${name} map needs: ${errnoName(btf.errno)}`;
      held.push(btf.fd);
      if (type === MapType.STRUCT_OPS) {
        const value = structOpsValue();
        if (typeof value === 'string') return value;
        v = { ...v, value_size: value.size, btf_fd: btf.fd.value, btf_vmlinux_value_type_id: value.id };
      } else {
        v = { ...v, max_entries: 0, map_flags: MapFlag.NO_PREALLOC, btf_fd: btf.fd.value, btf_key_type_id: 1, btf_value_type_id: 1 };
      }
    }
    const r = mapCreateTry(v, `probe map (${name})`);
    r.fd?.close();
    return r.fd ? undefined : `BPF_MAP_CREATE of a ${name} map answered ${errnoName(r.errno)} (errno ${r.errno})`;
  } finally {
    for (const fd of held) fd.close();
  }
}

/**
 * A struct_ops map's value is a kernel type, bpf_struct_ops_tcp_congestion_ops (every kernel with
 * struct_ops has it), and the map wants an object BTF beside it (any: ours is one int).
 */
function structOpsValue(): { id: number; size: number } | string {
  if (!existsSync(VMLINUX_BTF)) return `cannot tell without kernel BTF (${VMLINUX_BTF}): a STRUCT_OPS map's value is a kernel type`;
  const btf = kernelBtf(VMLINUX_BTF);
  const id = btf.idsByEssentialName('bpf_struct_ops_tcp_congestion_ops').find((i) => btf.kindOf(i) === BtfKind.STRUCT);
  if (id === undefined) return 'the kernel\'s BTF has no struct bpf_struct_ops_tcp_congestion_ops (no struct_ops support)';
  return { id, size: (btf.type(id) as { size: number }).size };
}
