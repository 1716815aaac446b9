// `sockaccel-ffi agent`: the accelerator as a service. In the foreground it
//   1. reads its config (file + command line), listens for /metrics, /healthz, /readyz;
//   2. does `up` with it: the same settings as the pinned install adopt it (nothing reloaded), a
//      policy/ports/trace change applies in place, other changes replace the install — but never
//      while accelerated sockets are open: then the old install keeps running, the change waits
//      ("pending", in the log and in the metrics) and is retried every check interval;
//   3. on SIGHUP re-reads the config and applies it the same way (a bad config changes nothing);
//   4. on SIGTERM/SIGINT drains as `down` does, up to the drain timeout, and exits 0 — or, with
//      keepOnExit, leaves the install pinned and running for the next agent to adopt. A second
//      signal while draining exits at once, leaving the install draining.
// Everything it does to the kernel goes through the accel library's public API.
import type { Server } from 'node:http';
import { release } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { cgroupV2Root, setCgroupV2Root, UsageError } from '../index.js';
import { down, packageVersion, stats, status, up, type Status, type UpOptions, type UpResult } from '../accel/index.js';
import { formatListen, readConfigFile, resolveConfig, upSettingsKey, type AgentConfig, type AgentConfigFile } from './config.js';
import type { Fields, Logger } from './log.js';
import { renderMetrics, RELOAD_RESULTS, type AgentState, type ReloadResult } from './metrics.js';
import { closeServer, serve } from './server.js';

export interface AgentOptions {
  /** The config file, re-read on SIGHUP. */
  configFile?: string;
  /** Settings given on the command line (the file's keys): they win over the file's. */
  overrides?: AgentConfigFile;
  log: Logger;
  /** Called by a second SIGTERM/SIGINT while draining (default: process.exit). */
  exit?: (code: number) => void;
}

/** Why a change waits (the `reason` label of sockaccel_agent_config_pending). */
const REPLACE_BUSY = 'replace_waits_for_open_sockets';

type InstallState = 'up' | 'draining' | 'absent';
const stateOf = (s: Status | undefined): InstallState => (!s || (!s.up && s.state !== 'draining') ? 'absent' : s.up ? 'up' : 'draining');

const hintOf = (e: unknown) => (e instanceof Error ? (e as { hint?: string }).hint : undefined);
/** The first line of an error's message, without the " — hint" our errors append (the hint is a field of its own). */
function errorText(e: unknown): string {
  const first = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  const hint = hintOf(e);
  return hint && first.endsWith(` — ${hint}`) ? first.slice(0, -(hint.length + 3)) : first;
}

/** The UpOptions of a config: relative cgroups are relative to the cgroup v2 root. */
export function upOptionsOf(c: AgentConfig): UpOptions {
  const abs = (p: string) => (isAbsolute(p) ? p : join(cgroupV2Root(), p));
  return {
    cgroup: c.cgroups.length ? c.cgroups.map(abs) : undefined,
    excludeCgroups: c.excludeCgroups.map(abs),
    policy: c.policy,
    ports: c.ports,
    excludePorts: c.excludePorts,
    trace: c.trace,
    pinDir: c.pinDir,
    maxEntries: c.maxEntries,
  };
}

/** The UpOptions that reproduce an install as it is (to resume it). */
function upOptionsOfStatus(s: Status): UpOptions {
  return {
    cgroup: s.cgroups ?? (s.cgroup ? [s.cgroup] : undefined), excludeCgroups: s.excludeCgroups, policy: s.policy, ports: s.ports,
    excludePorts: s.excludePorts, trace: s.trace, pinDir: s.pinDir, maxEntries: s.maxEntries,
  };
}

export class Agent {
  /** The config asked for (the last one that loaded). */
  config: AgentConfig;
  readonly state: AgentState;
  private server?: Server;
  private queue: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private lastState?: InstallState;
  private pendingConfig?: AgentConfig;
  private lastScrapeError?: string;
  private stopping = false;
  private started = false;
  /** A signal that came while starting: acted on once started. */
  private stopRequested?: NodeJS.Signals;
  private finish!: (code: number) => void;
  /** Resolves with the exit code once the agent has stopped. */
  readonly done: Promise<number>;
  private readonly log: Logger;
  private readonly signalHandlers: [NodeJS.Signals, () => void][] = [];

