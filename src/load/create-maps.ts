// Turning MapSpecs into kernel maps as libbpf's bpf_object__create_maps does: create (or reuse a
// pinned one), size what the object leaves to the loader (PERF_EVENT_ARRAY max_entries 0 → the
// number of possible CPUs; ring buffers → a power-of-two number of pages), fill global data,
// freeze read-only data, and fill statically initialised map-in-map slots once every map exists.
// Every fd made here is closed again if a later step fails.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, ObjectError, UsageError } from '../errors.js';
import { hasMapType } from '../features/probe.js';
import { BpfMap } from '../maps/map.js';
import { kernelName, type MapSpec } from '../object/index.js';
import { DEFAULT_BPFFS, exists, preparePinPath } from '../sys/bpffs.js';
import { mapCreateTry, mapFreeze, mapUpdate, objGet, objPin, type MapCreateValues } from '../sys/commands.js';
import { possibleCpus } from '../sys/cpus.js';
import { systemPageSize } from '../sys/page-size.js';
import { Errno, errnoName, hintFor } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { enumName, MapFlag, MapType, UpdateFlag } from '../uapi/enums.js';
import type { PreparedStructOps } from './struct-ops.js';

export interface MapLoadOptions {
  /** Reuse maps pinned in this directory under their names; create and pin the missing ones. */
  pinMaps?: string;
  /**
   * Where maps with their own pinning are pinned (libbpf's pin_root_path): LIBBPF_PIN_BY_NAME maps
   * at ROOT/NAME, iproute2's PIN_GLOBAL_NS at ROOT/tc/globals/NAME and PIN_OBJECT_NS at
   * ROOT/tc/<sha1 of the object>/NAME. Default /sys/fs/bpf.
   */
  pinRoot?: string;
  /** Use these maps instead of creating ones of the same name. They stay owned by the caller. */
  maps?: Record<string, BpfMap>;
}

export interface CreatedMap {
  map: BpfMap;
  /** True when the map came from `options.maps`: the caller owns it; we must not close it. */
  borrowed: boolean;
  /** Path we pinned it at during this load (undone if the load fails). */
  pinnedNow?: string;
  /** Reused from a pin: its contents were not touched by this load. */
  reused?: boolean;
}

/** SOCKMAP/SOCKHASH values are sockets: the value must be a u32 or u64. */
const SOCK_MAPS: Set<number> = new Set([MapType.SOCKMAP, MapType.SOCKHASH]);

/**
 * Map types created without BTF key/value ids, exactly libbpf's list (bpf_object__create_map): their
 * values are fds, ids or kernel objects, and the kernel refuses or ignores BTF for them.
 */
const NO_BTF_MAPS: Set<number> = new Set([
  MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.STACK_TRACE, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS,
  MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.CPUMAP, MapType.XSKMAP, MapType.SOCKMAP, MapType.SOCKHASH,
  MapType.QUEUE, MapType.STACK, MapType.ARENA,
]);

/** The object's BTF in the kernel, for typed maps. */
export interface MapBtf {
  fd: number;
  /** Called when the kernel refused a map's BTF ids and it was created without them. */
  note?: (line: string) => void;
}

/** What the loader worked out for the maps of one load (beyond the specs). */
export interface MapContext {
  /** Contents to use instead of spec.contents (the filled .kconfig map). */
  contents?: Map<string, Buffer>;
  /** struct_ops maps, prepared against the kernel's BTF. */
  structOps?: Map<string, PreparedStructOps>;
  /** sha1 of the object file, for iproute2's PIN_OBJECT_NS pins. */
  objectHash?: () => string;
  /** Where notices go (arena address chosen, string cut). */
  warn?: (message: string) => void;
  /** Narration. */
  note?: (line: string) => void;
}

function describe(file: string, spec: MapSpec): string {
  return `map ${spec.name} (${enumName(MapType, spec.type)}) of ${file}`;
}

function checkSpec(file: string, spec: MapSpec): void {
  if (SOCK_MAPS.has(spec.type) && spec.valueSize !== 4 && spec.valueSize !== 8) {
    throw new ObjectError(file, `${describe(file, spec)} has value size ${spec.valueSize}: a SOCKMAP/SOCKHASH value is a socket; declare it __u32 (4) or __u64 (8; lookups then return the socket cookie)`, { section: spec.section });
  }
}


