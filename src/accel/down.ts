// `down`: remove the accelerator without harming a live connection.
//
// What the kernel tells us: a socket keeps its sk_msg verdict and its redirect queue for as long as
// it is in the SOCKHASH. Removing it from the map while the application still reads (deleting the
// entry, or freeing the map) drops unread redirected data and wakes a blocked recv() with EAGAIN.
// A socket leaves the map by itself when it is closed. So we:
//   1. stop accelerating new connections at once: the config map's `draining` flag (sock_ops stays
//      attached, so accelerated sockets keep their close-time cleanup and the half-close rescue);
//      installs from before that flag existed have their sock_ops detached instead;
//   2. wait (bounded, with progress) until the SOCKHASH is empty, i.e. every accelerated connection
//      has closed; sk_msg and the observers stay attached so those connections keep working;
//   3. then detach everything and remove every pin.
// If connections are still open when the time is up, we stop after step 1 (state "draining") and
// say so; `down` again finishes the job later, `force` does it now at the applications' risk.
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachType, BpfLink, BpfMap, BpfProgram, cgroupAttachment, mapAttachment, pathExists as exists, UsageError, withNarration,
  type ProgAttachment,
} from '../index.js';
import { isOurPin, mapPin, OBJ, pinPath, sockopsLinkPin } from './layout.js';
import { readConfig, writeConfig } from './policy.js';
import { requirePrivileges } from './privileges.js';
import { cgroupsOf, readRecord, writeRecord, type InstallRecord } from './record.js';
import { DEFAULT_PIN_DIR, type DownOptions, type DownResult } from './types.js';

const POLL_MS = 100;
const PROGRESS_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Let go of a pinned link: detached now, or (kinds the kernel cannot detach) gone with its pin. */
function dropLink(path: string, say: (s: string) => void): void {
  const link = BpfLink.fromPin(path);
  try {
    link.detach();
  } catch (e) {
    if (!(e instanceof UsageError && e.code === 'NOT_SUPPORTED')) throw e;
  } finally {
    link.close();
  }
  rmSync(path, { force: true });
  say(`detached and unpinned ${path}`);
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

/** Detach sock_ops from every accelerated cgroup (links by their pins, PROG_ATTACH by program and cgroup). */
function detachSockops(pinDir: string, record: InstallRecord | undefined, say: (s: string) => void): void {
  const cgroups = record ? cgroupsOf(record) : [];
  for (let i = 0; i < Math.max(cgroups.length, 1); i++) {
    const link = sockopsLinkPin(pinDir, i);
    if (exists(link)) dropLink(link, say);
    else if (record?.sockopsMethod === 'prog_attach' && cgroups[i] && exists(cgroups[i]!)) {
      progDetachIfAttached(pinPath(pinDir, 'sockopsProgram'), (prog) => cgroupAttachment(prog, cgroups[i]!, AttachType.CGROUP_SOCK_OPS), say);
    }
  }
  // Excluded cgroups' markers: PROG_ATTACH ones by program and cgroup.
  if (record?.sockopsMethod === 'prog_attach') {
    for (const dir of record.excludeCgroups ?? []) {
      if (exists(dir)) progDetachIfAttached(pinPath(pinDir, 'excludeProgram'), (prog) => cgroupAttachment(prog, dir, AttachType.CGROUP_SOCK_OPS), say);
    }
  }
}

function detachMsg(pinDir: string, say: (s: string) => void): void {
  const link = pinPath(pinDir, 'msgLink');
  if (exists(link)) return dropLink(link, say);
  const mapPath = pinPath(pinDir, 'sockHash');
  if (!exists(mapPath)) return;
  const map = BpfMap.fromPin(mapPath);
  try {
    progDetachIfAttached(pinPath(pinDir, 'msgProgram'), (prog) => mapAttachment(prog, map, AttachType.SK_MSG_VERDICT), say);
  } finally {
    map.close();
  }
}

/** Step 1: no new connection is accelerated. True when done through the config map. */
function startDraining(pinDir: string, record: InstallRecord | undefined, say: (s: string) => void): void {
  const configPath = mapPin(pinDir, OBJ.config);
  if (exists(configPath)) {
    const config = BpfMap.fromPin(configPath);
    try {
      const c = readConfig(config);
      if (c && !c.draining) writeConfig(config, { ...c, draining: true });
      say('config: draining — no new connection is accelerated; sock_ops stays for the accelerated ones');
    } finally {
      config.close();
    }
  } else {
    detachSockops(pinDir, record, say);
    say('sock_ops detached: no new connection is accelerated');
  }
  if (record && record.state !== 'draining') writeRecord(pinDir, { ...record, state: 'draining' });
}

/** Accelerated sockets now: entries of the SOCKHASH (0 when the map is gone). */
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

function ourPins(pinDir: string): string[] {
  try {
    return readdirSync(pinDir).filter(isOurPin);
  } catch {
    return [];
  }
}

export async function down(opts: DownOptions = {}): Promise<DownResult> {
  // With explain, every bpf() call is narrated as it is made.
  return withNarration(opts.explain, () => downSteps(opts));
}

async function downSteps(opts: DownOptions): Promise<DownResult> {
  const say = opts.explain ?? (() => {});
  const pinDir = opts.pinDir ?? DEFAULT_PIN_DIR;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (ourPins(pinDir).length === 0) {
    say(`nothing of ours is pinned in ${pinDir}: nothing to do`);
    return { wasUp: false, complete: true, remaining: 0, waitedMs: 0 };
  }
  requirePrivileges('down');
  const record = readRecord(pinDir);

  // 1. Stop accelerating new connections.
  startDraining(pinDir, record, say);

  // 2. Wait for the accelerated connections to close.
  const start = Date.now();
  let remaining = trackedConnections(pinDir);
  say(`${remaining} socket(s) still in the SOCKHASH`);
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
    say(`${remaining} accelerated socket(s) still open after ${Math.round(waitedMs / 1000)}s: leaving sk_msg and the map in place`);
    return { wasUp: true, complete: false, remaining, waitedMs };
  }
  if (remaining > 0) say(`forced: removing the map under ${remaining} open accelerated socket(s)`);

  // 3. Nothing accelerated is left (or forced): remove the rest. sock_ops first (nothing inserts),
  // then the observers and markers, then sk_msg, then every pin.
  detachSockops(pinDir, record, say);
  for (const name of ourPins(pinDir).filter((n) => n.startsWith('link_') && n !== 'link_msg')) dropLink(join(pinDir, name), say);
  detachMsg(pinDir, say);
  for (const name of ourPins(pinDir)) {
    rmSync(join(pinDir, name), { force: true });
    say(`unpinned ${join(pinDir, name)}`);
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

/** The pin dir and the parents `up` created for it, innermost first (installs from before that was recorded: the pin dir). */
function dirsToRemove(pinDir: string, record: InstallRecord | undefined): string[] {
  if (!record?.createdDirs) return [pinDir];
  const created = record.createdDirs[0];
  if (!created) return [];
  const out: string[] = [];
  for (let d = pinDir; d.length >= created.length && d.startsWith(created); d = d.slice(0, d.lastIndexOf('/'))) out.push(d);
  return out;
}
