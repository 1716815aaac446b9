// `up`: load the accelerator, pin it, attach it. Idempotent: the same settings again change nothing;
// other settings (or another build of the object) replace the old install after it has drained.
// Refuses when another install (another pin dir) already serves this cgroup, an ancestor or a
// descendant of it: a socket can be in only one install's map, so the second would be silently dead.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  bpffsFor, BpfObject, BpfProgram, hasHelper, hasSockmapLinks, ObjectError, pathExists as exists, preparePinPath, ProgType,
  unnarrated, UsageError, withNarration, type Attachment, narrateObject,
} from '../index.js';
import { cgroupContains, resolveCgroup } from './cgroup.js';
import { down } from './down.js';
import { OBJ, packageVersion, pinPath, PIN_NAMES, shippedObject, type PinName } from './layout.js';
import { requirePrivileges } from './privileges.js';
import { findInstalls, readRecord, writeRecord, type InstallRecord } from './record.js';
import { status } from './status.js';
import { DEFAULT_PIN_DIR, type UpOptions, type UpResult } from './types.js';

/** Everything that, when different, makes an install "other settings". */
function sameInstall(a: InstallRecord, b: Omit<InstallRecord, 'installedAt' | 'sockopsMethod' | 'msgMethod' | 'state' | 'createdDirs'>): boolean {
  return a.version === b.version && a.objectSha256 === b.objectSha256 && a.cgroup === b.cgroup
    && a.trace === b.trace && a.maxEntries === b.maxEntries;
}

/** Are the pins an install needs all there (a crash or a hand-deleted pin makes it broken)? */
function complete(pinDir: string, r: InstallRecord): boolean {
  const needed: PinName[] = ['sockHash', 'counters', 'passed', 'sockopsProgram', 'msgProgram'];
  if (r.sockopsMethod === 'link' && r.state === 'up') needed.push('sockopsLink');
  if (r.msgMethod === 'link') needed.push('msgLink');
  return needed.every((n) => exists(pinPath(pinDir, n)));
}

/** sock_ops and sk_msg programs may call bpf_get_netns_cookie from 5.15: our connection key needs it. */
export function hasNetnsCookieInSockops(): boolean {
  return hasHelper(ProgType.SOCK_OPS, 'get_netns_cookie');
}

/** A pin dir must be a directory of its own on bpffs: not the bpffs root, where our generic names would mix with others'. */
function checkPinDir(pinDir: string): string {
  const abs = resolve(pinDir);
  const fs = bpffsFor(abs);
  if (fs === abs) {
    throw new UsageError('BAD_PATH', `--pin-dir ${pinDir} is the root of a bpffs mount`, { hint: `give a directory of its own below it, e.g. ${abs.replace(/\/$/, '')}/sockaccel` });
  }
  return abs;
}

/** Another install whose cgroup overlaps `cgroup` (the same, an ancestor or a descendant), if any. */
function overlappingInstall(pinDir: string, cgroup: string): { pinDir: string; cgroup: string } | undefined {
  for (const other of findInstalls()) {
    if (resolve(other.pinDir) === pinDir) continue;
    const c = other.record.cgroup;
    if (cgroupContains(c, cgroup) || cgroupContains(cgroup, c)) return { pinDir: other.pinDir, cgroup: c };
  }
  return undefined;
}

export async function up(opts: UpOptions = {}): Promise<UpResult> {
  // With explain, every bpf() call is narrated as it is made.
  return withNarration(opts.explain, () => upSteps(opts));
}

