// `doctor`: can this machine run the accelerator? Each check says what it found and, when it fails,
// what to do. Probes that need privileges are reported as "not checked" (not as failures) when we do
// not have them: the privileges check already fails in that case and says why.
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { Cap, DEFAULT_BPFFS, effectiveCaps, errnoName, hasCap, hasCgroupLinks, hasMapType, hasSockmapLinks, MapType, privileged, readMounts, type Mount } from '../index.js';
import { hasNetnsCookieInSockops } from './up.js';
import type { DoctorCheck } from './types.js';

/** A check; `skipped` marks one that could not run (it needs privileges we do not have). */
export type DoctorCheckResult = DoctorCheck & { skipped?: boolean };

/** The oldest kernel we support: sock_ops and sk_msg programs may call bpf_get_netns_cookie from 5.15. */
export const MIN_KERNEL: readonly [number, number] = [5, 15];

const NOT_CHECKED = 'not checked: needs root (run `sudo sockaccel-ffi doctor`)';


/** "6.18.44-fc-v657" → [6, 18]; undefined when it does not start with two numbers. */
export function parseKernelRelease(rel: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function checkPrivileges(caps: bigint, uid: number): DoctorCheckResult {
  const names: [string, number][] = [['CAP_BPF', Cap.BPF], ['CAP_NET_ADMIN', Cap.NET_ADMIN], ['CAP_SYS_ADMIN', Cap.SYS_ADMIN], ['CAP_PERFMON', Cap.PERFMON]];
  const have = names.filter(([, n]) => hasCap(caps, n)).map(([s]) => s);
  const who = uid === 0 ? 'root (uid 0)' : `uid ${uid}`;
  const capEff = `CapEff ${caps.toString(16).padStart(16, '0')}`;
  if (privileged(caps, { tracing: true })) {
    return { name: 'privileges', ok: true, detail: `${who}; ${capEff}: ${have.join(', ')}` };
  }
  const missing = ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON'].filter((c) => !have.includes(c));
  return {
    name: 'privileges',
    ok: false,
    detail: `${who}, not root; ${capEff} lacks ${missing.join(', ')} (and CAP_SYS_ADMIN)`,
    fix: 'run as root (sudo sockaccel-ffi ...), or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (e.g. setcap or systemd AmbientCapabilities)',
  };
}

export function checkKernel(rel: string): DoctorCheckResult {
  const v = parseKernelRelease(rel);
  const min = `${MIN_KERNEL[0]}.${MIN_KERNEL[1]}`;
  if (!v) return { name: 'kernel', ok: false, detail: `cannot read a version from "${rel}"`, fix: `sockaccel needs Linux ${min} or newer` };
  const ok = v[0] > MIN_KERNEL[0] || (v[0] === MIN_KERNEL[0] && v[1] >= MIN_KERNEL[1]);
  return ok
    ? { name: 'kernel', ok: true, detail: `Linux ${rel} (${min} or newer needed)` }
    : {
      name: 'kernel',
      ok: false,
      detail: `Linux ${rel} is older than ${min}: sock_ops/sk_msg programs cannot call bpf_get_netns_cookie`,
      fix: `upgrade to Linux ${min} or newer`,
    };
}

export function checkBpffs(mounts: Mount[], canMount: boolean): DoctorCheckResult {
  if (mounts.some((m) => m.target === DEFAULT_BPFFS && m.fstype === 'bpf')) {
    return { name: 'bpffs', ok: true, detail: `bpffs mounted at ${DEFAULT_BPFFS}` };
  }
  if (canMount) return { name: 'bpffs', ok: true, detail: `not mounted at ${DEFAULT_BPFFS}: will be mounted by up` };
  return {
    name: 'bpffs',
    ok: false,
    detail: `not mounted at ${DEFAULT_BPFFS}, and mounting it needs CAP_SYS_ADMIN`,
    fix: `mount it (as root): mount -t bpf bpf ${DEFAULT_BPFFS}`,
  };
}

export function checkCgroup2(mounts: Mount[]): DoctorCheckResult {
  const v2 = mounts.find((m) => m.fstype === 'cgroup2');
  if (v2) return { name: 'cgroup2', ok: true, detail: `cgroup v2 mounted at ${v2.target}` };
  const v1 = mounts.some((m) => m.fstype === 'cgroup');
  return v1
    ? {
      name: 'cgroup2',
      ok: false,
      detail: 'only cgroup v1 is mounted; sock_ops programs attach to cgroup v2',
      fix: 'mount cgroup v2 (mount -t cgroup2 none /sys/fs/cgroup/unified) or boot with systemd.unified_cgroup_hierarchy=1',
    }
    : { name: 'cgroup2', ok: false, detail: 'no cgroup mount found in /proc/self/mounts', fix: 'mount cgroup v2: mount -t cgroup2 none /sys/fs/cgroup' };
}

export function checkBtf(present: boolean): DoctorCheckResult {
  return present
    ? { name: 'btf', ok: true, detail: '/sys/kernel/btf/vmlinux present' }
    : { name: 'btf', ok: true, detail: '/sys/kernel/btf/vmlinux absent: not needed (the sockaccel object uses no CO-RE relocations)' };
}

function probeCheck(name: string, allowed: boolean, run: () => DoctorCheckResult): DoctorCheckResult {
  if (!allowed) return { name, ok: true, skipped: true, detail: NOT_CHECKED };
  try {
    return run();
  } catch (e) {
    return { name, ok: false, detail: `probe failed: ${(e as Error).message}`, fix: 'run with --debug and report this' };
  }
}

/** Run every check. Never throws: a check that cannot run says so. */
export function doctor(): DoctorCheckResult[] {
  const caps = (() => { try { return effectiveCaps(); } catch { return 0n; } })();
  const uid = process.getuid?.() ?? -1;
  const allowed = privileged(caps, { tracing: true });
  let mounts: Mount[] = [];
  try { mounts = readMounts(); } catch { /* reported by the checks below as "nothing mounted" */ }
  const cgroup2 = mounts.find((m) => m.fstype === 'cgroup2');
  const kernel = checkKernel(release());

  return [
    checkPrivileges(caps, uid),
    kernel,
    checkBpffs(mounts, hasCap(caps, Cap.SYS_ADMIN)),
    checkCgroup2(mounts),
    checkBtf(existsSync('/sys/kernel/btf/vmlinux')),
    probeCheck('sockhash', allowed, () => hasMapType(MapType.SOCKHASH)
      ? { name: 'sockhash', ok: true, detail: 'the kernel creates BPF_MAP_TYPE_SOCKHASH maps' }
      : { name: 'sockhash', ok: false, detail: 'the kernel refused to create a SOCKHASH map', fix: 'use a kernel built with CONFIG_BPF_STREAM_PARSER=y (sockmap support)' }),
    probeCheck('netns-cookie', allowed, () => hasNetnsCookieInSockops()
      ? { name: 'netns-cookie', ok: true, detail: 'sock_ops programs may call bpf_get_netns_cookie' }
      : { name: 'netns-cookie', ok: false, detail: 'sock_ops programs may not call bpf_get_netns_cookie', fix: `upgrade to Linux ${MIN_KERNEL.join('.')} or newer` }),
    probeCheck('sockmap-links', allowed, () => hasSockmapLinks()
      ? { name: 'sockmap-links', ok: true, detail: 'sk_msg attaches to the SOCKHASH with a bpf_link (pinned, detached by down)' }
      : { name: 'sockmap-links', ok: true, detail: 'no bpf_link for sockmaps (6.10+): PROG_ATTACH fallback, which works the same' }),
    probeCheck('cgroup-links', allowed, () => {
      if (!cgroup2) return { name: 'cgroup-links', ok: true, skipped: true, detail: 'not checked: no cgroup v2 mount' };
      const r = hasCgroupLinks(cgroup2.target);
      return r.ok
        ? { name: 'cgroup-links', ok: true, detail: `sock_ops attaches to ${cgroup2.target} with a bpf_link` }
        : { name: 'cgroup-links', ok: true, detail: `no bpf_link on cgroups (${errnoName(r.errno)}; 5.7+): PROG_ATTACH fallback, which works the same` };
    }),
  ];
}