  constructor(private readonly opts: AgentOptions) {
    this.log = opts.log;
    this.config = this.load();
    this.state = {
      startedAtS: Date.now() / 1000, configApplied: false, reloads: Object.fromEntries(RELOAD_RESULTS.map((r) => [r, 0])) as Record<ReloadResult, number>,
      ready: false, scrapeErrors: 0, phase: 'running',
    };
    this.done = new Promise((resolve) => { this.finish = resolve; });
  }

  /** The config file (if any) with the command line on top. Throws a UsageError naming the problem. */
  private load(): AgentConfig {
    const path = this.opts.configFile;
    return resolveConfig(path ? readConfigFile(path) : {}, this.opts.overrides ?? {});
  }

  private useCgroupRoot(c: AgentConfig): void {
    setCgroupV2Root(c.cgroupRoot, 'cgroupRoot (--cgroup-root)');
    if (c.cgroupRoot) cgroupV2Root(); // checks it now: a wrong root must fail before anything is attached
  }

  /** Start: listen, apply the config, then serve until stopped. Throws when it cannot start. */
  async start(): Promise<void> {
    const c = this.config;
    this.useCgroupRoot(c);
    this.server = await serve({ metrics: () => this.metrics(), health: () => this.health(), ready: () => this.ready() }, c.listen);
    this.log.info('listening', { listen: formatListen(c.listen), endpoints: '/metrics /healthz /readyz' });
    this.installSignals();
    try {
      await this.enqueue(() => this.apply(c, 'start'));
    } catch (e) {
      this.log.error('could not start', { error: errorText(e), hint: hintOf(e) });
      this.removeSignals();
      await closeServer(this.server);
      throw e;
    }
    this.started = true;
    this.lastState = stateOf(this.readStatus());
    this.log.info('running', {
      pinDir: c.pinDir, state: this.lastState, keepOnExit: c.keepOnExit, drainTimeout: c.drainTimeoutS, config: this.opts.configFile,
    });
    this.startTimer();
    if (this.stopRequested) void this.stop(this.stopRequested);
  }

