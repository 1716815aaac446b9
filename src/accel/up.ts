// `up`: load the accelerator, pin it, attach it. Idempotent: the same settings again change nothing;
// a change of policy, ports or tracing is applied in place (the config maps, no reload); other
// settings (cgroups, object, map size) replace the old install after it has drained.
// Refuses when another install (another pin dir) already serves one of the cgroups, an ancestor or
// a descendant: a socket can be in only one install's map, so the second would be silently dead.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  bpffsFor, BpfMap, BpfObject, BpfProgram, hasHelper, hasSockmapLinks, ObjectError, pathExists as exists, preparePinPath, ProgType,
  unnarrated, UsageError, withNarration, narrateObject, cgroupV2Root, hasBtfTracepoint, type Attachment, type LoadedObject,
} from '../index.js';
import { cgroupContains, resolveCgroup } from './cgroup.js';
import { down, trackedConnections } from './down.js';
import {
  ALL_OBSERVERS, excludeLinkPin, isOurPin, mapPin, MAP_NAMES, OBJ, OBSERVERS, observerLinkPin, packageVersion, pinPath, programPin,
  shippedObject, sockopsLinkPin,
} from './layout.js';
import { checkPorts, DEFAULT_THRESHOLDS, readConfig, writeConfig, writePortRules, type PolicyConfig } from './policy.js';
import { requirePrivileges } from './privileges.js';
import { cgroupsOf, findInstalls, readRecord, writeRecord, type InstallRecord } from './record.js';
import { status } from './status.js';
import { DEFAULT_PIN_DIR, type Policy, type UpOptions, type UpResult } from './types.js';

type Wanted = Pick<InstallRecord, 'version' | 'objectSha256' | 'cgroup' | 'cgroups' | 'excludeCgroups' | 'policy' | 'ports' | 'excludePorts' | 'trace' | 'maxEntries'>;

const same = (a: readonly unknown[] = [], b: readonly unknown[] = []) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What needs a new load when it differs: the object, where it is attached, the map size. */
function sameShape(a: InstallRecord, b: Wanted): boolean {
  return a.version === b.version && a.objectSha256 === b.objectSha256 && same(cgroupsOf(a), b.cgroups)
    && same(a.excludeCgroups, b.excludeCgroups) && a.maxEntries === b.maxEntries;
}

/** What the config maps carry, changed in place. */
function sameSettings(a: InstallRecord, b: Wanted): boolean {
  return (a.policy ?? 'all') === b.policy && same(a.ports, b.ports) && same(a.excludePorts, b.excludePorts) && a.trace === b.trace;
}

/** What an in-place change changes, in words ("policy learn → all", "resumed from draining"). */
function settingChanges(a: InstallRecord, b: Wanted): string[] {
  const list = (xs?: readonly number[]) => (xs?.length ? xs.join(',') : 'none');
  const out: string[] = [];
  if ((a.policy ?? 'all') !== b.policy) out.push(`policy ${a.policy ?? 'all'} → ${b.policy}`);
  if (!same(a.ports, b.ports)) out.push(`ports ${list(a.ports)} → ${list(b.ports)}`);
  if (!same(a.excludePorts, b.excludePorts)) out.push(`excluded ports ${list(a.excludePorts)} → ${list(b.excludePorts)}`);
  if (a.trace !== b.trace) out.push(`trace ${a.trace ? 'on' : 'off'} → ${b.trace ? 'on' : 'off'}`);
  if (a.state !== 'up') out.push('resumed from draining');
  return out;
}

/** What a replacement changes, in words ("cgroups /a → /b", "maxEntries 65535 → 1024"). */
function shapeChanges(a: InstallRecord, b: Wanted): string[] {
  const out: string[] = [];
  const list = (xs: readonly string[] = []) => (xs.length ? xs.join(',') : 'none');
  if (a.version !== b.version) out.push(`version ${a.version} → ${b.version}`);
  else if (a.objectSha256 !== b.objectSha256) out.push('another build of the BPF object');
  if (!same(cgroupsOf(a), b.cgroups)) out.push(`cgroups ${list(cgroupsOf(a))} → ${list(b.cgroups)}`);
  if (!same(a.excludeCgroups, b.excludeCgroups)) out.push(`excluded cgroups ${list(a.excludeCgroups)} → ${list(b.excludeCgroups)}`);
  if (a.maxEntries !== b.maxEntries) out.push(`maxEntries ${a.maxEntries} → ${b.maxEntries}`);
  return out.length ? out : ['its pins are incomplete'];
}

