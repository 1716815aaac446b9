// Pure formatting for the CLI: numbers, and the human renderings of each verb's result. No kernel,
// no I/O, so it is unit-tested directly.
import type { DoctorCheck, DownResult, Stats, Status, VerifyResult } from '../accel/types.js';
import type { ServiceInfo } from '../accel/policy.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 0 → "0 B", 1536 → "1.5 KiB", 10 MiB → "10.0 MiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${sign}${Math.round(v)} B`;
  return `${sign}${v.toFixed(1)} ${UNITS[u]}`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A rate per second: bytes (formatBytes + "/s") or counts ("12.5/s"). */
export function formatRate(perSecond: number, bytes: boolean): string {
  if (bytes) return `${formatBytes(perSecond)}/s`;
  return `${perSecond >= 100 ? formatCount(perSecond) : perSecond.toFixed(perSecond % 1 ? 1 : 0)}/s`;
}

/** 5000 → "5s", 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** Sockets in the map, and the connections they are (both ends of one connection are two sockets). */
export function socketsText(n: number): string {
  return `${plural(n, 'socket')} (${plural(Math.ceil(n / 2), 'connection')})`;
}

const DEFAULT_PIN_DIR = '/sys/fs/bpf/sockaccel';

/**
 * The `up` command line that reproduces an install's settings, with `change` applied: hints must
 * never drop --cgroup or --pin-dir (copied literally, a bare `up` accelerates the whole machine).
 */
export function upCommand(s: Pick<Status, 'cgroup' | 'pinDir' | 'trace'> & Partial<Pick<Status, 'cgroups' | 'excludeCgroups' | 'policy' | 'ports' | 'excludePorts'>>, change: { trace?: boolean } = {}): string {
  const trace = change.trace ?? s.trace;
  const cgroups = s.cgroups ?? (s.cgroup ? [s.cgroup] : []);
  return [
    'sudo sockaccel-ffi up', trace ? '--trace' : '',
    ...cgroups.map((c) => `--cgroup ${c}`), ...(s.excludeCgroups ?? []).map((c) => `--exclude-cgroup ${c}`),
    s.policy && s.policy !== 'learn' ? `--policy ${s.policy}` : '',
    s.ports?.length ? `--ports ${s.ports.join(',')}` : '', s.excludePorts?.length ? `--exclude-ports ${s.excludePorts.join(',')}` : '',
    s.pinDir && s.pinDir !== DEFAULT_PIN_DIR ? `--pin-dir ${s.pinDir}` : '',
  ].filter(Boolean).join(' ');
}

function attachment(a: NonNullable<Status['sockops']>, where: string): string {
  const ids = a.linkIds?.length ? a.linkIds : a.linkId !== undefined ? [a.linkId] : [];
  const how = a.method === 'link' ? `bpf_link${ids.length ? ` ${ids.join(', ')}` : ''}` : 'prog_attach';
  return `program ${a.programId}, attached to ${where} with ${how}`;
}

/** The human `status` output. */
export function renderStatus(s: Status): string {
  if (!s.up && s.state !== 'draining') {
    return [
      `sockaccel: not installed (nothing pinned in ${s.pinDir})`,
      `  install with: ${upCommand({ pinDir: s.pinDir })}   (add --cgroup DIR to accelerate only that cgroup)`,
    ].join('\n');
  }
  const lines: string[] = [];
  const state = s.state === 'draining'
    ? 'draining: down stopped half-way; new connections are no longer accelerated, open ones still are'
    : 'up';
  lines.push(`sockaccel: ${state}`);
  const row = (k: string, v: string) => lines.push(`  ${(k + ':').padEnd(13)} ${v}`);
  row('pin dir', s.pinDir);
  const cgroups = s.cgroups ?? (s.cgroup ? [s.cgroup] : []);
  if (cgroups.length) row(cgroups.length > 1 ? 'cgroups' : 'cgroup', `${cgroups.join(', ')} (connections of processes in it and below)`);
  if (s.excludeCgroups?.length) row('excluded', `${s.excludeCgroups.join(', ')} (on TCP)`);
  if (s.policy) row('policy', s.policy === 'learn' ? `learn: per service, safe first (observers: ${s.observers ?? 'none'})` : 'all: every loopback connection (unsafe for splice and blocking readers)');
  if (s.ports?.length) row('ports', `only ${s.ports.join(', ')}`);
  if (s.excludePorts?.length) row('not ports', s.excludePorts.join(', '));
  if (s.services) row('services', `${formatCount(s.services.total)} learned: ${formatCount(s.services.accelerated)} accelerated, ${formatCount(s.services.tcp)} on TCP, ${formatCount(s.services.probation)} on probation (list: sudo sockaccel-ffi services${s.pinDir !== DEFAULT_PIN_DIR ? ` --pin-dir ${s.pinDir}` : ''})`);
  if (s.sockops) row('sock_ops', attachment(s.sockops, 'the cgroup'));
  if (s.msg) row('sk_msg', attachment(s.msg, `map ${s.maps?.sockHash ?? '?'}`));
  if (s.maps) row('maps', `sock_hash ${s.maps.sockHash}, passed ${s.maps.passed}, counters ${s.maps.counters}`);
  if (s.connections !== undefined) {
    row('accelerated', `${socketsText(s.connections)} now${s.maxEntries ? ` (room for ${formatCount(s.maxEntries)} sockets)` : ''}`);
  }
  const pinArg = s.pinDir !== DEFAULT_PIN_DIR ? ` --pin-dir ${s.pinDir}` : '';
  if (s.trace !== undefined) row('trace', s.trace ? `on (read with: sudo sockaccel-ffi trace${pinArg})` : `off (turn on with: ${upCommand(s, { trace: true })})`);
  if (s.version) row('version', s.version);
  if (s.installedAt) row('installed', s.installedAt);
  return lines.join('\n');
}