/** libbpf's adjust_ringbuf_sz: a multiple of the page size that is a power of two pages (0 stays 0). */
export function ringbufSize(size: number, page = systemPageSize()): number {
  if (size === 0) return 0;
  const pages = size / page;
  if (size % page === 0 && (pages & (pages - 1)) === 0) return size;
  for (let mul = 1; mul <= Math.floor(0xffffffff / page); mul *= 2) if (mul * page > size) return mul * page;
  return size;
}

/** max_entries as created: what the spec says, or what libbpf makes of what it leaves open. */
export function effectiveMaxEntries(spec: MapSpec): number {
  if (spec.type === MapType.PERF_EVENT_ARRAY && spec.maxEntries === 0) return possibleCpus();
  if (spec.type === MapType.RINGBUF || spec.type === MapType.USER_RINGBUF) return ringbufSize(spec.maxEntries);
  return spec.maxEntries;
}

/** Compare a pinned map with the spec that wants to reuse it (libbpf's map_is_reuse_compat). */
function checkCompatible(file: string, spec: MapSpec, shape: { type: number; keySize: number; valueSize: number; maxEntries: number; flags: number }, pinned: BpfMap, path: string): void {
  const fields: [string, number, number][] = [
    ['type', shape.type, pinned.type],
    ['key size', shape.keySize, pinned.keySize],
    ['value size', shape.valueSize, pinned.valueSize],
    ['max entries', shape.maxEntries, pinned.maxEntries],
    ['flags', shape.flags, pinned.flags],
  ];
  const diff = fields.filter(([, want, have]) => want !== have);
  if (diff.length === 0) return;
  const what = diff.map(([n, want, have]) => `${n} ${have} pinned vs ${want} in the object`).join(', ');
  throw new UsageError('MISMATCH', `pinned map at ${path} does not match ${describe(file, spec)}: ${what}`, {
    hint: `remove the stale pin (rm ${path}) or load an object whose map matches it`,
  });
}

/** Key/value type ids to give the kernel for this map, or undefined when it goes without BTF. */
export function mapBtfIds(spec: MapSpec): { key: number; value: number } | undefined {
  if (NO_BTF_MAPS.has(spec.type) || spec.type === MapType.STRUCT_OPS) return undefined;
  if (!spec.btfKeyTypeId && !spec.btfValueTypeId) return undefined;
  return { key: spec.btfKeyTypeId ?? 0, value: spec.btfValueTypeId ?? 0 };
}

/** Map types a plain one-entry probe cannot create (they need BTF or a kernel type): not probed. */
const NEEDS_BTF_TO_PROBE: Set<number> = new Set([MapType.STRUCT_OPS, MapType.SK_STORAGE, MapType.INODE_STORAGE, MapType.TASK_STORAGE, MapType.CGRP_STORAGE, MapType.CGROUP_STORAGE, MapType.PERCPU_CGROUP_STORAGE]);

/** An address for an arena nobody mmap()s (see createOne), 4 GiB apart so that none crosses a 4 GiB line. */
let nextArena = 1n << 44n;

/** Why BPF_MAP_CREATE may have failed, in the terms of the spec. */
function createHint(spec: MapSpec, attr: MapCreateValues, errno: number): string | undefined {
  if (errno === Errno.EINVAL || errno === Errno.EOPNOTSUPP || errno === Errno.ENOTSUPP) {
    if (!NEEDS_BTF_TO_PROBE.has(spec.type) && !hasMapType(spec.type)) return `this kernel does not have ${enumName(MapType, spec.type)} maps (a one-entry map of that type is refused too)`;
    if (!attr.max_entries) return 'max_entries is 0: give the map a size (__uint(max_entries, N)) or set maxEntries before load';
    if ((spec.type === MapType.RINGBUF || spec.type === MapType.USER_RINGBUF) && (attr.key_size || attr.value_size)) return 'ring buffers take no key or value: remove __type(key/value) from the definition';
    if (spec.type === MapType.STRUCT_OPS && (attr.map_flags ?? 0) & MapFlag.LINK) return 'BPF_F_LINK for struct_ops (SEC(".struct_ops.link")) needs Linux 6.4+; use SEC(".struct_ops") on older kernels';
    if (attr.map_flags) return `one of its flags (${attr.map_flags}) may be unknown to this kernel or not allowed for ${enumName(MapType, spec.type)}`;
    return `this kernel refuses the shape: key ${attr.key_size}, value ${attr.value_size}, max_entries ${attr.max_entries} for ${enumName(MapType, spec.type)}`;
  }
  if (errno === Errno.E2BIG) return `the map is too big for this kernel (key ${attr.key_size}, value ${attr.value_size}, max_entries ${attr.max_entries}), or the kernel does not know a field we set`;
  return hintFor('BPF_MAP_CREATE', errno);
}

