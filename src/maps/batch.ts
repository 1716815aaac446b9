// Batch operations on a map (BPF_MAP_*_BATCH, Linux 5.6+ for hash maps), each with the element-by-
// element fallback a kernel or map type without them needs. Whether a type has them is probed once
// per process (features/probe.ts hasMapBatch; tests force the fallback with overrideProbe).
//
// A walk (lookup, lookup-and-delete) goes batch by batch from an opaque cursor: a hash map's cursor
// is a bucket index, so deleting elements during the walk never restarts it; an array's is the last
// index. The kernel says ENOENT with the last batch, and ENOSPC when one hash bucket holds more
// elements than the batch has room for: the batch then grows and the call is repeated.
import { hasMapBatch, type MapBatchOp } from '../features/probe.js';
import { mapBatchTry, mapDelete, mapLookup, mapLookupAndDelete, mapNextKey, mapUpdate } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { cmdName } from '../sys/syscall.js';
import { Cmd, MapType, UpdateFlag } from '../uapi/enums.js';

/** What the batch code needs of a map (BpfMap has it). */
export interface BatchTarget {
  readonly fd: Fd;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  /** Bytes of one element's value as the kernel copies it (per-CPU maps: one 8-byte slot per CPU). */
  readonly lookupSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly what: string;
}

/** Where a batch walk stands: pass it to the next lookupBatch(); undefined after the last batch. */
export class BatchCursor {
  /** @internal */
  constructor(
    /** A kernel batch cursor (bytes), or the last key of an element-by-element walk. */
    readonly kind: 'kernel' | 'key',
    readonly bytes: Buffer,
  ) {}
}

export interface BatchPage {
  entries: [key: Buffer, value: Buffer][];
  /** Where to go on from; undefined when the walk is done. */
  next?: BatchCursor;
}

/** Map types whose walk by batch never restarts or repeats (a hash bucket cursor, or an array index). */
const BATCH_WALKS: ReadonlySet<number> = new Set([
  MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.HASH_OF_MAPS, MapType.ARRAY, MapType.PERCPU_ARRAY,
]);

/** Whether walks (keys, entries, drain) of this map go by batch: the kernel has it and the cursor is stable. */
export function walksByBatch(map: BatchTarget, op: 'lookup' | 'lookup_and_delete'): boolean {
  return BATCH_WALKS.has(map.type) && supports(map, op);
}

function supports(map: BatchTarget, op: MapBatchOp): boolean {
  return hasMapBatch(op, { type: map.type, keySize: map.keySize, valueSize: map.valueSize, flags: map.flags });
}

/** Elements per batch by default: as many as fit in about 1 MiB, at least 64, at most max_entries. */
export function defaultBatchSize(map: BatchTarget): number {
  const perElement = map.keySize + map.lookupSize;
  return Math.max(1, Math.min(map.maxEntries, Math.max(64, Math.floor((1 << 20) / Math.max(1, perElement)))));
}

function lockFlag(lock: boolean | undefined): number {
  return lock ? UpdateFlag.LOCK : 0;
}

/**
 * One page of a walk by the kernel's batch command (`op` lookup or lookup_and_delete), from `cursor`
 * (undefined: the start). Only call when supported.
 */
export function kernelBatchPage(map: BatchTarget, op: 'lookup' | 'lookup_and_delete', cursor: Buffer | undefined, count: number, lock?: boolean): BatchPage {
  const cmd = op === 'lookup' ? Cmd.MAP_LOOKUP_BATCH : Cmd.MAP_LOOKUP_AND_DELETE_BATCH;
  // A hash map's cursor is a u32 bucket; an array's is a key: room for either.
  const out = Buffer.alloc(Math.max(map.keySize, 4));
  for (let room = Math.max(1, count); ; room *= 2) {
    const keys = Buffer.alloc(room * map.keySize);
    const values = Buffer.alloc(room * map.lookupSize);
    const r = mapBatchTry(cmd, { map_fd: map.fd.value, in_batch: cursor, out_batch: out, keys, values, count: room, elem_flags: lockFlag(lock) }, map.what);
    // One bucket holds more than `room` elements: grow the batch (a bucket cannot exceed max_entries).
    if (r.errno === Errno.ENOSPC && room < map.maxEntries) continue;
    if (r.errno !== 0 && r.errno !== Errno.ENOENT) throw bpfError(cmdName(cmd), r.errno, map.what, lock && r.errno === Errno.EINVAL ? { hint: LOCK_HINT } : {});
    const entries: [Buffer, Buffer][] = [];
    for (let i = 0; i < r.count; i++) {
      entries.push([keys.subarray(i * map.keySize, (i + 1) * map.keySize), values.subarray(i * map.lookupSize, (i + 1) * map.lookupSize)]);
    }
    return r.errno === Errno.ENOENT ? { entries } : { entries, next: new BatchCursor('kernel', out) };
  }
}

export const LOCK_HINT = 'BPF_F_LOCK needs a map whose value holds a struct bpf_spin_lock, created with the object\'s BTF (load() does that when the object has BTF)';

