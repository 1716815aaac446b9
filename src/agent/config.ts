// The agent's configuration: a JSON file (the schema is below and in docs/agent.md) and command-line
// options on top of it. Pure: parsing and checking only, so it is unit-tested without a kernel. A
// key the agent does not know is an error, not ignored: a typo must never turn a narrow install
// into a machine-wide one.
import { readFileSync } from 'node:fs';
import { UsageError } from '../index.js';
import { DEFAULT_PIN_DIR, type Policy } from '../accel/index.js';

export const DEFAULT_LISTEN = '127.0.0.1:9477';
export const DEFAULT_DRAIN_TIMEOUT_S = 30;
export const DEFAULT_CHECK_INTERVAL_S = 5;

/** What the agent runs with: the `up` settings, then its own. */
export interface AgentConfig {
  /** cgroup v2 directories to accelerate; empty: the cgroup v2 root (the whole machine). Relative
   * paths are relative to the cgroup v2 root. */
  cgroups: string[];
  excludeCgroups: string[];
  policy: Policy;
  ports: number[];
  excludePorts: number[];
  trace: boolean;
  pinDir: string;
  /** Capacity of the socket map; undefined: as compiled. */
  maxEntries?: number;
  /** Where /metrics, /healthz and /readyz are served. */
  listen: { host: string; port: number };
  /** How long SIGTERM waits for accelerated connections to close before leaving the install draining. */
  drainTimeoutS: number;
  /** On SIGTERM/SIGINT leave the install pinned and running (the next agent adopts it). */
  keepOnExit: boolean;
  /** The node's cgroup v2 root when it is not the first cgroup2 mount (in a container). */
  cgroupRoot?: string;
  /** How often the agent checks the install and retries a change that had to wait. */
  checkIntervalS: number;
}

/** The config file's keys, as written in it (also what `--print-config` prints). */
export interface AgentConfigFile {
  cgroups?: string[];
  /** One cgroup: the same as cgroups: [cgroup]. */
  cgroup?: string;
  excludeCgroups?: string[];
  policy?: Policy;
  ports?: number[];
  excludePorts?: number[];
  trace?: boolean;
  pinDir?: string;
  maxEntries?: number;
  /** "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses). */
  listen?: string;
  /** Seconds. */
  drainTimeout?: number;
  keepOnExit?: boolean;
  cgroupRoot?: string;
  /** Seconds. */
  checkInterval?: number;
}

const KEYS: Record<keyof AgentConfigFile, string> = {
  cgroups: 'array of cgroup v2 directories',
  cgroup: 'a cgroup v2 directory',
  excludeCgroups: 'array of cgroup v2 directories',
  policy: '"learn" or "all"',
  ports: 'array of ports (1-65535)',
  excludePorts: 'array of ports (1-65535)',
  trace: 'true or false',
  pinDir: 'a directory on bpffs',
  maxEntries: 'a positive integer',
  listen: '"HOST:PORT"',
  drainTimeout: 'seconds (a number ≥ 0)',
  keepOnExit: 'true or false',
  cgroupRoot: 'the cgroup2 mount point of the node',
  checkInterval: 'seconds (a number > 0)',
};

const bad = (where: string, key: string, got: unknown) =>
  new UsageError('BAD_ARGUMENT', `${where}: "${key}" must be ${KEYS[key as keyof AgentConfigFile]}, not ${JSON.stringify(got)}`, {
    hint: 'see docs/agent.md for the config schema, or print a valid one with: sockaccel-ffi agent --print-config',
  });

function isPort(p: unknown): p is number {
  return Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
}

/** "80,443" → [80, 443] (the --ports / --exclude-ports syntax of `up`); `what` names the option in errors. */
export function parsePortList(text: string, what: string): number[] {
  const ports = text.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  if (!ports.length || !ports.every(isPort)) {
    throw new UsageError('BAD_ARGUMENT', `${what} must be a comma-separated list of ports (1-65535), not "${text}"`, { hint: 'e.g. 6379,8080' });
  }
  return ports;
}