/** sock_ops and sk_msg programs may call bpf_get_netns_cookie from 5.15: our connection key needs it. */
export function hasNetnsCookieInSockops(): boolean {
  return hasHelper(ProgType.SOCK_OPS, 'get_netns_cookie');
}

/** A pin dir must be a directory of its own on bpffs: not the bpffs root, where our generic names would mix with others'. */
function checkPinDir(pinDir: string): string {
  const abs = resolve(pinDir);
  if (bpffsFor(abs) === abs) {
    throw new UsageError('BAD_PATH', `--pin-dir ${pinDir} is the root of a bpffs mount`, { hint: `give a directory of its own below it, e.g. ${abs.replace(/\/$/, '')}/sockaccel` });
  }
  return abs;
}

/** Another install whose cgroups overlap ours (the same, an ancestor or a descendant), if any. */
function overlappingInstall(pinDir: string, cgroups: string[]): { pinDir: string; cgroup: string; ours: string } | undefined {
  for (const other of findInstalls()) {
    if (resolve(other.pinDir) === pinDir) continue;
    for (const c of cgroupsOf(other.record)) {
      for (const ours of cgroups) if (cgroupContains(c, ours) || cgroupContains(ours, c)) return { pinDir: other.pinDir, cgroup: c, ours };
    }
  }
  return undefined;
}

/** The settings, checked: cgroups (the root when none), excluded ones inside them, policy, ports. */
function settings(opts: UpOptions): { cgroups: string[]; excludeCgroups: string[]; policy: Policy; ports: number[]; excludePorts: number[] } {
  const given = opts.cgroup === undefined ? [] : Array.isArray(opts.cgroup) ? opts.cgroup : [opts.cgroup];
  const cgroups = given.length ? [...new Set(given.map((c) => resolveCgroup(c)))] : [cgroupV2Root()];
  const excludeCgroups = [...new Set((opts.excludeCgroups ?? []).map((c) => resolveCgroup(c)))];
  for (const e of excludeCgroups) {
    if (!cgroups.some((c) => c !== e && cgroupContains(c, e))) {
      throw new UsageError('BAD_ARGUMENT', `--exclude-cgroup ${e} is not below an accelerated cgroup (${cgroups.join(', ')})`, { hint: 'exclude a cgroup inside one given with --cgroup (or inside the whole machine)' });
    }
  }
  const policy = opts.policy ?? 'learn';
  if (policy !== 'learn' && policy !== 'all') throw new UsageError('BAD_ARGUMENT', `unknown policy "${String(policy)}": use "learn" or "all"`);
  if (policy === 'all' && !given.length) {
    throw new UsageError('BAD_ARGUMENT', 'policy "all" accelerates splice(2) readers (they lose data) and blocking readers (EAGAIN) too, so it needs an explicit --cgroup, never the whole machine', {
      hint: 'give --cgroup DIR for services known to read with recv()/read() in non-blocking mode, or use the default policy "learn"',
    });
  }
  const ports = [...new Set(opts.ports ?? [])].sort((a, b) => a - b);
  const excludePorts = [...new Set(opts.excludePorts ?? [])].sort((a, b) => a - b);
  checkPorts(ports, excludePorts);
  return { cgroups, excludeCgroups, policy, ports, excludePorts };
}

function configOf(w: Pick<Wanted, 'policy' | 'trace' | 'ports'>, draining = false): PolicyConfig {
  return { policy: w.policy ?? 'learn', draining, trace: w.trace, portFilter: (w.ports?.length ?? 0) > 0, ...DEFAULT_THRESHOLDS };
}

export async function up(opts: UpOptions = {}): Promise<UpResult> {
  // With explain, every bpf() call is narrated as it is made.
  return withNarration(opts.explain, () => upSteps(opts));
}