function createOne(file: string, objName: string, spec: MapSpec, ctx: MapContext, btf?: MapBtf, inner = false): BpfMap {
  const name = spec.kind === 'data' ? kernelName(objName, spec.name) : spec.name;
  const so = spec.type === MapType.STRUCT_OPS ? ctx.structOps?.get(spec.name) : undefined;
  if (spec.type === MapType.STRUCT_OPS && !so) throw new ObjectError(file, `${describe(file, spec)}: struct_ops map without its kernel type (internal)`);
  let innerMap: BpfMap | undefined;
  try {
    if (spec.innerMap) innerMap = createOne(file, objName, { ...spec.innerMap, name: `${spec.name}.inner` }, ctx, btf, true);
    let mapExtra = spec.mapExtra;
    if (spec.type === MapType.ARENA && !mapExtra) {
      // libbpf mmap()s an arena right after creating it, which gives it its user address; the
      // verifier refuses programs using an arena without one. This loader has no mmap() binding, so
      // it gives the address at creation (map_extra) instead; mmap the arena there to use it.
      mapExtra = nextArena;
      nextArena += 1n << 32n;
      ctx.warn?.(`${describe(file, spec)}: created with user address 0x${mapExtra.toString(16)} (map_extra), since this loader does not mmap() arenas as libbpf does; mmap the map at that address to reach it from user space`);
    }
    const attr: MapCreateValues = {
      map_type: spec.type,
      key_size: spec.keySize,
      value_size: so ? so.valueSize : spec.valueSize,
      max_entries: effectiveMaxEntries(spec),
      map_flags: spec.flags | (so?.module ? MapFlag.VTYPE_BTF_OBJ_FD : 0),
      map_name: name,
      inner_map_fd: innerMap?.fd.value,
      numa_node: spec.numaNode,
      map_extra: mapExtra,
      ...(so ? { btf_vmlinux_value_type_id: so.btfVmlinuxValueTypeId, value_type_btf_obj_fd: so.module?.fd } : {}),
    };
    const what = inner ? `inner map template of ${describe(file, spec)}` : describe(file, spec);
    const ids = btf ? mapBtfIds(spec) : undefined;
    let fd: Fd | undefined;
    if (btf && ids) {
      const r = mapCreateTry({ ...attr, btf_fd: btf.fd, btf_key_type_id: ids.key, btf_value_type_id: ids.value }, what);
      fd = r.fd;
      if (!fd) btf.note?.(`${what}: the kernel refused its BTF key/value types (${errnoName(r.errno)}); created without them`);
    }
    if (!fd) {
      const r = mapCreateTry({ ...attr, ...(btf && spec.type === MapType.STRUCT_OPS ? { btf_fd: btf.fd } : {}) }, what);
      if (!r.fd) {
        const code = errnoName(r.errno);
        throw new BpfError('BPF_MAP_CREATE', r.errno, code, `BPF_MAP_CREATE failed for ${what}: ${code}`, { hint: createHint(spec, attr, r.errno) });
      }
      fd = r.fd;
    }
    return new BpfMap(fd, { name: spec.name, type: spec.type, keySize: spec.keySize, valueSize: attr.value_size!, maxEntries: attr.max_entries!, flags: attr.map_flags! });
  } finally {
    // The kernel copied the inner map's shape; the template itself is no longer needed.
    innerMap?.close();
  }
}

