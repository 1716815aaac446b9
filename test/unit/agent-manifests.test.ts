// The deployment files, checked offline: the DaemonSet manifest against the Kubernetes API types
// (kubernetes-types, type-checked by tsc: unknown fields and wrong types fail), its ConfigMap
// against the agent's own config parser, and the pieces that must agree across files — the
// capabilities (the systemd unit's measured set), ports, probes, mounts, the drain deadline.
// (kubectl cannot check a manifest without an API server.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { parseConfigText, resolveConfig } from '../../src/agent/index.js';
import { REPO_ROOT } from './fixtures.js';

const MANIFEST = join(REPO_ROOT, 'deploy', 'kubernetes', 'daemonset.yaml');
const CONTAINERFILE = join(REPO_ROOT, 'deploy', 'container', 'Containerfile');
const UNIT = join(REPO_ROOT, 'deploy', 'systemd', 'sockaccel-ffi.service');

function docs(): Record<string, unknown>[] {
  const all = parseAllDocuments(readFileSync(MANIFEST, 'utf8'));
  for (const d of all) assert.equal(d.errors.map(String), [], 'YAML errors');
  return all.map((d) => d.toJS() as Record<string, unknown>).filter(Boolean);
}

/** The API type of each kind, as kubernetes-types names it. */
const TYPES: Record<string, [string, string]> = {
  Namespace: ['Namespace', 'kubernetes-types/core/v1.js'],
  ConfigMap: ['ConfigMap', 'kubernetes-types/core/v1.js'],
  DaemonSet: ['DaemonSet', 'kubernetes-types/apps/v1.js'],
};