async function upSteps(opts: UpOptions): Promise<UpResult> {
  const say = opts.explain ?? (() => {});
  const pinDir = checkPinDir(opts.pinDir ?? DEFAULT_PIN_DIR);
  const cgroup = resolveCgroup(opts.cgroup);
  const objectPath = opts.objectPath ?? shippedObject();
  const objectBytes = readFileSync(objectPath);
  const obj = BpfObject.open(objectBytes, objectPath);
  if (opts.explain) narrateObject(objectBytes, objectPath, say);
  const sockHash = obj.maps.get(OBJ.sockHash);
  if (!sockHash) throw new ObjectError(objectPath, `has no map ${OBJ.sockHash}: it is not the sockaccel object`);
  const maxEntries = opts.maxEntries ?? sockHash.maxEntries;
  const wanted = {
    version: packageVersion(),
    objectSha256: createHash('sha256').update(objectBytes).digest('hex'),
    cgroup,
    trace: !!opts.trace,
    maxEntries,
  };

  requirePrivileges('up');
  const old = readRecord(pinDir);
  if (old && sameInstall(old, wanted) && complete(pinDir, old)) {
    if (old.state === 'up') {
      say(`already up in ${pinDir} with the same settings: nothing to do`);
      return { changed: false, replaced: false, status: finalStatus(pinDir, say) };
    }
    // A `down` stopped half-way (connections were still open): track new connections again.
    resumeTracking(pinDir, old, opts);
    return { changed: true, replaced: false, status: finalStatus(pinDir, say) };
  }
  const other = overlappingInstall(pinDir, cgroup);
  if (other) {
    throw new UsageError('CONFLICT', `cgroup ${cgroup} is already served by the install in ${other.pinDir} (on ${other.cgroup})`, {
      hint: `a socket can be accelerated by one install only: take that one down first (sockaccel-ffi down --pin-dir ${other.pinDir}), or use it`,
    });
  }
  let replaced = false;
  if (old || leftovers(pinDir)) {
    say(old ? `an install with other settings is up in ${pinDir}: taking it down first` : `removing leftovers in ${pinDir}`);
    const r = await down({ pinDir, explain: opts.explain });
    if (!r.complete) {
      throw new UsageError('BUSY', `the old install in ${pinDir} still has ${r.remaining} accelerated connection(s) open, so it cannot be replaced safely yet`, {
        hint: 'run up again once they have closed, or run down --force first',
      });
    }
    replaced = !!old;
  }

  if (!hasNetnsCookieInSockops()) {
    throw new UsageError('NOT_SUPPORTED', 'this kernel does not let sock_ops programs call bpf_get_netns_cookie', {
      hint: 'sockaccel needs Linux 5.15 or newer (the connection key includes the network namespace)',
    });
  }

  const { createdDir } = preparePinPath(pinPath(pinDir, 'record'), `pin directory ${pinDir}`);
  obj.setGlobal(OBJ.traceSwitch, opts.trace ? 1 : 0);
  // The order marks must always find room: keep `passed` at least as large as the socket map.
  const passed = obj.maps.get(OBJ.passed);
  if (passed) passed.maxEntries = Math.max(Math.ceil(passed.maxEntries * maxEntries / sockHash.maxEntries), maxEntries);
  sockHash.maxEntries = maxEntries;
  say(`loading ${objectPath}`);
  const loaded = obj.load({ explain: opts.explain });
  const done: (() => void)[] = [];
  const links: Attachment[] = [];
  try {
    const msg = loaded.programs.get(OBJ.msgProgram)!;
    const sockops = loaded.programs.get(OBJ.sockopsProgram)!;
    const pin = (name: PinName, thing: { pin(path: string): void }) => {
      const path = pinPath(pinDir, name);
      thing.pin(path);
      say(`pinned ${name} at ${path}`);
      done.push(() => rmSync(path, { force: true }));
    };
    pin('sockHash', loaded.maps.get(OBJ.sockHash)!);
    pin('passed', loaded.maps.get(OBJ.passed)!);
    pin('counters', loaded.maps.get(OBJ.counters)!);
    pin('msgProgram', msg);
    pin('sockopsProgram', sockops);

    // sk_msg first: a socket takes the map's programs when it is inserted, so the verdict must be
    // there before sock_ops starts inserting.
    const msgLink = msg.attachToMap(loaded.maps.get(OBJ.sockHash)!, { method: opts.method ?? (hasSockmapLinks() ? 'link' : 'prog_attach') });
    links.push(msgLink);
    done.push(() => msgLink.detach());
    say(`attached ${msgLink.description} with ${msgLink.method}`);
    if (msgLink.method === 'link') pin('msgLink', msgLink);

    const sockopsLink = sockops.attachCgroup(cgroup, { method: opts.method });
    links.push(sockopsLink);
    done.push(() => sockopsLink.detach());
    say(`attached ${sockopsLink.description} with ${sockopsLink.method}`);
    if (sockopsLink.method === 'link') pin('sockopsLink', sockopsLink);

    writeRecord(pinDir, {
      ...wanted, sockopsMethod: sockopsLink.method, msgMethod: msgLink.method, installedAt: new Date().toISOString(), state: 'up',
      createdDirs: createdDir ? [createdDir] : [],
    });
    done.push(() => rmSync(pinPath(pinDir, 'record'), { force: true }));
  } catch (e) {
    // Undo in reverse order: detach before unpinning, so nothing is left attached.
    for (const undo of done.reverse()) {
      try { undo(); } catch { /* keep unwinding; the original error matters more */ }
    }
    throw e;
  } finally {
    for (const l of links) l.close();
    loaded.close();
  }
  return { changed: true, replaced, status: finalStatus(pinDir, say) };
}

/** The status returned by up; its many lookups are not narrated (the status itself is shown). */
function finalStatus(pinDir: string, say: (line: string) => void): ReturnType<typeof status> {
  say(`reading back what is pinned in ${pinDir} for the status (those lookups are not narrated)`);
  return unnarrated(() => status({ pinDir }));
}

/** Re-attach the pinned sock_ops program of a draining install, so it is fully up again. */
function resumeTracking(pinDir: string, record: InstallRecord, opts: UpOptions): void {
  const sockops = BpfProgram.fromPin(pinPath(pinDir, 'sockopsProgram'));
  try {
    const link = sockops.attachCgroup(record.cgroup, { method: opts.method });
    try {
      if (link.method === 'link') link.pin(pinPath(pinDir, 'sockopsLink'));
      writeRecord(pinDir, { ...record, sockopsMethod: link.method, state: 'up' });
    } catch (e) {
      link.detach();
      throw e;
    } finally {
      link.close();
    }
    opts.explain?.(`resumed: ${link.description} with ${link.method}`);
  } finally {
    sockops.close();
  }
}

/** Pins of ours without a record: a crashed `up` or a half-finished `down`. */
function leftovers(pinDir: string): boolean {
  return PIN_NAMES.some((n) => exists(pinPath(pinDir, n)));
}
