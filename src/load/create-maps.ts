// Turning MapSpecs into kernel maps: create (or reuse a pinned one), fill global data, freeze
// read-only data. Every fd made here is closed again if a later step fails.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ObjectError, UsageError } from '../errors.js';
import { BpfMap } from '../maps/map.js';
import { kernelName, type MapSpec } from '../object/index.js';
import { exists, preparePinPath } from '../sys/bpffs.js';
import { mapCreate, mapCreateTry, mapFreeze, mapUpdate, objGet, objPin, type MapCreateValues } from '../sys/commands.js';
import { errnoName } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { enumName, MapFlag, MapType, UpdateFlag } from '../uapi/enums.js';

export interface MapLoadOptions {
  /** Reuse maps pinned in this directory under their names; create and pin the missing ones. */
  pinMaps?: string;
  /** Use these maps instead of creating ones of the same name. They stay owned by the caller. */
  maps?: Record<string, BpfMap>;
}

export interface CreatedMap {
  map: BpfMap;
  /** True when the map came from `options.maps`: the caller owns it; we must not close it. */
  borrowed: boolean;
  /** Path we pinned it at during this load (undone if the load fails). */
  pinnedNow?: string;
}

/** SOCKMAP/SOCKHASH and other special maps take no BTF key/value ids; their value is an fd or cookie. */
const SOCK_MAPS: Set<number> = new Set([MapType.SOCKMAP, MapType.SOCKHASH]);

/**
 * Map types whose values are fds, ids or kernel objects: created without BTF key/value ids, as
 * libbpf does (the kernel refuses or ignores them).
 */
const NO_BTF_MAPS: Set<number> = new Set([
  MapType.SOCKMAP, MapType.SOCKHASH, MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.STACK_TRACE,
  MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS, MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP,
  MapType.XSKMAP, MapType.QUEUE, MapType.STACK, MapType.RINGBUF, MapType.USER_RINGBUF, MapType.PROG_ARRAY,
  MapType.REUSEPORT_SOCKARRAY, MapType.BLOOM_FILTER,
]);

/** The object's BTF in the kernel, for typed maps. */
export interface MapBtf {
  fd: number;
  /** Called when the kernel refused a map's BTF ids and it was created without them. */
  note?: (line: string) => void;
}

function describe(spec: MapSpec): string {
  return `map ${spec.name} (${enumName(MapType, spec.type)})`;
}

function checkSpec(file: string, spec: MapSpec): void {
  if (SOCK_MAPS.has(spec.type) && spec.valueSize !== 4 && spec.valueSize !== 8) {
    throw new ObjectError(file, `${describe(spec)} has value size ${spec.valueSize}: a SOCKMAP/SOCKHASH value is a socket; declare it __u32 (4) or __u64 (8; lookups then return the socket cookie)`, { section: spec.section });
  }
}

/** Compare a pinned map with the spec that wants to reuse it; a mismatch is an error naming both. */
function checkCompatible(spec: MapSpec, pinned: BpfMap, path: string): void {
  const fields: [string, number, number][] = [
    ['type', spec.type, pinned.type],
    ['key size', spec.keySize, pinned.keySize],
    ['value size', spec.valueSize, pinned.valueSize],
    ['max entries', spec.maxEntries, pinned.maxEntries],
    ['flags', spec.flags, pinned.flags],
  ];
  const diff = fields.filter(([, want, have]) => want !== have);
  if (diff.length === 0) return;
  const what = diff.map(([n, want, have]) => `${n} ${have} pinned vs ${want} in the object`).join(', ');
  throw new UsageError('MISMATCH', `pinned map at ${path} does not match ${describe(spec)}: ${what}`, {
    hint: `remove the stale pin (rm ${path}) or load an object whose map matches it`,
  });
}

/** Key/value type ids to give the kernel for this map, or undefined when it goes without BTF. */
export function mapBtfIds(spec: MapSpec): { key: number; value: number } | undefined {
  if (NO_BTF_MAPS.has(spec.type) || !spec.btfValueTypeId) return undefined;
  return { key: spec.btfKeyTypeId ?? 0, value: spec.btfValueTypeId };
}

