// Walking a map's keys with BPF_MAP_GET_NEXT_KEY, for map types (or kernels) without batch walks.
//
// GET_NEXT_KEY takes the previous key; when that key is no longer in the map (deleted meanwhile),
// a hash map answers with its *first* key: the walk restarts. Two things keep such a walk correct:
//   - the next key is asked for before the current one is handed out, so the common loop that
//     deletes each key it is given never restarts the walk;
//   - keys already handed out are remembered and skipped, so a restart (the key after ours was
//     deleted by someone else) repeats nothing; the restart itself is counted;
//   - after a restart the walk goes on from the newest handed-out key still in the map (one of the
//     last 16), not from the first key, so restarts do not make a walk quadratic.
// A map that changes so fast that restarts dominate (16 maps' worth of keys met again) ends the walk
// with a UsageError (BUSY), rather than running forever or stopping silently.
import { UsageError } from '../errors.js';
import { mapNextKey } from '../sys/commands.js';
import type { Fd } from '../sys/fd.js';
import { MapType } from '../uapi/enums.js';

/** Map types whose GET_NEXT_KEY is an index that never restarts (no need to remember keys). */
const INDEXED: ReadonlySet<number> = new Set([
  MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.PROG_ARRAY, MapType.PERF_EVENT_ARRAY, MapType.CGROUP_ARRAY, MapType.ARRAY_OF_MAPS,
  MapType.DEVMAP, MapType.CPUMAP, MapType.XSKMAP, MapType.SOCKMAP, MapType.REUSEPORT_SOCKARRAY,
]);

export interface WalkTarget {
  readonly fd: Fd;
  readonly type: number;
  readonly keySize: number;
  readonly maxEntries: number;
  readonly what: string;
}

export interface WalkStats {
  /** Times the kernel restarted from the first key (the key after the current one was deleted). */
  restarts: number;
  /** Keys met again after a restart and skipped. */
  skipped: number;
}

/** Recently handed-out keys kept to resume from after a restart. */
const HISTORY = 16;

/** Every key once, in the kernel's order; `stats` (if given) counts restarts. */
export function* walkKeys(map: WalkTarget, stats: WalkStats = { restarts: 0, skipped: 0 }): Generator<Buffer> {
  const seen = INDEXED.has(map.type) ? undefined : new Set<string>();
  // Skipping is the cost of restarts: allow many walks' worth before calling the map too busy.
  const budget = 16 * (map.maxEntries + 16);
  const seenBefore = (key: Buffer | undefined) => !!key && !!seen?.has(key.toString('latin1'));
  const history: Buffer[] = [];
  /**
   * After a restart: the successor of the newest handed-out key that is still there (a hash map has
   * no rehash, so it comes after everything handed out before it), or, when none of the recent ones
   * is, the kernel's first key (then walked past what was handed out already).
   */
  const resume = (restartedAt: Buffer | undefined): Buffer | undefined => {
    for (let i = history.length - 1; i >= 0; i--) {
      const after = mapNextKey(map.fd, history[i], map.keySize, map.what);
      if (!after) return undefined; // history[i] is there and the last key
      if (!seenBefore(after)) return after;
    }
    return restartedAt;
  };
  let current = mapNextKey(map.fd, undefined, map.keySize, map.what);
  let restarted = false;
  while (current) {
    if (seenBefore(current)) {
      // Walking past what was handed out already, from the kernel's first key.
      if (!restarted) stats.restarts++;
      restarted = true;
      if (++stats.skipped > budget) {
        throw new UsageError('BUSY', `${map.what}: the map changed faster than it could be walked (the kernel restarted the walk ${stats.restarts} times after the key being visited was deleted; ${stats.skipped} keys met again)`, {
          hint: 'walk it while writers pause, or on a kernel with batch lookups for this map type (BPF_MAP_LOOKUP_BATCH: hash maps 5.6+, arrays 5.9+), whose walks do not restart',
        });
      }
      current = mapNextKey(map.fd, current, map.keySize, map.what);
      continue;
    }
    restarted = false;
    // Ask for the next key while `current` is still there: the consumer may delete it.
    let next = mapNextKey(map.fd, current, map.keySize, map.what);
    if (seenBefore(next)) {
      // A key handed out already: the kernel restarted, `current` was deleted before we asked.
      stats.restarts++;
      next = resume(next);
      if (next && seenBefore(next)) restarted = true;
    } else {
      seen?.add(current.toString('latin1'));
      if (seen) {
        history.push(current);
        if (history.length > HISTORY) history.shift();
      }
      yield current;
    }
    current = next;
  }
}
