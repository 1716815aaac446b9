// The install record: what `up` installed and how, so that `up` can tell "already up, same settings"
// from "replace", and `status`/`down` know where things are attached. bpffs only holds BPF objects,
// so the record lives in a pinned one-element ARRAY map as JSON.
import { BpfMap } from '../maps/map.js';
import type { AttachMethod } from '../link/link.js';
import { MapType } from '../sys/constants.js';
import { mapCreate } from '../sys/commands.js';
import { exists } from '../sys/bpffs.js';
import { pinPath } from './layout.js';

const RECORD_SIZE = 4096;
const KEY = Buffer.alloc(4);

export interface InstallRecord {
  version: string;
  /** sha256 of the object file loaded, so a rebuilt object counts as another version. */
  objectSha256: string;
  cgroup: string;
  trace: boolean;
  maxEntries: number;
  sockopsMethod: AttachMethod;
  msgMethod: AttachMethod;
  installedAt: string;
  /** "draining" after `down` detached sock_ops but connections were still open. */
  state: 'up' | 'draining';
}

export function writeRecord(pinDir: string, record: InstallRecord): void {
  const path = pinPath(pinDir, 'record');
  const map = exists(path)
    ? BpfMap.fromPin(path)
    : new BpfMap(mapCreate({ type: MapType.ARRAY, keySize: 4, valueSize: RECORD_SIZE, maxEntries: 1, flags: 0, name: 'sockaccel_inst' }),
      { name: 'sockaccel_inst', type: MapType.ARRAY, keySize: 4, valueSize: RECORD_SIZE, maxEntries: 1, flags: 0 });
  try {
    const json = Buffer.from(JSON.stringify(record));
    if (json.length >= RECORD_SIZE) throw new Error(`install record too large (${json.length} bytes)`);
    const value = Buffer.alloc(RECORD_SIZE);
    json.copy(value);
    map.update(KEY, value);
    if (!exists(path)) map.pin(path);
  } finally {
    map.close();
  }
}

/** The record, or undefined when there is none (or it cannot be read). */
export function readRecord(pinDir: string): InstallRecord | undefined {
  const path = pinPath(pinDir, 'record');
  if (!exists(path)) return undefined;
  const map = BpfMap.fromPin(path);
  try {
    const value = map.lookup(KEY);
    if (!value) return undefined;
    const end = value.indexOf(0);
    return JSON.parse(value.toString('utf8', 0, end < 0 ? value.length : end)) as InstallRecord;
  } catch {
    return undefined;
  } finally {
    map.close();
  }
}
