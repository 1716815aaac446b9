// The /metrics page: Prometheus text exposition (format 0.0.4) of one snapshot of the install and
// of the agent. Pure: a snapshot in, text out, so every metric is unit-tested and checked with
// promtool. docs/agent.md lists each metric; keep the two in step.
import type { Stats, Status } from '../accel/index.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the agent itself knows, beside the install. */
export interface AgentState {
  startedAtS: number;
  /** The config asked for is running (false while a change waits, or after a failure). */
  configApplied: boolean;
  /** A change that waits (e.g. new cgroups while accelerated sockets are open): why. */
  pending?: string;
  /** Reloads (SIGHUP) by result. */
  reloads: Record<ReloadResult, number>;
  lastReloadS?: number;
  ready: boolean;
  scrapeErrors: number;
  /** "stopping" after SIGTERM/SIGINT (while the install drains, or as the agent exits). */
  phase: 'running' | 'stopping';
}

export type ReloadResult = 'applied' | 'unchanged' | 'pending' | 'failed';
export const RELOAD_RESULTS: readonly ReloadResult[] = ['applied', 'unchanged', 'pending', 'failed'];

export interface Snapshot {
  status?: Status;
  /** Undefined when nothing is installed. */
  stats?: Stats;
  build: { version: string; kernel: string; node: string };
  agent: AgentState;
  /** Set when reading the install failed for this scrape. */
  error?: string;
}

type Labels = Record<string, string>;
interface Sample { labels?: Labels; value: number }

/** Label values are escaped: backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isInteger(v) ? v.toFixed(0) : String(v);
}

class Exposition {
  private out: string[] = [];
  metric(name: string, type: 'counter' | 'gauge', help: string, samples: Sample[] | number): void {
    const list = typeof samples === 'number' ? [{ value: samples }] : samples;
    this.out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const s of list) {
      const labels = Object.entries(s.labels ?? {});
      const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      this.out.push(`${name}${l} ${formatValue(s.value)}`);
    }
  }
  text(): string {
    return this.out.join('\n') + '\n';
  }
}

/** The plain counters of Stats: metric name and help (the grouped ones follow below). */
const COUNTERS: Record<Exclude<keyof Stats, 'decisions' | 'insertFailures' | 'insertFailuresFull' | 'insertFailuresOther' | 'rescuedSplice' | 'rescuedHalfClose' | 'atRiskSplice' | 'atRiskBlocking'>, [string, string]> = {
  socketsInserted: ['sockaccel_sockets_inserted_total', 'Sockets put into the socket map (each accelerated connection is two).'],
  redirectedMessages: ['sockaccel_redirected_messages_total', 'Sends handed straight to the peer socket by sk_msg.'],
  redirectedBytes: ['sockaccel_redirected_bytes_total', 'Bytes handed straight to the peer socket (skipping TCP/IP).'],
  passedMessages: ['sockaccel_passed_messages_total', 'Sends of accelerated sockets that went through TCP/IP.'],
  passedBytes: ['sockaccel_passed_bytes_total', 'Bytes of accelerated sockets that went through TCP/IP.'],
  misses: ['sockaccel_lookup_misses_total', 'Sends whose peer socket was not in the map (they went through TCP/IP).'],
  markFailures: ['sockaccel_mark_failures_total', 'Sends that could not record that their direction stays on TCP (they still went through TCP).'],
  skippedEarlyData: ['sockaccel_skipped_early_data_total', 'Connections not accelerated because payload had flowed before ESTABLISHED (TCP Fast Open).'],
  staleMarks: ['sockaccel_stale_marks_total', 'Old "stays on TCP" marks found and cleared when a socket was inserted.'],
  marksCleared: ['sockaccel_marks_cleared_total', '"Stays on TCP" marks removed when their connection closed.'],
  demotedSmall: ['sockaccel_demoted_small_total', 'Accelerated directions of small writes moved to TCP.'],
  observedSides: ['sockaccel_observed_sides_total', 'Observations folded into service profiles by the learning policy.'],
  spliceDirectionsMarked: ['sockaccel_splice_directions_marked_total', 'Directions marked TCP at insert because their reader splices.'],
};

/** Decisions at ESTABLISHED, by reason label. */
const DECISIONS: Record<keyof Stats['decisions'], string> = {
  redirect: 'redirect',
  forced: 'forced',
  probation: 'probation',
  spliceReader: 'splice_reader',
  blockingReader: 'blocking_reader',
  smallWrites: 'small_writes',
  excludedPort: 'excluded_port',
  excludedCgroup: 'excluded_cgroup',
  readerSemantics: 'reader_semantics',
};

const STATES = ['up', 'draining', 'absent'] as const;
const VERDICTS = ['accelerate', 'tcp', 'probation'] as const;