function createOne(objName: string, spec: MapSpec, btf?: MapBtf): BpfMap {
  const name = kernelName(spec.kind === 'data' ? objName : '', spec.name);
  let inner: BpfMap | undefined;
  try {
    if (spec.innerMap) inner = createOne(objName, spec.innerMap);
    const attr: MapCreateValues = {
      map_type: spec.type,
      key_size: spec.keySize,
      value_size: spec.valueSize,
      max_entries: spec.maxEntries,
      map_flags: spec.flags,
      map_name: name,
      inner_map_fd: inner?.fd.value,
      map_extra: spec.mapExtra,
    };
    const ids = btf ? mapBtfIds(spec) : undefined;
    let fd: Fd | undefined;
    if (btf && ids) {
      const r = mapCreateTry({ ...attr, btf_fd: btf.fd, btf_key_type_id: ids.key, btf_value_type_id: ids.value }, describe(spec));
      fd = r.fd;
      if (!fd) btf.note?.(`${describe(spec)}: the kernel refused its BTF key/value types (${errnoName(r.errno)}); created without them`);
    }
    fd ??= mapCreate(attr, describe(spec));
    return new BpfMap(fd, { name: spec.name, type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, flags: spec.flags });
  } finally {
    // The kernel copied the inner map's shape; the template itself is no longer needed.
    inner?.close();
  }
}

/** Global data: one-element ARRAY, filled with the section's bytes; .rodata frozen after. */
function fillData(map: BpfMap, spec: MapSpec): void {
  if (!spec.contents) return;
  if (spec.contents.length !== spec.valueSize) {
    throw new UsageError('BAD_ARGUMENT', `${describe(spec)}: its contents are ${spec.contents.length} bytes but its value size is ${spec.valueSize}`, { hint: 'change contents and valueSize of a data map together' });
  }
  mapUpdate(map.fd, Buffer.alloc(4), spec.contents, UpdateFlag.ANY, describe(spec));
  if (spec.readonly || (spec.flags & MapFlag.RDONLY_PROG)) mapFreeze(map.fd, describe(spec));
}

/**
 * Create every map of `specs`, in order. On failure everything created (and pinned) so far is undone
 * before the error propagates.
 */
export function createMaps(file: string, objName: string, specs: Iterable<MapSpec>, options: MapLoadOptions, btf?: MapBtf): Map<string, CreatedMap> {
  const out = new Map<string, CreatedMap>();
  try {
    for (const spec of specs) {
      checkSpec(file, spec);
      const given = options.maps?.[spec.name];
      if (given) {
        checkCompatible(spec, given, `(given map ${given.name})`);
        out.set(spec.name, { map: given, borrowed: true });
        continue;
      }
      const pinDir = spec.kind === 'map' ? options.pinMaps ?? (spec.pinning === 'byName' ? '/sys/fs/bpf' : undefined) : undefined;
      if (pinDir) {
        const { path } = preparePinPath(join(pinDir, spec.name), describe(spec));
        if (exists(path)) {
          const pinned = BpfMap.fromFd(objGet(path, describe(spec)), spec.name);
          try {
            checkCompatible(spec, pinned, path);
          } catch (e) {
            pinned.close();
            throw e;
          }
          out.set(spec.name, { map: pinned, borrowed: false });
          continue;
        }
        const map = createOne(objName, spec, btf);
        out.set(spec.name, { map, borrowed: false });
        objPin(map.fd, path, describe(spec));
        out.get(spec.name)!.pinnedNow = path;
        continue;
      }
      const map = createOne(objName, spec, btf);
      out.set(spec.name, { map, borrowed: false });
      if (spec.kind === 'data') fillData(map, spec);
    }
    return out;
  } catch (e) {
    releaseMaps(out, true);
    throw e;
  }
}

/** Close what we own; with `unpin`, also remove pins made during this load. */
export function releaseMaps(maps: Map<string, CreatedMap>, unpin: boolean): void {
  for (const m of maps.values()) {
    if (unpin && m.pinnedNow) {
      try { rmSync(m.pinnedNow, { force: true }); } catch { /* best effort while unwinding another error */ }
    }
    if (!m.borrowed) m.map.close();
  }
}