test('every document type-checks as its Kubernetes API type (tsc, excess-property checks)', () => {
  const list = docs();
  assert.equal(list.map((d) => d.kind), ['Namespace', 'ConfigMap', 'DaemonSet']);
  const dir = join(REPO_ROOT, 'dist', 'manifest-check');
  mkdirSync(dir, { recursive: true });
  try {
    const lines = list.map((d, i) => {
      const t = TYPES[d.kind as string];
      assert.ok(t, `no type for kind ${String(d.kind)}`);
      return `import type { ${t![0]} as T${i} } from '${t![1]}';\nexport const doc${i}: T${i} = ${JSON.stringify(d, null, 2)};`;
    });
    writeFileSync(join(dir, 'manifest.ts'), lines.join('\n') + '\n');
    // A deliberately wrong copy must fail, so the check itself is known to bite.
    const ds = structuredClone(list[2]!) as any;
    ds.spec.template.spec.containers[0].securityContext.capabilites = { add: ['BPF'] };
    writeFileSync(join(dir, 'wrong.ts'), `import type { DaemonSet } from 'kubernetes-types/apps/v1.js';\nexport const d: DaemonSet = ${JSON.stringify(ds)};\n`);
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // One tsc run over both: errors must come from the wrong copy only.
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node',
      join(dir, 'manifest.ts'), join(dir, 'wrong.ts')], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000 });
    const errors = (r.stdout + r.stderr).split('\n').filter((l) => /error TS/.test(l));
    assert.equal(errors.filter((l) => !l.includes('wrong.ts')), [], 'the manifest does not type-check');
    assert.ok(errors.some((l) => l.includes('wrong.ts') && l.includes('capabilites')), `a misspelled field passed the type check: ${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the DaemonSet agrees with its ConfigMap, the agent and the systemd unit', () => {
  const [, cm, ds] = docs() as [unknown, ConfigMap, DaemonSet];
  const config = resolveConfig(parseConfigText(cm.data!['agent.json']!, 'ConfigMap agent.json'));
  const pod = ds.spec!.template.spec!;
  const c = pod.containers[0]!;
  assert.is(pod.containers.length, 1);
  assert.is(ds.metadata!.namespace, cm.metadata!.namespace);

  // Capabilities: exactly the unit's measured set, nothing privileged.
  const unit = readFileSync(UNIT, 'utf8');
  const unitCaps = /^CapabilityBoundingSet=(.*)$/m.exec(unit)![1]!.trim().split(/\s+/).map((x) => x.replace(/^CAP_/, '')).sort();
  assert.equal([...(c.securityContext!.capabilities!.add ?? [])].sort(), unitCaps, 'capabilities.add == the unit\'s CapabilityBoundingSet');
  assert.equal(c.securityContext!.capabilities!.drop, ['ALL']);
  assert.is(c.securityContext!.privileged, false);
  assert.is(c.securityContext!.allowPrivilegeEscalation, false);
  assert.is(pod.hostNetwork, false, 'sock_ops works on cgroups: no host network needed');

  // Metrics: the config listens on every address of the pod, on the declared port; probes use it.
  const port = c.ports!.find((p) => p.name === 'metrics')!;
  assert.is(port.containerPort, config.listen.port);
  assert.is(config.listen.host, '0.0.0.0', 'the kubelet probes the pod address, not its loopback');
  assert.is(ds.spec!.template.metadata!.annotations!['prometheus.io/port'], String(config.listen.port));
  for (const [probe, path] of [[c.livenessProbe, '/healthz'], [c.readinessProbe, '/readyz'], [c.startupProbe, '/healthz']] as const) {
    assert.is(probe!.httpGet!.path, path);
    assert.is(probe!.httpGet!.port, 'metrics');
  }

  // Mounts: bpffs at the pin dir's parent, the node's cgroup2 where SOCKACCEL_CGROUP_ROOT says, tracefs, the config.
  const mount = (name: string) => c.volumeMounts!.find((m) => m.name === name)!;
  const hostPath = (name: string) => pod.volumes!.find((v) => v.name === name)!.hostPath!.path;
  assert.is(hostPath('bpffs'), '/sys/fs/bpf');
  assert.ok(config.pinDir.startsWith(mount('bpffs').mountPath + '/'), 'the pin dir is on the host bpffs');
  assert.is(hostPath('cgroup2'), '/sys/fs/cgroup');
  assert.is(c.env!.find((e) => e.name === 'SOCKACCEL_CGROUP_ROOT')!.value, mount('cgroup2').mountPath);
  assert.is(mount('cgroup2').readOnly, true, 'attaching needs no write access to cgroupfs');
  assert.is(hostPath('tracefs'), '/sys/kernel/tracing');
  assert.is(c.args!.join(' '), `--config ${mount('config').mountPath}/agent.json`);

  // Rolling update: one agent per node at a time; the old one leaves the install for the new one.
  assert.is(ds.spec!.updateStrategy!.type, 'RollingUpdate');
  assert.is(ds.spec!.updateStrategy!.rollingUpdate!.maxSurge, 0, 'two agents must never share a pin dir');
  assert.is(config.keepOnExit, true, 'a rolling update must not drain the node');
  assert.ok(pod.terminationGracePeriodSeconds! > config.drainTimeoutS, 'the grace period covers the drain deadline');
  assert.ok(c.resources!.limits!.memory, 'a memory limit');
});

test('the Containerfile: Node.js base, the packed package installed, no compiler, the agent as entrypoint', () => {
  const text = readFileSync(CONTAINERFILE, 'utf8');
  const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
  assert.ok(froms.length >= 1 && froms.every((f) => /^node:\d+/.test(f)), `base images: ${froms}`);
  const final = text.slice(text.lastIndexOf('\nFROM '));
  assert.match(final, /npm install --global [^\n]*sockaccel-ffi-\*\.tgz/);
  assert.not.match(final, /\b(clang|gcc|llvm|build-essential|make)\b/, 'no compiler in the runtime image');
  assert.match(final, /^ENTRYPOINT \["sockaccel-ffi", "agent"\]$/m);
  const [, cm] = docs() as [unknown, ConfigMap];
  const config = resolveConfig(parseConfigText(cm.data!['agent.json']!, 'ConfigMap agent.json'));
  assert.match(final, new RegExp(`^EXPOSE ${config.listen.port}$`, 'm'));
  // The package the image installs carries what --print-unit reads.
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('deploy'), 'package.json files include deploy/');
});

test.run();