/** The human `stats` output. */
export function renderStats(st: Stats): string {
  const row = (k: string, v: string) => `${(k + ':').padEnd(17)} ${v}`;
  const shown = new Set<string>([
    'redirectedBytes', 'redirectedMessages', 'passedBytes', 'passedMessages', 'socketsInserted', 'insertFailures',
    'insertFailuresFull', 'insertFailuresOther', 'misses', 'markFailures', 'skippedEarlyData', 'staleMarks', 'marksCleared',
    'decisions', 'rescuedSplice', 'rescuedHalfClose', 'atRiskSplice', 'atRiskBlocking', 'demotedSmall', 'observedSides', 'spliceDirectionsMarked',
  ]);
  const d = st.decisions;
  const decisions = d ? [
    row('decisions', `per socket at ESTABLISHED: ${formatCount(d.redirect + d.forced)} redirected (${formatCount(d.redirect)} learned, ${formatCount(d.forced)} policy all)`),
    row('  kept on TCP', `${formatCount(d.probation)} on probation, ${formatCount(d.spliceReader)} splice reader, ${formatCount(d.blockingReader)} blocking reader, `
      + `${formatCount(d.smallWrites)} small writes, ${formatCount(d.readerSemantics)} waitall/lowat, ${formatCount(d.excludedPort)} port rules, ${formatCount(d.excludedCgroup)} excluded cgroup`),
    row('rescued', `${formatCount(st.rescuedSplice)} splice, ${formatCount(st.rescuedHalfClose)} half-close; at risk: ${formatCount(st.atRiskSplice)} splice, ${formatCount(st.atRiskBlocking)} blocking`),
    row('demoted', `${formatCount(st.demotedSmall)} small-write directions moved to TCP; ${formatCount(st.spliceDirectionsMarked)} directions to splice readers kept on TCP`),
    row('observed', `${formatCount(st.observedSides)} sockets' observations learned from`),
  ] : [];
  const opt = (k: keyof Stats, label: string, note: string) => (typeof st[k] === 'number' ? [row(label, `${formatCount(st[k])}${note}`)] : []);
  // Counters added later than this renderer are still shown, by their JSON name.
  const others = Object.entries(st).filter(([k, v]) => !shown.has(k) && typeof v === 'number').map(([k, v]) => row(k, formatCount(v as number)));
  return [
    row('redirected', `${formatBytes(st.redirectedBytes)} in ${plural(st.redirectedMessages, 'message')} (socket to socket, skipping TCP/IP)`),
    row('passed', `${formatBytes(st.passedBytes)} in ${plural(st.passedMessages, 'message')} (through the normal TCP/IP path)`),
    row('sockets tracked', formatCount(st.socketsInserted)),
    row('insert failures', `${formatCount(st.insertFailures)} (${formatCount(st.insertFailuresFull)} map full, ${formatCount(st.insertFailuresOther)} other)`),
    row('misses', `${formatCount(st.misses)} (peer socket not found: message passed)`),
    ...opt('markFailures', 'mark failures', ''),
    ...opt('skippedEarlyData', 'skipped (TFO)', ' (payload before establishment: left on TCP)'),
    ...opt('staleMarks', 'stale marks', ''),
    ...opt('marksCleared', 'marks cleared', ''),
    ...decisions,
    ...others,
  ].join('\n');
}

