// `agent`: commander wiring for the long-running service (src/agent). Options mirror `up`'s and the
// config file's keys; the command line wins over the file.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { realpathSync } from 'node:fs';
import { Exit } from './errors.js';
import type { AgentConfigFile } from '../agent/config.js';
import type { Io } from './program.js';

const DEFAULT_CONFIG_PATH = '/etc/sockaccel-ffi/agent.json';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function number(what: string, min: number, integer = false) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${what} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, not "${v}"`);
    }
    return n;
  };
}

/** Commander's view: the config file's keys, under the option names (--cgroup, --exclude-cgroup, --ports as text). */
type AgentCliOptions = Omit<AgentConfigFile, 'cgroup' | 'cgroups' | 'excludeCgroups' | 'ports' | 'excludePorts'> & {
  config?: string;
  cgroup?: string[];
  excludeCgroup?: string[];
  ports?: string;
  excludePorts?: string;
  logFormat?: 'auto' | 'json' | 'text';
  printConfig?: boolean;
  printUnit?: boolean;
};

const HELP = `
The config file (JSON; docs/agent.md has the schema) takes the same settings:
  {"cgroups": ["/sys/fs/cgroup/myapp"], "policy": "learn", "listen": "127.0.0.1:9477", "drainTimeout": 30}
Options given here win over the file's. Relative cgroup paths are relative to the cgroup v2 root.

Signals:
  SIGHUP           re-read the config and apply it (policy, ports, trace: in place; other settings
                   replace the install once no accelerated socket is open; until then it runs on as it is)
  SIGTERM, SIGINT  drain as down does (up to --drain-timeout) and exit 0; with --keep-on-exit leave the
                   install running for the next agent; a second signal exits at once

Examples:
  sudo sockaccel-ffi agent --cgroup /sys/fs/cgroup/myapp          foreground, metrics on 127.0.0.1:9477
  sudo sockaccel-ffi agent --config /etc/sockaccel-ffi/agent.json
  sockaccel-ffi agent --print-unit > /etc/systemd/system/sockaccel-ffi.service
  sockaccel-ffi agent --print-config --cgroup /sys/fs/cgroup/myapp > /etc/sockaccel-ffi/agent.json
  curl -s 127.0.0.1:9477/metrics`;

export function registerAgent(program: Command, io: Io, setExit: (code: number) => void): void {
  program.command('agent')
    .description('run as a service: up, then serve /metrics, /healthz and /readyz; SIGHUP reloads, SIGTERM drains')
    .option('--config <file>', `JSON config file, re-read on SIGHUP (the unit uses ${DEFAULT_CONFIG_PATH})`)
    .option('--cgroup <dir>', 'cgroup v2 directory to accelerate; repeatable (default: the cgroup v2 root: the whole machine)', collect)
    .option('--exclude-cgroup <dir>', 'a cgroup below an accelerated one whose connections stay on TCP; repeatable', collect)
    .addOption(new Option('--policy <policy>', 'learn (default) or all (unsafe for splice and blocking readers; needs --cgroup)').choices(['learn', 'all']))
    .option('--ports <list>', 'only connections to these server ports are candidates (comma-separated)')
    .option('--exclude-ports <list>', 'connections to these server ports always stay on TCP (comma-separated)')
    .option('--trace', 'log a trace line per decision and per miss (read with: trace)')
    .option('--pin-dir <dir>', 'where the install is pinned (default /sys/fs/bpf/sockaccel)')
    .option('--max-entries <n>', 'capacity of the socket map (default: as compiled, 65535)', number('--max-entries', 1, true))
    .option('--listen <host:port>', 'where /metrics, /healthz and /readyz are served (default 127.0.0.1:9477; :9477 for every address)')
    .option('--drain-timeout <seconds>', 'how long SIGTERM waits for accelerated connections to close (default 30)', number('--drain-timeout', 0))
    .option('--keep-on-exit', 'on SIGTERM/SIGINT leave the install pinned and running, for the next agent to adopt (rolling updates)')
    .option('--cgroup-root <dir>', "the node's cgroup2 mount when it is not the first one (in a container: e.g. /host/sys/fs/cgroup; also $SOCKACCEL_CGROUP_ROOT)")
    .option('--check-interval <seconds>', 'how often to check the install and retry a change that waits (default 5)', number('--check-interval', 0.1))
    .addOption(new Option('--log-format <format>', 'json lines or text lines (default: json unless stdout is a terminal)').choices(['auto', 'json', 'text']).default('auto'))
    .option('--print-config', 'print the resulting config as JSON (for a config file) and exit')
    .option('--print-unit', 'print a systemd unit that runs this installation of the agent, and exit')
    .addHelpText('after', HELP)
    .action(async (o: AgentCliOptions) => {
      const { runAgent, createLogger, resolveConfig, readConfigFile, parsePortList, toConfigFile, renderUnit } = await import('./verbs.js');
      if (o.printUnit) {
        const cli = realpathSync(process.argv[1]!);
        const { text, warnings } = renderUnit({ node: process.execPath, cli, config: o.config ?? DEFAULT_CONFIG_PATH });
        for (const w of warnings) io.err(`warning: ${w}\n`);
        io.out(text);
        setExit(Exit.ok);
        return;
      }
      const overrides = {
        cgroups: o.cgroup, excludeCgroups: o.excludeCgroup, policy: o.policy,
        ports: o.ports === undefined ? undefined : parsePortList(o.ports, '--ports'),
        excludePorts: o.excludePorts === undefined ? undefined : parsePortList(o.excludePorts, '--exclude-ports'),
        trace: o.trace, pinDir: o.pinDir, maxEntries: o.maxEntries, listen: o.listen, drainTimeout: o.drainTimeout,
        keepOnExit: o.keepOnExit, cgroupRoot: o.cgroupRoot, checkInterval: o.checkInterval,
      };
      if (o.printConfig) {
        const file = o.config ? readConfigFile(o.config) : {};
        io.out(JSON.stringify(toConfigFile(resolveConfig(file, overrides)), null, 2) + '\n');
        setExit(Exit.ok);
        return;
      }
      const format = o.logFormat === 'json' || o.logFormat === 'text' ? o.logFormat : process.stdout.isTTY ? 'text' : 'json';
      const log = createLogger(format, (l) => io.out(l));
      setExit(await runAgent({ configFile: o.config, overrides, log }));
    });
}
