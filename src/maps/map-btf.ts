// Where a map's key and value types come from, for typed(): the object's BTF (the loader records
// it for every map it makes or reuses), or the kernel's copy of the BTF the map was created with
// (bpf_map_info.btf_id with btf_key_type_id/btf_value_type_id), for maps opened by pin or fd.
import { Btf } from '../btf/btf.js';
import type { BtfTypes } from '../btf/shape.js';
import { btfData, btfGetFdByIdTry } from '../sys/commands.js';
import { bpfError } from '../sys/errno.js';
import type { MapInfo } from '../sys/info.js';

export interface MapBtfTypes {
  btf: BtfTypes;
  /** BTF type ids of key and value; 0 when the map declares none (queues have no key). */
  key: number;
  value: number;
  /** Where they came from, for messages ("the object maps.bpf.o", "kernel BTF object 42"). */
  source: string;
}

const recorded = new WeakMap<object, MapBtfTypes>();

/** Record a map's types (the loader does, from the object's BTF). */
export function recordMapBtfTypes(map: object, types: MapBtfTypes): void {
  recorded.set(map, types);
}

export function recordedMapBtfTypes(map: object): MapBtfTypes | undefined {
  return recorded.get(map);
}

/** The types the kernel keeps for a map created with BTF, or undefined when it has none. */
export function kernelMapBtfTypes(info: MapInfo, what: string): MapBtfTypes | undefined {
  if (!info.btfId || (!info.btfKeyTypeId && !info.btfValueTypeId)) return undefined;
  const source = `kernel BTF object ${info.btfId}`;
  const btf = Btf.parse(btfBytesById(info.btfId, `the BTF of ${what}`), source);
  return { btf, key: info.btfKeyTypeId, value: info.btfValueTypeId, source };
}

/** The bytes of the kernel's BTF object `id` (BPF_BTF_GET_FD_BY_ID, then its info). */
function btfBytesById(id: number, what: string): Buffer {
  const { fd, errno } = btfGetFdByIdTry(id, what);
  if (!fd) throw bpfError('BPF_BTF_GET_FD_BY_ID', errno, what);
  try {
    return btfData(fd, what);
  } finally {
    fd.close();
  }
}

/**
 * Record the types the object declares for each of its loaded maps (load() calls this): `specs`
 * are the object's map specs by name. A map given by the caller keeps types it already has.
 */
export function recordObjectMapTypes(file: string, btf: BtfTypes | undefined, specs: ReadonlyMap<string, { btfKeyTypeId?: number; btfValueTypeId?: number }>, maps: ReadonlyMap<string, object>): void {
  if (!btf) return;
  for (const [name, map] of maps) {
    const spec = specs.get(name);
    if (!spec || recorded.has(map) || (!spec.btfKeyTypeId && !spec.btfValueTypeId)) continue;
    recorded.set(map, { btf, key: spec.btfKeyTypeId ?? 0, value: spec.btfValueTypeId ?? 0, source: `the BTF of ${file}` });
  }
}