export function renderMetrics(s: Snapshot): string {
  const e = new Exposition();
  const st = s.status;
  const state = !st || (!st.up && st.state !== 'draining') ? 'absent' : st.up ? 'up' : 'draining';
  e.metric('sockaccel_build_info', 'gauge', 'The agent build: package version, kernel, Node.js version, and the observers the install runs (1).', [
    { labels: { version: s.build.version, kernel: s.build.kernel, node: s.build.node, observers: st?.observers ?? 'none' }, value: 1 },
  ]);
  e.metric('sockaccel_up', 'gauge', '1 when the install is up (accelerating new connections), else 0.', state === 'up' ? 1 : 0);
  e.metric('sockaccel_install_state', 'gauge', 'The install state: 1 for the current one of up, draining (no new connection accelerated; open ones are), absent.',
    STATES.map((x) => ({ labels: { state: x }, value: x === state ? 1 : 0 })));
  if (st && state !== 'absent') {
    e.metric('sockaccel_install_info', 'gauge', 'What is installed: settings and kernel object ids (1). Program ids change only when the install is replaced.', [{
      labels: {
        pin_dir: st.pinDir,
        version: st.version ?? '',
        policy: st.policy ?? '',
        cgroups: (st.cgroups ?? (st.cgroup ? [st.cgroup] : [])).join(','),
        exclude_cgroups: (st.excludeCgroups ?? []).join(','),
        ports: (st.ports ?? []).join(','),
        exclude_ports: (st.excludePorts ?? []).join(','),
        trace: st.trace ? 'true' : 'false',
        sockops_program_id: String(st.sockops?.programId ?? ''),
        msg_program_id: String(st.msg?.programId ?? ''),
        attach_method: st.sockops?.method ?? st.msg?.method ?? '',
      },
      value: 1,
    }]);
    if (st.installedAt) e.metric('sockaccel_install_timestamp_seconds', 'gauge', 'When the running install was made (Unix time).', Date.parse(st.installedAt) / 1000);
    e.metric('sockaccel_map_sockets', 'gauge', 'Sockets in the socket map now (accelerated connections are two each).', st.connections ?? 0);
    if (st.maxEntries) {
      e.metric('sockaccel_map_capacity', 'gauge', 'Capacity of the socket map (maxEntries); when full, new connections stay on TCP.', st.maxEntries);
      e.metric('sockaccel_map_fill_ratio', 'gauge', 'sockaccel_map_sockets / sockaccel_map_capacity.', (st.connections ?? 0) / st.maxEntries);
    }
    if (st.services) {
      e.metric('sockaccel_services', 'gauge', 'Services (netns, server address, port) the learning policy knows, by verdict.',
        VERDICTS.map((v) => ({ labels: { verdict: v }, value: st.services![v === 'accelerate' ? 'accelerated' : v] })));
    }
  }
  const c = s.stats;
  if (c) {
    for (const [key, [name, help]] of Object.entries(COUNTERS) as [keyof typeof COUNTERS, [string, string]][]) e.metric(name, 'counter', help, c[key]);
    e.metric('sockaccel_insert_failures_total', 'counter', 'Sockets that could not be put into the map, by reason (map_full: raise maxEntries).', [
      { labels: { reason: 'map_full' }, value: c.insertFailuresFull },
      { labels: { reason: 'other' }, value: c.insertFailuresOther },
    ]);
    e.metric('sockaccel_decisions_total', 'counter', 'Per-socket decisions at ESTABLISHED, by reason (redirect and forced are accelerated; the rest stay on TCP).',
      (Object.entries(DECISIONS) as [keyof Stats['decisions'], string][]).map(([k, reason]) => ({ labels: { reason }, value: c.decisions[k] })));
    e.metric('sockaccel_rescues_total', 'counter', 'Accelerated connections moved back to TCP safely when the policy guessed wrong, by kind.', [
      { labels: { kind: 'splice' }, value: c.rescuedSplice },
      { labels: { kind: 'half_close' }, value: c.rescuedHalfClose },
    ]);
    e.metric('sockaccel_at_risk_total', 'counter', 'Accelerated sockets used in a way sockmap may serve wrongly that could not be rescued, by kind (should stay 0).', [
      { labels: { kind: 'splice' }, value: c.atRiskSplice },
      { labels: { kind: 'blocking' }, value: c.atRiskBlocking },
    ]);
  }
  const a = s.agent;
  e.metric('sockaccel_agent_start_time_seconds', 'gauge', 'When the agent started (Unix time).', a.startedAtS);
  e.metric('sockaccel_agent_ready', 'gauge', '1 when /readyz answers 200: the install is up and the agent is not stopping.', a.ready ? 1 : 0);
  e.metric('sockaccel_agent_config_applied', 'gauge', '1 when the install runs the config the agent was given; 0 while a change waits or after a failure.', a.configApplied ? 1 : 0);
  e.metric('sockaccel_agent_config_pending', 'gauge', '1 while a change waits to be applied (e.g. new cgroups while accelerated sockets are open), with the reason.',
    [{ labels: { reason: a.pending ?? '' }, value: a.pending ? 1 : 0 }]);
  e.metric('sockaccel_agent_reloads_total', 'counter', 'Config reloads (SIGHUP) by result.', RELOAD_RESULTS.map((r) => ({ labels: { result: r }, value: a.reloads[r] })));
  if (a.lastReloadS !== undefined) e.metric('sockaccel_agent_last_reload_timestamp_seconds', 'gauge', 'When the config was last reloaded (Unix time).', a.lastReloadS);
  e.metric('sockaccel_agent_stopping', 'gauge', '1 after SIGTERM/SIGINT, while the agent drains or exits.', a.phase === 'stopping' ? 1 : 0);
  e.metric('sockaccel_agent_scrape_errors_total', 'counter', 'Scrapes where reading the install failed (the error is logged).', a.scrapeErrors);
  return e.text();
}
