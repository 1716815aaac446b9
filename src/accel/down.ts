// `down`: remove the accelerator without harming a live connection.
//
// What the kernel tells us: a socket keeps its sk_msg verdict and its redirect queue for as long as
// it is in the SOCKHASH. Removing it from the map while the application still reads (deleting the
// entry, or freeing the map) drops unread redirected data and wakes a blocked recv() with EAGAIN.
// A socket leaves the map by itself when it is closed. So we:
//   1. detach sock_ops at once: no new connection is accelerated from here on;
//   2. wait (bounded, with progress) until the SOCKHASH is empty, i.e. every accelerated connection
//      has closed; the sk_msg program stays attached so those connections keep working;
//   3. then detach sk_msg and remove every pin.
// If connections are still open when the time is up, we stop after step 1 (state "draining") and
// say so; `down` again finishes the job later, `force` does it now at the applications' risk.
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { AttachType, BpfLink, BpfMap, BpfProgram, cgroupAttachment, mapAttachment, pathExists as exists, withNarration, type ProgAttachment } from '../index.js';
import { pinPath, PIN_NAMES } from './layout.js';
import { requirePrivileges } from './privileges.js';
import { readRecord, writeRecord, type InstallRecord } from './record.js';
import { DEFAULT_PIN_DIR, type DownOptions, type DownResult } from './types.js';

const POLL_MS = 100;
const PROGRESS_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Detach whatever is attached through `linkName` or, for PROG_ATTACH installs, by program + target. */
function detach(pinDir: string, linkName: 'sockopsLink' | 'msgLink', fallback: () => void, say: (s: string) => void): void {
  const linkPath = pinPath(pinDir, linkName);
  if (exists(linkPath)) {
    const link = BpfLink.fromPin(linkPath);
    try {
      link.detach();
    } finally {
      link.close();
    }
    rmSync(linkPath, { force: true });
    say(`detached and unpinned ${linkPath}`);
    return;
  }
  fallback();
}

/** PROG_DETACH of the pinned program, ignoring "not attached" (a half-finished earlier down may have done it already). */
function progDetachIfAttached(progPath: string, attachment: (prog: BpfProgram) => ProgAttachment | undefined, say: (s: string) => void): void {
  if (!exists(progPath)) return;
  const prog = BpfProgram.fromPin(progPath);
  try {
    const a = attachment(prog);
    if (!a) return;
    try {
      if (a.detach({ ifAttached: true })) say(`detached ${a.description} (BPF_PROG_DETACH)`);
    } finally {
      a.close();
    }
  } finally {
    prog.close();
  }
}

function detachSockops(pinDir: string, record: InstallRecord | undefined, say: (s: string) => void): void {
  detach(pinDir, 'sockopsLink', () => {
    if (record?.sockopsMethod !== 'prog_attach' || !exists(record.cgroup)) return;
    progDetachIfAttached(pinPath(pinDir, 'sockopsProgram'), (prog) => cgroupAttachment(prog, record.cgroup, AttachType.CGROUP_SOCK_OPS), say);
  }, say);
}

function detachMsg(pinDir: string, say: (s: string) => void): void {
  detach(pinDir, 'msgLink', () => {
    const mapPath = pinPath(pinDir, 'sockHash');
    if (!exists(mapPath)) return;
    const map = BpfMap.fromPin(mapPath);
    try {
      progDetachIfAttached(pinPath(pinDir, 'msgProgram'), (prog) => mapAttachment(prog, map, AttachType.SK_MSG_VERDICT), say);
    } finally {
      map.close();
    }
  }, say);
}

/** The pin dir and the parents `up` created for it, innermost first (installs from before that was recorded: the pin dir). */
function dirsToRemove(pinDir: string, record: InstallRecord | undefined): string[] {
  if (!record?.createdDirs) return [pinDir];
  const created = record.createdDirs[0];
  if (!created) return [];
  const out: string[] = [];
  for (let d = pinDir; d.length >= created.length && d.startsWith(created); d = d.slice(0, d.lastIndexOf('/'))) out.push(d);
  return out;
}

/** Accelerated connections now: sockets in the SOCKHASH (0 when the map is gone). */
export function trackedConnections(pinDir: string): number {
  const path = pinPath(pinDir, 'sockHash');
  if (!exists(path)) return 0;
  const map = BpfMap.fromPin(path);
  try {
    return map.count();
  } finally {
    map.close();
  }
}

export async function down(opts: DownOptions = {}): Promise<DownResult> {
  // With explain, every bpf() call is narrated as it is made (sys/explain.ts).
  return withNarration(opts.explain, () => downSteps(opts));
}

async function downSteps(opts: DownOptions): Promise<DownResult> {
  const say = opts.explain ?? (() => {});
  const pinDir = opts.pinDir ?? DEFAULT_PIN_DIR;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ours = PIN_NAMES.filter((n) => exists(pinPath(pinDir, n)));
  if (ours.length === 0) {
    say(`nothing of ours is pinned in ${pinDir}: nothing to do`);
    return { wasUp: false, complete: true, remaining: 0, waitedMs: 0 };
  }
  requirePrivileges('down');
  const record = readRecord(pinDir);

  // 1. Stop tracking new connections.
  detachSockops(pinDir, record, say);
  if (record && record.state !== 'draining') writeRecord(pinDir, { ...record, state: 'draining' });

  // 2. Wait for the accelerated connections to close.
  const start = Date.now();
  let remaining = trackedConnections(pinDir);
  say(`sock_ops is detached: no new connection is accelerated; ${remaining} socket(s) still in the SOCKHASH`);
  let lastProgress = 0;
  while (remaining > 0 && Date.now() - start < timeoutMs && !opts.force) {
    const elapsed = Date.now() - start;
    if (elapsed - lastProgress >= PROGRESS_MS || lastProgress === 0) {
      opts.onProgress?.(remaining, elapsed);
      lastProgress = elapsed || 1;
    }
    await sleep(POLL_MS);
    remaining = trackedConnections(pinDir);
  }
  const waitedMs = Date.now() - start;
  if (remaining > 0 && !opts.force) {
    say(`${remaining} accelerated connection(s) still open after ${Math.round(waitedMs / 1000)}s: leaving sk_msg and the map in place`);
    return { wasUp: true, complete: false, remaining, waitedMs };
  }
  if (remaining > 0) say(`forced: removing the map under ${remaining} open accelerated connection(s)`);

  // 3. Nothing accelerated is left (or forced): remove the rest.
  detachMsg(pinDir, say);
  for (const name of PIN_NAMES) {
    const path = pinPath(pinDir, name);
    if (exists(path)) {
      rmSync(path, { force: true });
      say(`unpinned ${path}`);
    }
  }
  // The pin dir, and the parents `up` created for it, go when empty (a dir shared with other pins stays).
  for (const dir of dirsToRemove(pinDir, record)) {
    try {
      if (readdirSync(dir).length > 0) break;
      rmdirSync(dir);
      say(`removed the empty directory ${dir}`);
    } catch {
      break;
    }
  }
  return { wasUp: true, complete: true, remaining, waitedMs };
}
