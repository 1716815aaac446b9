// The install record: what `up` installed and how, so that `up` can tell "already up, same settings"
// from "replace", `status`/`down` know where things are attached, and a second `up` elsewhere can see
// that a cgroup is already served. bpffs only holds BPF objects, so the record lives in a pinned
// one-element ARRAY map as JSON.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BpfMap, DEFAULT_BPFFS, MapType, pathExists, readMounts, type AttachMethod } from '../index.js';
import type { Policy } from './types.js';
import { pinPath, PIN, RECORD_MAP_NAME } from './layout.js';

const RECORD_SIZE = 4096;
const KEY = Buffer.alloc(4);

export interface InstallRecord {
  version: string;
  /** sha256 of the object file loaded, so a rebuilt object counts as another version. */
  objectSha256: string;
  /** The first accelerated cgroup (the only one before several were possible). */
  cgroup: string;
  /** Every accelerated cgroup (sock_ops attached to each; links link_sockops, link_sockops_1, …). */
  cgroups?: string[];
  /** cgroups below those whose connections stay on TCP (marker links link_exclude_N). */
  excludeCgroups?: string[];
  policy?: Policy;
  ports?: number[];
  excludePorts?: number[];
  /** Which observers run: "tp_btf", "fexit" or "none". */
  observers?: string;
  trace: boolean;
  maxEntries: number;
  sockopsMethod: AttachMethod;
  msgMethod: AttachMethod;
  installedAt: string;
  /** "draining" after `down` detached sock_ops but connections were still open. */
  state: 'up' | 'draining';
  /** Directories `up` created for the pin dir (outermost first): `down` removes them again when empty. */
  createdDirs?: string[];
}

export function writeRecord(pinDir: string, record: InstallRecord): void {
  const path = pinPath(pinDir, 'record');
  const map = pathExists(path)
    ? BpfMap.fromPin(path)
    : BpfMap.create({ name: RECORD_MAP_NAME, type: MapType.ARRAY, keySize: 4, valueSize: RECORD_SIZE, maxEntries: 1, flags: 0 });
  try {
    const json = Buffer.from(JSON.stringify(record));
    if (json.length >= RECORD_SIZE) throw new Error(`install record too large (${json.length} bytes)`);
    const value = Buffer.alloc(RECORD_SIZE);
    json.copy(value);
    map.update(KEY, value);
    if (!pathExists(path)) map.pin(path);
  } finally {
    map.close();
  }
}

/** The record, or undefined when there is none (or it cannot be read). */
export function readRecord(pinDir: string): InstallRecord | undefined {
  const path = pinPath(pinDir, 'record');
  if (!pathExists(path)) return undefined;
  let map: BpfMap | undefined;
  try {
    map = BpfMap.fromPin(path);
    if (map.name !== RECORD_MAP_NAME) return undefined;
    const value = map.lookup(KEY);
    if (!value) return undefined;
    const end = value.indexOf(0);
    return JSON.parse(value.toString('utf8', 0, end < 0 ? value.length : end)) as InstallRecord;
  } catch {
    return undefined;
  } finally {
    map?.close();
  }
}

/** The accelerated cgroups of a record (old records have only `cgroup`). */
export function cgroupsOf(r: InstallRecord): string[] {
  return r.cgroups?.length ? r.cgroups : [r.cgroup];
}

/** Every install on this machine's bpffs mounts (pin dirs up to 4 levels deep), with its record. */
export function findInstalls(): { pinDir: string; record: InstallRecord }[] {
  const roots = [...new Set([DEFAULT_BPFFS, ...readMounts().filter((m) => m.fstype === 'bpf').map((m) => m.target)])];
  const found: { pinDir: string; record: InstallRecord }[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.name === PIN.record && !e.isDirectory())) {
      const record = readRecord(dir);
      if (record) found.push({ pinDir: dir, record });
    }
    if (depth < 4) for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return found;
}