/** "127.0.0.1:9477", "[::1]:9477", ":9477" (every address), "localhost:9477". */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (!isPort(port)) return undefined;
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export function formatListen(l: { host: string; port: number }): string {
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

/** Check the parsed JSON of a config file; `where` names it in errors. Returns the keys as given. */
export function checkConfigFile(json: unknown, where: string): AgentConfigFile {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError('BAD_ARGUMENT', `${where}: the config must be a JSON object`, { hint: 'e.g. {"cgroups": ["/sys/fs/cgroup/myapp"], "policy": "learn"}' });
  }
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(k in KEYS)) {
      const near = Object.keys(KEYS).find((x) => x.toLowerCase() === k.toLowerCase().replace(/[-_]/g, ''));
      throw new UsageError('BAD_ARGUMENT', `${where}: unknown key "${k}"${near ? ` (did you mean "${near}"?)` : ''}`, {
        hint: `the keys are: ${Object.keys(KEYS).join(', ')} (docs/agent.md)`,
      });
    }
  }
  const strings = (k: 'cgroups' | 'excludeCgroups') => {
    const v = o[k];
    if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string' && x.trim() !== ''))) throw bad(where, k, v);
  };
  const ports = (k: 'ports' | 'excludePorts') => {
    const v = o[k];
    if (v !== undefined && !(Array.isArray(v) && v.every(isPort))) throw bad(where, k, v);
  };
  const bool = (k: 'trace' | 'keepOnExit') => { if (o[k] !== undefined && typeof o[k] !== 'boolean') throw bad(where, k, o[k]); };
  const str = (k: 'cgroup' | 'pinDir' | 'cgroupRoot' | 'listen') => { if (o[k] !== undefined && (typeof o[k] !== 'string' || (o[k] as string).trim() === '')) throw bad(where, k, o[k]); };
  strings('cgroups');
  strings('excludeCgroups');
  ports('ports');
  ports('excludePorts');
  bool('trace');
  bool('keepOnExit');
  str('cgroup');
  str('pinDir');
  str('cgroupRoot');
  str('listen');
  if (o.cgroup !== undefined && o.cgroups !== undefined) {
    throw new UsageError('BAD_ARGUMENT', `${where}: give "cgroups" or "cgroup", not both`, { hint: 'use "cgroups": [...] for one or several' });
  }
  if (o.policy !== undefined && o.policy !== 'learn' && o.policy !== 'all') throw bad(where, 'policy', o.policy);
  if (o.maxEntries !== undefined && !(Number.isInteger(o.maxEntries) && (o.maxEntries as number) > 0)) throw bad(where, 'maxEntries', o.maxEntries);
  if (o.listen !== undefined && !parseListen(o.listen as string)) throw bad(where, 'listen', o.listen);
  if (o.drainTimeout !== undefined && !(typeof o.drainTimeout === 'number' && Number.isFinite(o.drainTimeout) && o.drainTimeout >= 0)) throw bad(where, 'drainTimeout', o.drainTimeout);
  if (o.checkInterval !== undefined && !(typeof o.checkInterval === 'number' && Number.isFinite(o.checkInterval) && o.checkInterval > 0)) throw bad(where, 'checkInterval', o.checkInterval);
  return o as AgentConfigFile;
}

/** Parse the text of a config file (JSON). */
export function parseConfigText(text: string, where: string): AgentConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError('BAD_ARGUMENT', `${where} is not valid JSON: ${(e as Error).message}`, { hint: 'the agent config is a JSON object (docs/agent.md)', cause: e });
  }
  return checkConfigFile(json, where);
}

/** Read and check a config file. A missing or unreadable file is a UsageError that says how to write one. */
export function readConfigFile(path: string): AgentConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError('BAD_PATH', `cannot read the config file ${path}: ${code ?? (e as Error).message}`, {
      hint: code === 'ENOENT' ? `write one (docs/agent.md), e.g.: sockaccel-ffi agent --print-config --cgroup /sys/fs/cgroup/myapp > ${path}` : 'check the path and its permissions',
      cause: e,
    });
  }
  return parseConfigText(text, path);
}

/** The file's settings, then the command line's on top (`options` use the file's keys), then defaults. */
export function resolveConfig(file: AgentConfigFile, options: AgentConfigFile = {}): AgentConfig {
  const pick = <K extends keyof AgentConfigFile>(k: K): AgentConfigFile[K] => (options[k] !== undefined ? options[k] : file[k]);
  // A cgroup given on the command line replaces the file's list (both spellings).
  const cmdCgroups = options.cgroups ?? (options.cgroup !== undefined ? [options.cgroup] : undefined);
  const fileCgroups = file.cgroups ?? (file.cgroup !== undefined ? [file.cgroup] : undefined);
  const listen = pick('listen') ?? DEFAULT_LISTEN;
  const parsed = parseListen(listen);
  if (!parsed) throw new UsageError('BAD_ARGUMENT', `--listen must be HOST:PORT (e.g. ${DEFAULT_LISTEN}), not "${listen}"`);
  return {
    cgroups: [...(cmdCgroups ?? fileCgroups ?? [])],
    excludeCgroups: [...(pick('excludeCgroups') ?? [])],
    policy: pick('policy') ?? 'learn',
    ports: [...(pick('ports') ?? [])],
    excludePorts: [...(pick('excludePorts') ?? [])],
    trace: pick('trace') ?? false,
    pinDir: pick('pinDir') ?? DEFAULT_PIN_DIR,
    maxEntries: pick('maxEntries'),
    listen: parsed,
    drainTimeoutS: pick('drainTimeout') ?? DEFAULT_DRAIN_TIMEOUT_S,
    keepOnExit: pick('keepOnExit') ?? false,
    cgroupRoot: pick('cgroupRoot'),
    checkIntervalS: pick('checkInterval') ?? DEFAULT_CHECK_INTERVAL_S,
  };
}

/** The config as a file would say it (what --print-config prints; parses back to the same config). */
export function toConfigFile(c: AgentConfig): AgentConfigFile {
  return {
    cgroups: c.cgroups,
    excludeCgroups: c.excludeCgroups,
    policy: c.policy,
    ports: c.ports,
    excludePorts: c.excludePorts,
    trace: c.trace,
    pinDir: c.pinDir,
    ...(c.maxEntries !== undefined ? { maxEntries: c.maxEntries } : {}),
    listen: formatListen(c.listen),
    drainTimeout: c.drainTimeoutS,
    keepOnExit: c.keepOnExit,
    ...(c.cgroupRoot !== undefined ? { cgroupRoot: c.cgroupRoot } : {}),
    checkInterval: c.checkIntervalS,
  };
}

/** The settings `up` cares about, in one comparable string: equal strings, nothing to apply. */
export function upSettingsKey(c: AgentConfig): string {
  const { cgroups, excludeCgroups, policy, ports, excludePorts, trace, pinDir, maxEntries, cgroupRoot } = c;
  return JSON.stringify({ cgroups, excludeCgroups, policy, ports, excludePorts, trace, pinDir, maxEntries, cgroupRoot });
}
