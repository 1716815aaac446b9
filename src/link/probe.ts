// Feature probes: ask the running kernel, with tiny throwaway objects, whether it has a feature.
// Each answer is computed once per process.
import { callHelper, encode, exit, movR0 } from '../asm/encode.js';
import { AttachType, MapType, ProgType } from '../sys/constants.js';
import { linkCreateTry, mapCreate, progLoadTry } from '../sys/commands.js';
import { Errno } from '../sys/errno.js';
import { Fd } from '../sys/fd.js';
import { mkdirSync, openSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const HELPER_GET_NETNS_COOKIE = 122;
const cache = new Map<string, boolean>();

function once(name: string, probe: () => boolean): boolean {
  let v = cache.get(name);
  if (v === undefined) {
    v = probe();
    cache.set(name, v);
  }
  return v;
}

function loadTiny(type: number, expectedAttachType: number, body: Buffer, what: string): Fd | undefined {
  return progLoadTry({ type, insns: body, license: 'GPL', name: 'probe', expectedAttachType }, what).fd;
}

/** An sk_msg program that passes everything, for probes. */
function passMsgProgram(): Fd | undefined {
  return loadTiny(ProgType.SK_MSG, AttachType.SK_MSG_VERDICT, encode([movR0(1), exit()]), 'probe program (sk_msg)');
}

/** bpf_link on a SOCKMAP/SOCKHASH for sk_msg (kernel 6.10+). Otherwise PROG_ATTACH on the map. */
export function hasSockmapLinks(): boolean {
  return once('sockmap-links', () => {
    const prog = passMsgProgram();
    if (!prog) return false;
    let map: Fd | undefined;
    try {
      map = mapCreate({ type: MapType.SOCKHASH, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, name: 'probe' }, 'probe map (sockhash)');
      const r = linkCreateTry(prog, map, AttachType.SK_MSG_VERDICT, 'probe link (sk_msg on sockhash)');
      r.fd?.close();
      return r.fd !== undefined;
    } catch {
      return false;
    } finally {
      map?.close();
      prog.close();
    }
  });
}

/** Whether sock_ops programs may call bpf_get_netns_cookie (5.15+): our key needs it. */
export function hasNetnsCookieInSockops(): boolean {
  return once('netns-cookie', () => {
    const fd = loadTiny(ProgType.SOCK_OPS, 0, encode([callHelper(HELPER_GET_NETNS_COOKIE), movR0(1), exit()]), 'probe program (sock_ops netns cookie)');
    fd?.close();
    return fd !== undefined;
  });
}

/**
 * bpf_link on cgroups (5.7+). Probed on a fresh, empty child cgroup of `cgroupRoot` that is removed
 * again: a probe must never attach anything, even briefly, where real processes live.
 */
export function hasCgroupLinks(cgroupRoot: string): { ok: boolean; errno: number } {
  const prog = loadTiny(ProgType.SOCK_OPS, 0, encode([movR0(1), exit()]), 'probe program (sock_ops)');
  if (!prog) return { ok: false, errno: Errno.EPERM };
  const dir = join(cgroupRoot, `sockaccel-probe-${process.pid}`);
  let cgroup: Fd | undefined;
  try {
    mkdirSync(dir);
    cgroup = new Fd(openSync(dir, 'r'));
    const r = linkCreateTry(prog, cgroup, AttachType.CGROUP_SOCK_OPS, 'probe link (sock_ops on an empty cgroup)');
    r.fd?.close();
    return { ok: r.fd !== undefined, errno: r.errno };
  } finally {
    cgroup?.close();
    prog.close();
    try { rmdirSync(dir); } catch { /* not created */ }
  }
}

/** Whether the kernel can create a SOCKHASH at all (CONFIG_BPF_STREAM_PARSER / sockmap support). */
export function hasSockhash(): boolean {
  return once('sockhash', () => {
    try {
      mapCreate({ type: MapType.SOCKHASH, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, name: 'probe' }, 'probe map').close();
      return true;
    } catch {
      return false;
    }
  });
}

/** Errnos that mean "this kernel has no such link type" rather than a real failure. */
export function isLinkUnsupported(errno: number): boolean {
  return errno === Errno.EINVAL || errno === Errno.EOPNOTSUPP || errno === Errno.ENOTSUPP || errno === Errno.E2BIG;
}

/**
 * Tests only: answer `value` for a probe instead of asking the kernel (undefined: ask it again), so
 * the paths of kernels that lack a feature (no sockmap links before 6.10, no netns cookie in sock_ops
 * before 5.15) are tested on any kernel.
 */
export function overrideProbe(name: 'sockmap-links' | 'netns-cookie' | 'sockhash', value: boolean | undefined): void {
  if (value === undefined) cache.delete(name);
  else cache.set(name, value);
}

/** Forget cached answers (tests). */
export function resetProbes(): void {
  cache.clear();
}
