// The systemd unit's sandbox, measured: the agent run with exactly the unit's CapabilityBoundingSet
// (setpriv, no new privileges) in a private mount namespace where every mount is read-only except
// /sys/fs/bpf — what ProtectSystem=strict + ReadWritePaths=/sys/fs/bpf + ProtectKernelTunables +
// ProtectControlGroups leave it — and /tmp is private. It must install (with the learning
// policy's tracepoint observers), serve, accelerate, drain and remove everything. Then each
// capability of the set is dropped in turn: the agent must refuse to start and leave nothing
// pinned, which shows the set is minimal. (The syscall-filter options of the unit — ProtectClock,
// RestrictNamespaces, … — cannot be emulated here: the agent makes none of the calls they forbid.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { status } from '../../src/accel/index.js';
import { finished, freePort, listPins, need, REPO_ROOT, startNodeClient, startNodeServer, withScope } from '../support/index.js';
import { agentExit, startAgent } from '../support/agent.js';
import { counters } from '../support/accel.js';
import { skipIf } from '../support/skip.js';

const UNIT = join(REPO_ROOT, 'deploy', 'systemd', 'sockaccel-ffi.service');
const UNIT_CAPS = /^CapabilityBoundingSet=(.*)$/m.exec(readFileSync(UNIT, 'utf8'))![1]!.trim().split(/\s+/);

/** Runs "$@" in the private mount namespace unshare made, with the unit's file-system view. */
const SANDBOX = String.raw`
set -eu
# Only ever inside the namespace unshare(1) just made: never remount the machine's own mounts.
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/$PPID/ns/mnt)" ] || { echo 'sandbox: not in a private mount namespace' >&2; exit 99; }
while read -r _ target _; do
  case "$target" in /proc|/proc/*|/dev|/dev/*|/sys/fs/bpf|/sys/fs/bpf/*|*\\*) continue ;; esac
  mount -o remount,bind,ro "$target" 2>/dev/null || echo "sandbox: could not make $target read-only" >&2
done < /proc/self/mounts
mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
# A private /tmp, as PrivateTmp gives. A checkout under /tmp (CI's fresh clone) would vanish under it:
# carry it over (held on /dev/shm, moved back, read-only) so the agent's own code stays visible.
repo=$1; shift
hold=
case "$repo" in /tmp/*) hold=$(mktemp -d /dev/shm/sockaccel-sandbox-XXXXXX); mount -n --bind "$repo" "$hold" ;; esac
mount -t tmpfs -o mode=1777 tmpfs /tmp
if [ -n "$hold" ]; then
  mkdir -p "$repo"
  mount -n --move "$hold" "$repo"  # -n: /run (the mount table) is read-only here
  rmdir "$hold"
  mount -n -o remount,bind,ro "$repo" || echo "sandbox: could not make $repo read-only" >&2
fi
probe=/etc/.sockaccel-sandbox-probe-$$
if touch "$probe" 2>/dev/null; then rm -f "$probe"; echo 'sandbox: / is still writable' >&2; exit 98; fi
if ( : > /proc/sys/kernel/perf_event_paranoid ) 2>/dev/null; then echo 'sandbox: /proc/sys is still writable' >&2; exit 98; fi
exec "$@"`;

/** The wrapper argv: unshare → the sandbox script → setpriv with `caps` (names like CAP_BPF) as the bounding set. */
function sandboxed(caps: string[]): string[] {
  const bset = ['-all', ...caps.map((c) => '+' + c.replace(/^CAP_/, '').toLowerCase())].join(',');
  return [need('unshare'), '--mount', '--propagation', 'private', 'bash', '-c', SANDBOX, 'sandbox', REPO_ROOT, need('setpriv'), '--bounding-set', bset, '--inh-caps', '-all', '--no-new-privs'];
}

const t = suite('e2e: agent in the systemd unit\'s sandbox');

// Debian's and Ubuntu's kernels refuse every perf_event_open without CAP_SYS_ADMIN when
// kernel.perf_event_paranoid > 2 (their default, 3): the unit's set then cannot attach the syscalls
// tracepoint observer, and the agent must say so (docs/agent.md tells operators to set it to 2).
const PARANOID = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim());
const PARANOID_PATCH = PARANOID > 2 && /Debian|Ubuntu/.test(readFileSync('/proc/version', 'utf8'));