/** One `stats --watch` line: rates between two samples taken `ms` apart. */
type NumericStat = { [K in keyof Stats]: Stats[K] extends number ? K : never }[keyof Stats];

export function renderStatsRates(prev: Stats, cur: Stats, ms: number, at: Date = new Date(), connections?: number): string {
  const s = Math.max(ms, 1) / 1000;
  const d = (k: NumericStat) => Math.max(0, cur[k] - prev[k]) / s;
  const time = at.toTimeString().slice(0, 8);
  return [
    time,
    `redirected ${formatRate(d('redirectedBytes'), true)} (${formatRate(d('redirectedMessages'), false)} msgs)`,
    `passed ${formatRate(d('passedBytes'), true)} (${formatRate(d('passedMessages'), false)} msgs)`,
    `new sockets ${formatRate(d('socketsInserted'), false)}`,
    `misses ${formatRate(d('misses'), false)}`,
    ...(cur.insertFailures > prev.insertFailures ? [`insert failures +${formatCount(cur.insertFailures - prev.insertFailures)}`] : []),
    ...(connections !== undefined ? [`connections ${formatCount(connections)}`] : []),
  ].join('  ');
}

/** The human `verify` output. */
export function renderVerify(v: VerifyResult): string {
  const lines: string[] = [];
  lines.push(`payload sent:        ${formatBytes(v.payloadBytes)}`);
  lines.push(`bytes through lo:    ${formatBytes(v.loBytes)}`);
  lines.push(`bytes redirected:    ${formatBytes(v.redirectedBytes)}`);
  if (v.transports.length > 1) {
    for (const t of v.transports) {
      lines.push(`  ${t.address}: payload ${formatBytes(t.payloadBytes)}, lo ${formatBytes(t.loBytes)}, redirected ${formatBytes(t.redirectedBytes)}, accelerated: ${t.accelerated ? 'yes' : 'no'}${t.ok ? '' : ' (transfer failed)'}`);
      if (t.decision) lines.push(`    decided by: ${t.decision}`);
    }
  }
  lines.push(`accelerated: ${v.accelerated ? 'yes' : 'no'}`);
  if (!v.accelerated && v.reason) lines.push(`  why: ${v.reason}`);
  return lines.join('\n');
}

const SKIPPED = (c: DoctorCheck) => (c as { skipped?: boolean }).skipped === true;

/** The human `services` output: one line per learned service. */
export function renderServices(list: ServiceInfo[]): string {
  if (!list.length) return 'no services learned yet (a service is learned from its first observed connections)';
  const rows = list.map((x) => [`${x.address.includes(':') ? `[${x.address}]` : x.address}:${x.port}`, x.verdict, x.reason, `seen ${x.observed}, good ${x.good}, small ${x.small}, inserted ${x.inserted}${x.seen.length ? `; ${x.seen.join(', ')}` : ''}`]);
  const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${r[0]!.padEnd(w[0]!)}  ${r[1]!.padEnd(w[1]!)}  ${r[2]}  (${r[3]})`).join('\n');
}

/** The human `doctor` output: one line per check, with the fix under a failed one. */
export function renderDoctor(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length), 4);
  const lines: string[] = [];
  for (const c of checks) {
    const mark = !c.ok ? 'FAIL' : SKIPPED(c) ? 'skip' : 'ok';
    lines.push(`${mark.padEnd(5)} ${c.name.padEnd(width)}  ${c.detail}`);
    if (!c.ok && c.fix) lines.push(`${''.padEnd(5)} ${''.padEnd(width)}  fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed ? `${plural(failed, 'check')} failed` : 'all checks passed: this machine can run sockaccel');
  return lines.join('\n');
}

/** The human `down` output (what happened; the exit code says whether it is a failure). */
export function renderDown(r: DownResult, pinDir: string): string {
  if (!r.wasUp) return `sockaccel: not installed in ${pinDir}: nothing to do`;
  if (r.complete) {
    return `sockaccel: down (detached and unpinned ${pinDir}${r.waitedMs >= 1000 ? `, after waiting ${formatDuration(r.waitedMs)} for connections to close` : ''})`;
  }
  return `sockaccel: draining: ${socketsText(r.remaining)} still accelerated after ${formatDuration(r.waitedMs)}`;
}

/** The stderr progress line while `down` waits. */
export function renderDownProgress(remaining: number, elapsedMs: number, timeoutMs: number): string {
  return `waiting for ${socketsText(remaining)} to close (${formatDuration(elapsedMs)}/${formatDuration(timeoutMs)})...`;
}