async function upSteps(opts: UpOptions): Promise<UpResult> {
  const say = opts.explain ?? (() => {});
  const pinDir = checkPinDir(opts.pinDir ?? DEFAULT_PIN_DIR);
  const s = settings(opts);
  const objectPath = opts.objectPath ?? shippedObject();
  const objectBytes = readFileSync(objectPath);
  const obj = BpfObject.open(objectBytes, objectPath);
  if (opts.explain) narrateObject(objectBytes, objectPath, say);
  const sockHash = obj.maps.get(OBJ.sockHash);
  if (!sockHash) throw new ObjectError(objectPath, `has no map ${OBJ.sockHash}: it is not the sockaccel object`);
  const maxEntries = opts.maxEntries ?? sockHash.maxEntries;
  // Two entries per connection; the order-marks map is sized from it. 2^20 sockets is far beyond any
  // same-host workload and keeps both maps' memory within reason.
  if (!Number.isInteger(maxEntries) || maxEntries < 2 || maxEntries > 1 << 20) {
    throw new UsageError('BAD_ARGUMENT', `maxEntries ${maxEntries} is not a whole number from 2 to ${1 << 20}`, { hint: 'it counts sockets: two per accelerated connection' });
  }
  const wanted: Wanted = {
    version: packageVersion(),
    objectSha256: createHash('sha256').update(objectBytes).digest('hex'),
    cgroup: s.cgroups[0]!,
    cgroups: s.cgroups,
    excludeCgroups: s.excludeCgroups,
    policy: s.policy,
    ports: s.ports,
    excludePorts: s.excludePorts,
    trace: !!opts.trace,
    maxEntries,
  };

  requirePrivileges('up');
  const old = readRecord(pinDir);
  if (old && sameShape(old, wanted) && complete(pinDir, old)) {
    const changed = !sameSettings(old, wanted) || old.state !== 'up';
    if (!changed) {
      say(`already up in ${pinDir} with the same settings: nothing to do`);
      return { changed: false, replaced: false, status: finalStatus(pinDir, say) };
    }
    // Policy, ports, tracing, or a `down` that stopped half-way: the config maps change in place,
    // and the connections accelerated now stay accelerated.
    applyInPlace(pinDir, old, wanted, say);
    return { changed: true, replaced: false, inPlace: settingChanges(old, wanted), status: finalStatus(pinDir, say) };
  }
  const other = overlappingInstall(pinDir, s.cgroups);
  if (other) {
    throw new UsageError('CONFLICT', `cgroup ${other.ours} is already served by the install in ${other.pinDir} (on ${other.cgroup})`, {
      hint: `a socket can be accelerated by one install only: take that one down first (sockaccel-ffi down --pin-dir ${other.pinDir}), or use it`,
    });
  }
  if (old && opts.whenBusy === 'refuse') {
    // The caller (the agent) would rather keep the old install running than drain it now.
    const open = trackedConnections(pinDir);
    if (open > 0) {
      throw new UsageError('BUSY', `the install in ${pinDir} has other settings (${shapeChanges(old, wanted).join(', ')}) and ${open} accelerated socket(s) open: left as it is`, {
        hint: 'replacing it means waiting for those to close: run up again once they have (or down first)',
      });
    }
  }
  let replaced = false;
  if (old || leftovers(pinDir)) {
    say(old ? `an install with other settings is up in ${pinDir}: taking it down first` : `removing leftovers in ${pinDir}`);
    const r = await down({ pinDir, explain: opts.explain });
    if (!r.complete) {
      throw new UsageError('BUSY', `the old install in ${pinDir} still has ${r.remaining} accelerated socket(s) open, so it cannot be replaced safely yet`, {
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

  // The order marks must always find room: keep `passed` at least as large as the socket map.
  const passed = obj.maps.get(OBJ.passed);
  if (passed) passed.maxEntries = Math.max(Math.ceil(passed.maxEntries * maxEntries / sockHash.maxEntries), maxEntries);
  sockHash.maxEntries = maxEntries;
  if (!s.excludeCgroups.length) obj.programs.delete(OBJ.excludeProgram);
  const { createdDir } = preparePinPath(pinPath(pinDir, 'record'), `pin directory ${pinDir}`);
  const done: (() => void)[] = [];
  // A failed up leaves no directory it made behind (undone last: after the pins in it).
  if (createdDir) done.push(() => rmSync(createdDir, { recursive: true, force: true }));
  const links: Attachment[] = [];
  let loaded: LoadedObject | undefined;
  try {
    const { loaded: l, observers } = loadWithObservers(obj, s.policy, objectPath, say, opts.explain);
    loaded = l;
    const maps = l.maps;
    writeConfig(maps.get(OBJ.config)!, configOf(wanted));
    writePortRules(maps.get(OBJ.portRules)!, s.ports, s.excludePorts);
    const pin = (path: string, thing: { pin(path: string): void }, what: string) => {
      thing.pin(path);
      say(`pinned ${what} at ${path}`);
      done.push(() => rmSync(path, { force: true }));
    };
    for (const name of MAP_NAMES) { const m = maps.get(name); if (m) pin(mapPin(pinDir, name), m, `map ${name}`); }
    for (const [name, prog] of l.programs) pin(programPin(pinDir, progPinName(name)), prog, `program ${name}`);
    const attach = (a: Attachment, path: string) => {
      links.push(a);
      done.push(() => { try { a.detach(); } catch { /* kinds that cannot detach go with their pin */ } });
      say(`attached ${a.description} with ${a.method}`);
      if (a.method === 'link') pin(path, a, a.description);
    };

    // sk_msg first: a socket takes the map's programs when it is inserted, so the verdict must be
    // there before sock_ops starts inserting. Observers next, so connections are observed from
    // their first byte; excluded cgroups' markers before the sock_ops that reads them.
    const msg = l.programs.get(OBJ.msgProgram)!;
    attach(msg.attachToMap(maps.get(OBJ.sockHash)!, { method: opts.method ?? (hasSockmapLinks() ? 'link' : 'prog_attach') }), pinPath(pinDir, 'msgLink'));
    for (const name of ALL_OBSERVERS) {
      const prog = l.programs.get(name);
      if (prog) attach(prog.attach(), observerLinkPin(pinDir, name));
    }
    const exclude = l.programs.get(OBJ.excludeProgram);
    s.excludeCgroups.forEach((dir, i) => attach(exclude!.attachCgroup(dir, { method: opts.method }), excludeLinkPin(pinDir, i)));
    const sockops = l.programs.get(OBJ.sockopsProgram)!;
    let sockopsMethod: InstallRecord['sockopsMethod'] = 'link';
    s.cgroups.forEach((dir, i) => {
      const a = sockops.attachCgroup(dir, { method: opts.method });
      sockopsMethod = a.method;
      attach(a, sockopsLinkPin(pinDir, i));
    });

    writeRecord(pinDir, {
      ...wanted, observers, sockopsMethod, msgMethod: links[0]!.method, installedAt: new Date().toISOString(), state: 'up',
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
    for (const a of links) a.close();
    loaded?.close();
  }
  return { changed: true, replaced, status: finalStatus(pinDir, say) };
}

/** Program pin names: prog_sockops, prog_msg, prog_exclude, prog_obs_… */
function progPinName(program: string): string {
  return program === OBJ.sockopsProgram ? 'sockops' : program === OBJ.msgProgram ? 'msg' : program === OBJ.excludeProgram ? 'exclude' : program;
}

/**
 * Load the object with the observers this kernel can run: BTF-typed tracepoints on 6.3+, fexit
 * where trampolines exist, none otherwise (then nothing is learned: the policy keeps every
 * connection on TCP, and says so). Policy "all" needs no observers.
 */
function loadWithObservers(obj: BpfObject, policy: Policy, file: string, say: (l: string) => void, explain?: (l: string) => void): { loaded: LoadedObject; observers: string } {
  const drop = (names: readonly string[]) => { for (const n of names) obj.programs.delete(n); };
  if (policy === 'all') {
    drop(ALL_OBSERVERS);
    say(`loading ${file} without observers (policy "all" learns nothing)`);
    return { loaded: obj.load({ explain }), observers: 'none' };
  }
  if (hasBtfTracepoint('sock_send_length') && hasBtfTracepoint('sock_recv_length')) {
    drop(OBSERVERS.fexit);
    say(`loading ${file} with tp_btf observers (sock_send_length / sock_recv_length)`);
    return { loaded: obj.load({ explain }), observers: 'tp_btf' };
  }
  drop(OBSERVERS.tp_btf);
  const fexit = new Map([...obj.programs].filter(([n]) => (OBSERVERS.fexit as readonly string[]).includes(n)));
  try {
    say(`loading ${file} with fexit observers (tcp_sendmsg, inet_recvmsg, inet6_recvmsg: this kernel has no sock_send_length tracepoint)`);
    return { loaded: obj.load({ explain }), observers: 'fexit' };
  } catch (e) {
    if (!fexit.size || !(e instanceof Error && /obs_(send|recv|recv6)_fexit/.test(e.message))) throw e;
    drop(OBSERVERS.fexit);
    say(`the kernel refused the fexit observers (${e.message.split('\n')[0]}): loading without them; the policy then learns nothing and keeps connections on TCP`);
    return { loaded: obj.load({ explain }), observers: 'none' };
  }
}

/** Are the pins an install needs all there (a crash or a hand-deleted pin makes it broken)? */
function complete(pinDir: string, r: InstallRecord): boolean {
  const needed = [pinPath(pinDir, 'sockHash'), pinPath(pinDir, 'counters'), pinPath(pinDir, 'passed'), pinPath(pinDir, 'sockopsProgram'), pinPath(pinDir, 'msgProgram')];
  if (r.policy) needed.push(pinPath(pinDir, 'config'));
  if (r.sockopsMethod === 'link' && (r.state === 'up' || r.policy)) cgroupsOf(r).forEach((_, i) => needed.push(sockopsLinkPin(pinDir, i)));
  if (r.msgMethod === 'link') needed.push(pinPath(pinDir, 'msgLink'));
  return needed.every(exists);
}

/** Same object and cgroups: rewrite the config maps (and resume a draining install) without a reload. */
function applyInPlace(pinDir: string, old: InstallRecord, wanted: Wanted, say: (l: string) => void): void {
  const configPath = pinPath(pinDir, 'config');
  if (exists(configPath)) {
    const config = BpfMap.fromPin(configPath);
    const rules = BpfMap.fromPin(mapPin(pinDir, OBJ.portRules));
    try {
      const was = readConfig(config);
      writeConfig(config, configOf(wanted));
      for (const k of [...rules.keys()]) rules.delete(k);
      writePortRules(rules, wanted.ports ?? [], wanted.excludePorts ?? []);
      say(`config of ${pinDir} rewritten in place (was ${JSON.stringify(was)}); accelerated connections stay accelerated`);
    } finally {
      config.close();
      rules.close();
    }
  } else if (old.state !== 'up') {
    // An install from before the config map: its down detached sock_ops; attach it again.
    resumeTracking(pinDir, old);
  }
  writeRecord(pinDir, { ...old, ...wanted, state: 'up' });
}

/** The status returned by up; its many lookups are not narrated (the status itself is shown). */
function finalStatus(pinDir: string, say: (line: string) => void): ReturnType<typeof status> {
  say(`reading back what is pinned in ${pinDir} for the status (those lookups are not narrated)`);
  return unnarrated(() => status({ pinDir }));
}

/** Re-attach the pinned sock_ops program of a draining install made before `config` existed. */
function resumeTracking(pinDir: string, record: InstallRecord): void {
  const sockops = BpfProgram.fromPin(pinPath(pinDir, 'sockopsProgram'));
  try {
    cgroupsOf(record).forEach((dir, i) => {
      const link = sockops.attachCgroup(dir);
      try {
        if (link.method === 'link') link.pin(sockopsLinkPin(pinDir, i));
      } catch (e) {
        link.detach();
        throw e;
      } finally {
        link.close();
      }
    });
  } finally {
    sockops.close();
  }
}

/** Pins of ours without a record: a crashed `up` or a half-finished `down`. */
function leftovers(pinDir: string): boolean {
  try {
    return readdirSync(pinDir).some(isOurPin);
  } catch {
    return false;
  }
}