  private startTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => { void this.enqueue(() => this.check()); }, this.config.checkIntervalS * 1000);
  }

  /** Kernel work runs one thing at a time: start, reloads, checks, stop. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  /** up with `c`; a replacement that would have to wait for open sockets leaves the old install running. */
  private async apply(c: AgentConfig, why: 'start' | 'reload' | 'retry'): Promise<ReloadResult> {
    const opts = upOptionsOf(c);
    const before = this.readStatus();
    let r: UpResult;
    try {
      r = await up({ ...opts, whenBusy: 'refuse' });
    } catch (e) {
      if (!(e instanceof UsageError && e.code === 'BUSY')) throw e;
      const first = !this.pendingConfig || upSettingsKey(this.pendingConfig) !== upSettingsKey(c);
      this.pendingConfig = c;
      this.state.pending = REPLACE_BUSY;
      this.state.configApplied = false;
      if (first) {
        this.log.warn('config change waits: the install runs on with its old settings', {
          why, reason: errorText(e), retry: `every ${c.checkIntervalS}s, once no accelerated socket is open`,
        });
      }
      await this.resumeIfLeftDraining(before);
      return 'pending';
    }
    const wasPending = !!this.pendingConfig;
    this.pendingConfig = undefined;
    this.state.pending = undefined;
    this.state.configApplied = true;
    const s = r.status;
    const fields: Fields = {
      why, pinDir: s.pinDir, cgroups: s.cgroups, policy: s.policy, observers: s.observers,
      sockopsProgramId: s.sockops?.programId, msgProgramId: s.msg?.programId, connections: s.connections,
    };
    if (!r.changed) this.log.info(why === 'start' ? 'adopted the install already up with these settings' : 'config unchanged', fields);
    else if (r.inPlace) this.log.info('config changed in place; accelerated connections stay accelerated', { ...fields, changes: r.inPlace });
    else if (r.replaced) this.log.info(wasPending ? 'applied the change that waited: replaced the install' : 'replaced the install (it had other settings)', fields);
    else this.log.info('installed', fields);
    return r.changed ? 'applied' : 'unchanged';
  }

  /** A connection opened in the instant between up's check and its drain can leave the old install
   * draining: resume it with its own settings, so "pending" always means "still running". */
  private async resumeIfLeftDraining(before: Status | undefined): Promise<void> {
    const now = this.readStatus();
    if (before?.up && now && !now.up && now.state === 'draining') {
      await up(upOptionsOfStatus(now));
      this.log.warn('resumed the old install, which the refused replacement had left draining', { pinDir: now.pinDir });
    }
  }

  /** The periodic check: retry a change that waits; log when the install changes state under us. */
  private async check(): Promise<void> {
    if (this.stopping) return;
    // Retrying costs an object parse: only when it can succeed (no accelerated socket left).
    let st = this.readStatus();
    if (this.pendingConfig && (st?.connections ?? 0) === 0) {
      try {
        await this.apply(this.pendingConfig, 'retry');
      } catch (e) {
        this.log.error('retrying the change that waits failed', { error: errorText(e), hint: hintOf(e) });
      }
      st = this.readStatus(); // the install may have been replaced
    }
    const state = stateOf(st);
    if (state !== this.lastState) {
      const fields = { from: this.lastState, to: state, pinDir: this.config.pinDir };
      if (state === 'up') this.log.info('install state changed', fields);
      else this.log.warn('install state changed: new connections are not accelerated', { ...fields, hint: 'someone ran down? send SIGHUP to the agent to install it again' });
      this.lastState = state;
    }
  }

  /** SIGHUP: re-read the config and apply it. A config that does not load or apply changes nothing. */
  reload(): Promise<ReloadResult> {
    return this.enqueue(async () => {
      if (this.stopping) return 'unchanged';
      const old = this.config;
      this.state.lastReloadS = Date.now() / 1000;
      const fail = (e: unknown, what: string): ReloadResult => {
        this.state.reloads.failed++;
        this.log.error(`reload failed: ${what}; running on as before`, { error: errorText(e), hint: hintOf(e) });
        return 'failed';
      };
      let c: AgentConfig;
      try {
        c = this.load();
        if (c.pinDir !== old.pinDir) throw new UsageError('BAD_ARGUMENT', `pinDir cannot change on reload (${old.pinDir} → ${c.pinDir}): that is another install`, { hint: 'restart the agent to move to another pin dir (and take the old one down)' });
        if ((c.cgroupRoot ?? '') !== (old.cgroupRoot ?? '')) throw new UsageError('BAD_ARGUMENT', `cgroupRoot cannot change on reload (${old.cgroupRoot ?? 'the mounts'} → ${c.cgroupRoot ?? 'the mounts'})`, { hint: 'restart the agent' });
      } catch (e) {
        return fail(e, 'the config does not load');
      }
      this.log.info('reloading the config', { config: this.opts.configFile ?? '(command line only)' });
      if (formatListen(c.listen) !== formatListen(old.listen)) {
        try {
          const next = await serve({ metrics: () => this.metrics(), health: () => this.health(), ready: () => this.ready() }, c.listen);
          const prev = this.server;
          this.server = next;
          if (prev) await closeServer(prev);
          this.log.info('listening', { listen: formatListen(c.listen), was: formatListen(old.listen) });
        } catch (e) {
          return fail(e, 'cannot listen on the new address');
        }
      }
      let result: ReloadResult;
      try {
        result = await this.apply(c, 'reload');
      } catch (e) {
        if (formatListen(c.listen) !== formatListen(old.listen)) this.log.warn('the new listen address stays in use', { listen: formatListen(c.listen) });
        this.config = { ...old, listen: c.listen };
        return fail(e, 'up refused the new config');
      }
      this.config = c;
      if (c.checkIntervalS !== old.checkIntervalS) this.startTimer();
      this.state.reloads[result]++;
      return result;
    });
  }

  private readStatus(): Status | undefined {
    try {
      return status({ pinDir: this.config.pinDir });
    } catch {
      return undefined;
    }
  }

  metrics(): string {
    let st: Status | undefined;
    let counters;
    let error: string | undefined;
    try {
      st = status({ pinDir: this.config.pinDir });
      if (stateOf(st) !== 'absent') counters = stats({ pinDir: this.config.pinDir });
    } catch (e) {
      error = errorText(e);
      this.state.scrapeErrors++;
      if (error !== this.lastScrapeError) this.log.error('reading the install for /metrics failed', { error, hint: hintOf(e) });
    }
    this.lastScrapeError = error;
    this.state.ready = this.readyFrom(st)[0]; // the snapshot this scrape already read
    return renderMetrics({
      status: st, stats: counters, error, agent: this.state,
      build: { version: packageVersion(), kernel: release(), node: process.version },
    });
  }

  health(): [boolean, string] {
    return [true, this.stopping ? 'stopping' : this.started ? 'running' : 'starting'];
  }

  ready(): [boolean, string] {
    return this.readyFrom(this.readStatus());
  }

  private readyFrom(st: Status | undefined): [boolean, string] {
    if (this.stopping) return [false, 'stopping'];
    if (!this.started) return [false, 'starting'];
    const state = stateOf(st);
    if (state !== 'up') return [false, `the install in ${this.config.pinDir} is ${state}`];
    return [true, this.state.pending ? `up (a config change waits: ${this.state.pending})` : 'up'];
  }

  private installSignals(): void {
    const on = (sig: NodeJS.Signals, fn: () => void) => {
      process.on(sig, fn);
      this.signalHandlers.push([sig, fn]);
    };
    on('SIGHUP', () => { this.log.info('SIGHUP: reloading'); void this.reload(); });
    for (const sig of ['SIGTERM', 'SIGINT'] as const) on(sig, () => { void this.stop(sig); });
  }

  private removeSignals(): void {
    for (const [sig, fn] of this.signalHandlers) process.off(sig, fn);
    this.signalHandlers.length = 0;
  }

  /** Stop: drain (or keep the install), close the server, resolve `done`. A second call exits now. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (!this.started) {
      // Stopping half-way through up would leave leftovers for the next up to sweep: finish starting first.
      if (this.stopRequested) (this.opts.exit ?? process.exit)(1);
      this.stopRequested = signal;
      this.log.info(`${signal}: stopping as soon as the install is up (again to exit now)`);
      return;
    }
    if (this.stopping) {
      this.log.warn(`${signal} again: exiting now; the install stays as it is (draining: open connections stay accelerated, new ones are not)`, { pinDir: this.config.pinDir });
      (this.opts.exit ?? process.exit)(0);
      return;
    }
    this.stopping = true;
    this.state.phase = 'stopping';
    this.state.ready = false;
    if (this.timer) clearInterval(this.timer);
    const c = this.config;
    let code = 0;
    await this.enqueue(async () => {
      if (c.keepOnExit) {
        const st = this.readStatus();
        this.log.info(`${signal}: exiting; keepOnExit leaves the install pinned and running for the next agent to adopt`, {
          pinDir: c.pinDir, state: stateOf(st), connections: st?.connections,
        });
        return;
      }
      this.log.info(`${signal}: draining (as down does): no new connection is accelerated; waiting up to ${c.drainTimeoutS}s for accelerated ones to close`, { pinDir: c.pinDir });
      let lastLog = 0;
      try {
        const r = await down({
          pinDir: c.pinDir,
          timeoutMs: c.drainTimeoutS * 1000,
          onProgress: (remaining, elapsedMs) => {
            if (elapsedMs - lastLog < 5000 && lastLog !== 0) return;
            lastLog = elapsedMs || 1;
            this.log.info('draining', { remainingSockets: remaining, elapsedS: Math.round(elapsedMs / 1000) });
          },
        });
        if (!r.wasUp) this.log.info('nothing was installed', { pinDir: c.pinDir });
        else if (r.complete) this.log.info('drained: detached and unpinned everything', { pinDir: c.pinDir, waitedMs: r.waitedMs });
        else {
          this.log.warn(`drain timeout: ${r.remaining} socket(s) still accelerated; the install is left draining (new connections on TCP, open ones stay accelerated)`, {
            pinDir: c.pinDir, hint: 'the next agent start resumes it; `sockaccel-ffi down` removes it once they have closed',
          });
        }
      } catch (e) {
        code = 1;
        this.log.error('draining failed', { error: errorText(e), hint: hintOf(e) });
      }
    });
    if (this.server) await closeServer(this.server);
    this.removeSignals();
    this.log.info('stopped', { exitCode: code });
    this.finish(code);
  }
}

/** Run the agent until it stops; resolves with its exit code. Throws when it cannot start. */
export async function runAgent(opts: AgentOptions): Promise<number> {
  const agent = new Agent(opts);
  await agent.start();
  return agent.done;
}
