// `status` and `stats`: read what is pinned, ask the kernel for ids and counts. Read-only.
import { BpfLink, BpfMap, BpfProgram, pathExists as exists, UsageError } from '../index.js';
import { readCounters, toStats } from './counters.js';
import { readdirSync } from 'node:fs';
import { isOurPin, mapPin, OBJ, pinPath, sockopsLinkPin } from './layout.js';
import { listServices, type ServiceInfo } from './policy.js';
import { cgroupsOf, readRecord } from './record.js';
import { requirePrivileges } from './privileges.js';
import { DEFAULT_PIN_DIR, type Stats, type Status } from './types.js';

function withPinned<T, O extends { close(): void }>(open: (path: string) => O, path: string, use: (o: O) => T): T | undefined {
  if (!exists(path)) return undefined;
  const o = open(path);
  try {
    return use(o);
  } finally {
    o.close();
  }
}

export function status(opts: { pinDir?: string } = {}): Status {
  // Pins are readable by root only: without privileges "not up" could be a lie.
  requirePrivileges('status');
  const pinDir = opts.pinDir ?? DEFAULT_PIN_DIR;
  const record = readRecord(pinDir);
  let anyPin = false;
  try { anyPin = readdirSync(pinDir).some(isOurPin); } catch { /* no pin dir */ }
  if (!record && !anyPin) return { up: false, pinDir };
  const progId = (name: 'sockopsProgram' | 'msgProgram') => withPinned((p) => BpfProgram.fromPin(p), pinPath(pinDir, name), (p) => p.info().id) ?? 0;
  const linkId = (path: string) => withPinned(BpfLink.fromPin, path, (l) => l.info().id);
  const mapId = (name: 'sockHash' | 'passed' | 'counters') => withPinned(BpfMap.fromPin, pinPath(pinDir, name), (m) => m.info().id) ?? 0;
  const state = record?.state ?? 'draining';
  return {
    up: state === 'up',
    state,
    pinDir,
    cgroup: record?.cgroup,
    cgroups: record ? cgroupsOf(record) : undefined,
    excludeCgroups: record?.excludeCgroups,
    policy: record?.policy ?? (record ? 'all' : undefined),
    ports: record?.ports,
    excludePorts: record?.excludePorts,
    observers: record?.observers,
    services: withPinned(BpfMap.fromPin, mapPin(pinDir, OBJ.services), (m) => summarize(listServices(m))),
    trace: record?.trace,
    version: record?.version,
    installedAt: record?.installedAt,
    maxEntries: record?.maxEntries,
    sockops: state === 'up' && record ? {
      method: record.sockopsMethod, programId: progId('sockopsProgram'), linkId: linkId(sockopsLinkPin(pinDir, 0)),
      linkIds: cgroupsOf(record).map((_, i) => linkId(sockopsLinkPin(pinDir, i))).filter((x): x is number => x !== undefined),
    } : undefined,
    msg: record ? { method: record.msgMethod, programId: progId('msgProgram'), linkId: linkId(pinPath(pinDir, 'msgLink')) } : undefined,
    maps: { sockHash: mapId('sockHash'), passed: mapId('passed'), counters: mapId('counters') },
    connections: withPinned(BpfMap.fromPin, pinPath(pinDir, 'sockHash'), (m) => m.count()) ?? 0,
  };
}

function summarize(list: ServiceInfo[]): NonNullable<Status['services']> {
  return {
    total: list.length,
    accelerated: list.filter((x) => x.verdict === 'accelerate').length,
    tcp: list.filter((x) => x.verdict === 'tcp').length,
    probation: list.filter((x) => x.verdict === 'probation').length,
  };
}

/** The services learned by an install: server address and port, verdict and why. */
export function services(opts: { pinDir?: string } = {}): ServiceInfo[] {
  requirePrivileges('services');
  const pinDir = opts.pinDir ?? DEFAULT_PIN_DIR;
  const path = mapPin(pinDir, OBJ.services);
  const list = withPinned(BpfMap.fromPin, path, (m) => listServices(m));
  if (!list) throw new UsageError('NOT_INSTALLED', `no learned services pinned at ${path}: sockaccel is not up there (or was installed before the learning policy)`, { hint: 'run `sockaccel-ffi up` first (or pass the --pin-dir it was installed with)' });
  return list;
}

export function stats(opts: { pinDir?: string } = {}): Stats {
  requirePrivileges('stats');
  const pinDir = opts.pinDir ?? DEFAULT_PIN_DIR;
  const path = pinPath(pinDir, 'counters');
  const s = withPinned(BpfMap.fromPin, path, (m) => toStats(readCounters(m)));
  if (!s) {
    throw new UsageError('NOT_INSTALLED', `sockaccel is not up: no counters pinned at ${path}`, { hint: 'run `sockaccel-ffi up` first (or pass the --pin-dir it was installed with)' });
  }
  return s;
}