/** One page of a walk element by element (GET_NEXT_KEY, then a lookup or a lookup-and-delete per key). */
function fallbackPage(map: BatchTarget, op: 'lookup' | 'lookup_and_delete', cursor: Buffer | undefined, count: number, lock?: boolean): BatchPage {
  const entries: [Buffer, Buffer][] = [];
  let key = cursor;
  while (entries.length < count) {
    // Taking elements out: always the first key, since the one before it is gone.
    const next = mapNextKey(map.fd, op === 'lookup_and_delete' ? undefined : key, map.keySize, map.what);
    if (!next) return { entries };
    key = next;
    const value = op === 'lookup' ? mapLookup(map.fd, next, Buffer.alloc(map.lookupSize), map.what, lockFlag(lock)) : takeElement(map, next, lock);
    if (value) entries.push([next, value]);
  }
  return { entries, next: key && new BatchCursor('key', key) };
}

/** Lookup-and-delete of one key: atomic where the kernel has it (5.14+), else lookup then delete. */
function takeElement(map: BatchTarget, key: Buffer, lock?: boolean): Buffer | undefined {
  try {
    return mapLookupAndDelete(map.fd, key, Buffer.alloc(map.lookupSize), map.what, lockFlag(lock));
  } catch (e) {
    const errno = (e as { errno?: number }).errno;
    if (errno !== Errno.ENOTSUPP && errno !== Errno.EOPNOTSUPP && errno !== Errno.EINVAL) throw e;
    const value = mapLookup(map.fd, key, Buffer.alloc(map.lookupSize), map.what, lockFlag(lock));
    mapDelete(map.fd, key, map.what);
    return value;
  }
}

/** One page of a walk, by batch where the kernel has it, element by element otherwise. */
export function batchPage(map: BatchTarget, op: 'lookup' | 'lookup_and_delete', cursor: BatchCursor | undefined, count: number, lock?: boolean): BatchPage {
  if (cursor?.kind !== 'key' && supports(map, op)) return kernelBatchPage(map, op, cursor?.bytes, count, lock);
  return fallbackPage(map, op, cursor?.bytes, count, lock);
}

/** Every element, batch by batch (only where walksByBatch says so). */
export function* batchWalk(map: BatchTarget, op: 'lookup' | 'lookup_and_delete', batchSize: number, lock?: boolean): Generator<[Buffer, Buffer]> {
  let cursor: Buffer | undefined;
  for (;;) {
    const page = kernelBatchPage(map, op, cursor, batchSize, lock);
    yield* page.entries;
    if (!page.next) return;
    cursor = page.next.bytes;
  }
}

/**
 * Update many elements: one BPF_MAP_UPDATE_BATCH where the kernel has it (and `flags` is ANY or
 * LOCK: the batch command refuses NOEXIST/EXIST), else one update each. Stops at the first refusal,
 * naming the element; returns how many were written.
 */
export function updateBatch(map: BatchTarget, keys: readonly Buffer[], values: readonly Buffer[], flags: number): number {
  if (keys.length === 0) return 0;
  // The kernel's batch takes BPF_F_LOCK only as element flags (NOEXIST/EXIST are EINVAL there).
  if ((flags & ~UpdateFlag.LOCK) === 0 && supports(map, 'update')) {
    const r = mapBatchTry(Cmd.MAP_UPDATE_BATCH, { map_fd: map.fd.value, keys: Buffer.concat(keys), values: Buffer.concat(values), count: keys.length, elem_flags: flags }, map.what);
    if (r.errno) throw bpfError(cmdName(Cmd.MAP_UPDATE_BATCH), r.errno, `${map.what} (element ${r.count} of ${keys.length}; the ${r.count} before it were written)`, flags & UpdateFlag.LOCK && r.errno === Errno.EINVAL ? { hint: LOCK_HINT } : {});
    return r.count;
  }
  keys.forEach((k, i) => {
    try {
      mapUpdate(map.fd, k, values[i]!, flags, map.what);
    } catch (e) {
      const errno = (e as { errno?: number }).errno ?? 0;
      throw bpfError(cmdName(Cmd.MAP_UPDATE_ELEM), errno, `${map.what} (element ${i} of ${keys.length}; the ${i} before it were written)`, flags & UpdateFlag.LOCK && errno === Errno.EINVAL ? { hint: LOCK_HINT } : {});
    }
  });
  return keys.length;
}

/**
 * Delete many keys: BPF_MAP_DELETE_BATCH where the kernel has it, else one delete each. Keys that are
 * not there are skipped (the kernel's batch stops at them: it is called again after each). Returns how
 * many were deleted.
 */
export function deleteBatch(map: BatchTarget, keys: readonly Buffer[]): number {
  if (!supports(map, 'delete')) return keys.filter((k) => mapDelete(map.fd, k, map.what)).length;
  let deleted = 0;
  for (let from = 0; from < keys.length;) {
    const rest = keys.slice(from);
    const r = mapBatchTry(Cmd.MAP_DELETE_BATCH, { map_fd: map.fd.value, keys: Buffer.concat(rest), count: rest.length }, map.what);
    deleted += r.count;
    if (r.errno === 0) break;
    if (r.errno !== Errno.ENOENT) throw bpfError(cmdName(Cmd.MAP_DELETE_BATCH), r.errno, `${map.what} (key ${from + r.count} of ${keys.length})`);
    from += r.count + 1; // skip the absent key
  }
  return deleted;
}
