// `status` and `stats`: read what is pinned, ask the kernel for ids and counts. Read-only.
import { BpfLink, BpfMap, BpfProgram, pathExists as exists, UsageError } from '../index.js';
import { readCounters, toStats } from './counters.js';
import { pinPath, PIN_NAMES } from './layout.js';
import { readRecord } from './record.js';
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
  const anyPin = PIN_NAMES.some((n) => exists(pinPath(pinDir, n)));
  if (!record && !anyPin) return { up: false, pinDir };
  const progId = (name: 'sockopsProgram' | 'msgProgram') => withPinned((p) => BpfProgram.fromPin(p), pinPath(pinDir, name), (p) => p.info().id) ?? 0;
  const linkId = (name: 'sockopsLink' | 'msgLink') => withPinned(BpfLink.fromPin, pinPath(pinDir, name), (l) => l.info().id);
  const mapId = (name: 'sockHash' | 'passed' | 'counters') => withPinned(BpfMap.fromPin, pinPath(pinDir, name), (m) => m.info().id) ?? 0;
  const state = record?.state ?? 'draining';
  return {
    up: state === 'up',
    state,
    pinDir,
    cgroup: record?.cgroup,
    trace: record?.trace,
    version: record?.version,
    installedAt: record?.installedAt,
    maxEntries: record?.maxEntries,
    sockops: state === 'up' && record ? { method: record.sockopsMethod, programId: progId('sockopsProgram'), linkId: linkId('sockopsLink') } : undefined,
    msg: record ? { method: record.msgMethod, programId: progId('msgProgram'), linkId: linkId('msgLink') } : undefined,
    maps: { sockHash: mapId('sockHash'), passed: mapId('passed'), counters: mapId('counters') },
    connections: withPinned(BpfMap.fromPin, pinPath(pinDir, 'sockHash'), (m) => m.count()) ?? 0,
  };
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