if (PARANOID_PATCH) {
  t(`with ${UNIT_CAPS.join(' ')} only and kernel.perf_event_paranoid ${PARANOID}: refuses to start, naming the sysctl, and leaves nothing behind`, async () => {
    await withScope('agentsandboxp', async (scope) => {
      const pinDir = scope.pinDir();
      const agent = await startAgent(scope, ['--cgroup', scope.cgroup(), '--pin-dir', pinDir], { wrap: sandboxed(UNIT_CAPS), waitRunning: false });
      const exit = await agentExit(agent, 60_000);
      assert.is(exit.code, 1, `${agent.proc.stdout} ${agent.proc.stderr}`);
      assert.match(agent.proc.stderr, /perf_event_paranoid is \d: .*CAP_SYS_ADMIN.*set it to 2/);
      assert.equal(listPins(pinDir), []);
    });
  });
}

skipIf(t, PARANOID_PATCH ? `kernel.perf_event_paranoid is ${PARANOID}: the unit's set cannot open perf events here (the refusal is tested instead)` : undefined)(`with ${UNIT_CAPS.join(' ')} only, read-only everything but /sys/fs/bpf: installs with observers, accelerates, drains, removes everything`, async () => {
  assert.equal([...UNIT_CAPS].sort(), ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
  await withScope('agentsandbox', async (scope) => {
    const cgroup = scope.cgroup();
    const pinDir = scope.pinDir();
    const agent = await startAgent(scope, ['--cgroup', cgroup, '--pin-dir', pinDir], { wrap: sandboxed(UNIT_CAPS) });
    assert.not.match(agent.proc.stderr, /sandbox:/, `sandbox setup: ${agent.proc.stderr}`);
    assert.is(agent.get('/readyz').code, 200);
    const st = status({ pinDir });
    assert.is(st.up, true);
    assert.is(st.policy, 'learn');
    assert.is(st.observers, 'tp_btf', 'the tracepoint observers attached with the reduced set');
    assert.ok(listPins(pinDir).includes('link_obs_splice_enter'), 'the syscalls tracepoint (perf_event) observer is attached');
    // The agent's own process really runs with the reduced set.
    const capEff = /^CapEff:\s*(\S+)$/m.exec(readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8'))![1]!;
    assert.is(BigInt('0x' + capEff), (1n << 39n) | (1n << 38n) | (1n << 12n), `CapEff ${capEff} is CAP_BPF|CAP_PERFMON|CAP_NET_ADMIN`);
    assert.match(readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8'), /^NoNewPrivs:\s*1$/m);

    // Traffic in the cgroup: works, and sockets are decided on (probation: first connection of a service).
    const where = { cgroup };
    const port = freePort();
    const srv = await startNodeServer(scope, where, { port, conns: 2 });
    const cl = await finished(startNodeClient(scope, where, { port, conns: 2, sizes: [256 * 1024], replySizes: [256 * 1024], seed: 'sandbox', sequential: true }), 'client');
    await finished(srv, 'server');
    assert.ok(cl.result?.results?.every((r: { ok: boolean }) => r.ok), `connections in the cgroup: ${JSON.stringify(cl.result)}`);
    const c = counters(pinDir);
    assert.ok(c.decisions.probation + c.decisions.redirect >= 2, `decisions were made: ${JSON.stringify(c.decisions)}`);

    agent.proc.kill('SIGTERM');
    const exit = await agentExit(agent, 30_000);
    assert.is(exit.code, 0, `agent exit; ${agent.proc.stdout} ${agent.proc.stderr}`);
    assert.equal(listPins(pinDir), [], 'drained and unpinned from inside the sandbox');
  });
});

for (const dropped of UNIT_CAPS) {
  t(`without ${dropped} the agent refuses to start and leaves nothing behind`, async () => {
    await withScope(`agentcap${dropped.slice(4, 8).toLowerCase()}`, async (scope) => {
      const cgroup = scope.cgroup();
      const pinDir = scope.pinDir();
      const agent = await startAgent(scope, ['--cgroup', cgroup, '--pin-dir', pinDir], { wrap: sandboxed(UNIT_CAPS.filter((c) => c !== dropped)), waitRunning: false });
      const exit = await agentExit(agent, 60_000);
      const failed = agent.logs().find((l) => l.msg === 'could not start');
      assert.is(exit.code, 1, `exit code without ${dropped}: ${agent.proc.stdout} ${agent.proc.stderr}`);
      assert.ok(failed, `logged why: ${agent.proc.stdout}`);
      assert.match(agent.proc.stderr, /^error: /m, 'one error line on stderr');
      assert.equal(listPins(pinDir), [], `pins left without ${dropped}`);
    });
  });
}

t.run();