/** Global data: one-element ARRAY, filled with the section's bytes; .rodata and .kconfig frozen after. */
function fillData(file: string, map: BpfMap, spec: MapSpec, contents: Buffer | undefined): void {
  if (!contents) return;
  if (contents.length !== spec.valueSize) {
    throw new UsageError('BAD_ARGUMENT', `${describe(file, spec)}: its contents are ${contents.length} bytes but its value size is ${spec.valueSize}`, { hint: 'change contents and valueSize of a data map together' });
  }
  mapUpdate(map.fd, Buffer.alloc(4), contents, UpdateFlag.ANY, describe(file, spec));
  if (spec.readonly || (spec.flags & MapFlag.RDONLY_PROG)) mapFreeze(map.fd, describe(file, spec));
}

/** Where a map is pinned, if anywhere: pinMaps for every user map, else its own pinning. */
function pinPath(spec: MapSpec, options: MapLoadOptions, ctx: MapContext): string | undefined {
  if (spec.kind !== 'map') return undefined;
  if (options.pinMaps) return join(options.pinMaps, spec.name);
  const root = options.pinRoot ?? DEFAULT_BPFFS;
  switch (spec.pinning) {
    case 'byName': return join(root, spec.name);
    case 'globalNs': return join(root, 'tc', 'globals', spec.name);
    case 'objectNs': return join(root, 'tc', ctx.objectHash?.() ?? 'object', spec.name);
    default: return undefined;
  }
}

/**
 * Create every map of `specs`, in order; then fill the map-in-map slots the object initialises. On
 * failure everything created (and pinned) so far is undone before the error propagates.
 */
export function createMaps(file: string, objName: string, specs: Iterable<MapSpec>, options: MapLoadOptions, btf?: MapBtf, ctx: MapContext = {}): Map<string, CreatedMap> {
  const out = new Map<string, CreatedMap>();
  const all = [...specs];
  try {
    for (const spec of all) {
      if (spec.autocreate === false) continue;
      checkSpec(file, spec);
      const shape = {
        type: spec.type, keySize: spec.keySize, valueSize: ctx.structOps?.get(spec.name)?.valueSize ?? spec.valueSize,
        maxEntries: effectiveMaxEntries(spec), flags: spec.flags,
      };
      const given = options.maps?.[spec.name];
      if (given) {
        checkCompatible(file, spec, shape, given, `(given map ${given.name})`);
        out.set(spec.name, { map: given, borrowed: true, reused: true });
        continue;
      }
      const path = pinPath(spec, options, ctx);
      if (path) {
        preparePinPath(path, describe(file, spec));
        if (exists(path)) {
          const pinned = BpfMap.fromFd(objGet(path, describe(file, spec)), spec.name);
          try {
            checkCompatible(file, spec, shape, pinned, path);
          } catch (e) {
            pinned.close();
            throw e;
          }
          ctx.note?.(`reused ${describe(file, spec)} pinned at ${path}`);
          out.set(spec.name, { map: pinned, borrowed: false, reused: true });
          continue;
        }
        const map = createOne(file, objName, spec, ctx, btf);
        out.set(spec.name, { map, borrowed: false });
        objPin(map.fd, path, describe(file, spec));
        out.get(spec.name)!.pinnedNow = path;
        continue;
      }
      const map = createOne(file, objName, spec, ctx, btf);
      out.set(spec.name, { map, borrowed: false });
      if (spec.kind === 'data') fillData(file, map, spec, ctx.contents?.get(spec.name) ?? spec.contents);
    }
    // Static map-in-map initialisers (libbpf's init_map_in_map_slots), once every inner map exists.
    for (const spec of all) {
      if (!spec.initSlots || spec.type === MapType.PROG_ARRAY) continue;
      const outer = out.get(spec.name);
      if (!outer || outer.reused) continue;
      for (const [slot, target] of spec.initSlots) {
        const inner = out.get(target);
        if (!inner) throw new UsageError('BAD_ARGUMENT', `${describe(file, spec)}: slot ${slot} is initialised with map ${target}, which is not created (autocreate is off)`);
        const key = Buffer.alloc(4);
        key.writeUInt32LE(slot);
        const value = Buffer.alloc(4);
        value.writeUInt32LE(inner.map.fd.value);
        mapUpdate(outer.map.fd, key, value, UpdateFlag.ANY, `${describe(file, spec)} slot ${slot} (map ${target})`);
        ctx.note?.(`${spec.name}[${slot}] = map ${target}`);
      }
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
