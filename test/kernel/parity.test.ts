// Parity with libbpf: every bpf/corpus object goes through our loader (test/kernel/parity-child.ts)
// and through libbpf 1.5 (tools/libbpf-oracle.sh, a test oracle only), live, on the running kernel,
// each in its own private bpffs; both are described by the same collector (tools/libbpf-oracle.py)
// and compared by name:
//   programs  type, tag, xlated size, expected attach type, prog_flags, attach BTF, maps used, name
//   maps      type, key/value size, max_entries, flags, map_extra, frozen, BTF key/value passed,
//             struct_ops value type, kernel name, pinned by the loader, contents (map-in-map and
//             prog-array slots by name)
// An object libbpf refuses must be refused by us, with a message naming the cause. Where we differ
// from libbpf on purpose, DIVERGES says so and why (README, Library section). Kernel-dependent
// expectations follow the running kernel: both loaders run on it.
//
// In the tools/vm guests (SOCKACCEL_VM=1, where TCG makes every load slow) only the objects whose
// result depends on what the host kernel lacks are compared (VM_OBJECTS); the host runs them all.
//
// PARITY_PUBLIC=1 also runs the public corpus (bpf/corpus/public-loaded-host-6.18.txt, compiled
// into .cache/public-corpus/obj by tools/public-corpus.sh, or PARITY_PUBLIC_DIR) and prints counts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from './helpers.js';
import { skipIf } from '../support/skip.js';

const CORPUS = join(REPO, 'bpf/corpus');
const ORACLE = join(REPO, 'tools/libbpf-oracle.sh');
const CHILD = fileURLToPath(new URL('./parity-child.js', import.meta.url));

/** Objects that need a partner loaded first: the freplace target. */
const TARGETS: Record<string, string> = {
  'freplace.bpf.o': `${join(CORPUS, 'freplace_target.bpf.o')}:target_prog:check_len`,
};

/**
 * Where our loader differs from the libbpf 1.5 oracle on purpose. `oracle` is what libbpf does, and
 * the test checks that; we may then load.
 */
const DIVERGES: Record<string, { why: string; oracleRefuses: RegExp }> = {
  'legacy_map_def.bpf.o': { why: 'libbpf ≥ 1.0 refuses every legacy `maps` section; we read bpf_map_def records (as cilium/ebpf does)', oracleRefuses: /legacy map definitions/ },
  'legacy_elf_map.bpf.o': { why: 'libbpf ≥ 1.0 refuses legacy `maps`; we read iproute2 bpf_elf_map records and pin PIN_GLOBAL_NS/PIN_OBJECT_NS as tc does', oracleRefuses: /legacy map definitions/ },
  'sec_libbpf16.bpf.o': { why: 'uprobe.session is libbpf 1.6 (the contract\'s libbpf 1.8 knows it); the oracle is libbpf 1.5', oracleRefuses: /missing BPF prog type|unrecognized|section/ },
};

/** What our refusal must name, per object (when both refuse). Otherwise: the file and something of the object. */
const CAUSE: Record<string, RegExp> = {
  'kconfig_missing.bpf.o': /CONFIG_SOCKACCEL_NO_SUCH_OPTION \(strong\)/,
  'unknown_section.bpf.o': /mystery.*section "sockaccel\/unknown"/,
  'legacy_trailing.bpf.o': /odd_map.*non-zero bytes/,
  'ksyms.bpf.o': /bpf_prog_active \(strong\).*kallsyms|runqueues/,
  // No trampolines (the host): the kind is refused; Debian 6.1: bpf_modify_return_test is not on the
  // kernel's error-injection list, so fmod_ret on it is refused by the verifier (libbpf too).
  'fentry.bpf.o': /fentry needs BPF trampolines.*this kernel refused them|(fmodret_test|fentry_sleepy) .*bpf_modify_return_test(\(\))? is not (modifiable|sleepable)/,
  'fentry_plain.bpf.o': /fentry needs BPF trampolines.*this kernel refused them/,
  'lsm.bpf.o': /lsm needs the BPF LSM.*this kernel refused them/,
  'freplace.bpf.o': /freplace needs BPF trampolines.*refused|check_len/,
  'struct_ops.bpf.o': /corpus_cc|struct_ops/,
  'arena.bpf.o': /arena/,
  'kfunc.bpf.o': /bpf_task_from_pid|kfunc/,
  'tp_btf.bpf.o': /bpf_task_acquire|bpf_task_release|kfunc/,
};

/** Per map: fields that differ on purpose. */
const MAP_DIVERGES: Record<string, Record<string, string[]>> = {
  // libbpf mmap()s the arena (the kernel then reports map_extra 0); we have no mmap() binding and give
  // the arena its user address at creation instead (map_extra).
  'arena.bpf.o': { arena: ['map_extra'] },
};

type Doc = {
  loaded: boolean; error?: string; not_loaded?: string[];
  programs?: Record<string, unknown>[]; maps?: Record<string, unknown>[];
};

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    // TCG in the VMs makes one load take minutes.
    const timer = setTimeout(() => p.kill('SIGKILL'), process.env.SOCKACCEL_VM === '1' ? 1_200_000 : 180_000);
    p.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

async function oracle(obj: string): Promise<Doc> {
  const r = await run('bash', [ORACLE, obj], { LIBBPF_ORACLE_TARGET: TARGETS[basename(obj)] ?? '' });
  if (r.status !== 0) throw new Error(`oracle failed on ${basename(obj)}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Doc;
}

async function ours(obj: string, work: string): Promise<Doc> {
  const out = join(work, `${basename(obj)}.ours.json`);
  const args = ['--mount', '--propagation', 'private', process.execPath, CHILD, obj, out, ...(TARGETS[basename(obj)] ? [TARGETS[basename(obj)]!] : [])];
  const r = await run('unshare', args);
  if (r.status !== 0 || !existsSync(out)) throw new Error(`our loader's describer failed on ${basename(obj)}: ${r.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Doc;
}

const PROG_FIELDS = ['type', 'tag', 'bytes_xlated', 'expected_attach_type', 'prog_flags', 'attach_btf', 'maps', 'gpl_compatible', 'kernel_name'];
const MAP_FIELDS = ['type', 'key_size', 'value_size', 'max_entries', 'flags', 'map_extra', 'frozen', 'btf_key_value', 'btf_vmlinux_value_type', 'kernel_name', 'pinned_by_libbpf', 'contents'];

/** The number in "cgroup_inet_ingress (0)": the names of attach types differ between tools, not the numbers. */
const eatNumber = (v: unknown) => (typeof v === 'string' ? /\((\d+)\)$/.exec(v)?.[1] ?? v : v);
/** A program's BTF is named by the ids of the programs using it, which differ between two loads. */
const attachBtf = (v: unknown) => {
  const a = v as { obj?: string } | null;
  return a && typeof a.obj === 'string' && a.obj.startsWith('prog BTF') ? { ...a, obj: 'prog BTF' } : a;
};
const normalise = (f: string, v: unknown) => (f === 'expected_attach_type' ? eatNumber(v) : f === 'attach_btf' ? attachBtf(v) : v);

/** Differences between libbpf's and our description of one object, as readable lines. */
export function compare(name: string, lib: Doc, us: Doc): string[] {
  const diffs: string[] = [];
  const byName = (list: Record<string, unknown>[] | undefined) => new Map((list ?? []).map((x) => [x.name as string, x]));
  const lp = byName(lib.programs);
  const up = byName(us.programs);
  for (const n of new Set([...lp.keys(), ...up.keys()])) {
    const a = lp.get(n);
    const b = up.get(n);
    if (!a || !b) { diffs.push(`program ${n}: ${a ? 'only libbpf loads it' : 'only we load it'}`); continue; }
    for (const f of PROG_FIELDS) {
      const x = normalise(f, a[f]);
      const y = normalise(f, b[f]);
      if (JSON.stringify(x) !== JSON.stringify(y)) diffs.push(`program ${n}: ${f} libbpf ${JSON.stringify(a[f])} ours ${JSON.stringify(b[f])}`);
    }
  }
  if (JSON.stringify(lib.not_loaded ?? []) !== JSON.stringify(us.not_loaded ?? [])) diffs.push(`not loaded: libbpf ${JSON.stringify(lib.not_loaded)} ours ${JSON.stringify(us.not_loaded)}`);
  const lm = byName(lib.maps);
  const um = byName(us.maps);
  for (const n of new Set([...lm.keys(), ...um.keys()])) {
    const a = lm.get(n);
    const b = um.get(n);
    if (!a || !b) { diffs.push(`map ${n}: ${a ? 'only libbpf creates it' : 'only we create it'}`); continue; }
    const skip = MAP_DIVERGES[name]?.[n] ?? [];
    for (const f of MAP_FIELDS) {
      if (skip.includes(f)) continue;
      if (JSON.stringify(a[f]) !== JSON.stringify(b[f])) diffs.push(`map ${n}: ${f} libbpf ${JSON.stringify(a[f])} ours ${JSON.stringify(b[f])}`);
    }
  }
  return diffs;
}

/** Does our refusal name its cause? */
function namesCause(name: string, us: Doc, objPath: string): boolean {
  const err = us.error ?? '';
  const want = CAUSE[name];
  if (want) return want.test(err);
  return err.includes(name) || err.includes(objPath);
}

/** Why the parity test cannot run here, or undefined when it can (decided at registration). */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (the oracle and our loader load objects)';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'needs unshare (util-linux) for private bpffs mounts';
  if (spawnSync('python3', ['--version']).status !== 0) return 'needs python3 (the oracle\'s collector)';
  if (!existsSync(CHILD)) return `${CHILD} is not built`;
  const r = spawnSync('bash', [ORACLE, '--bpftool'], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return `the libbpf oracle cannot be built here: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ')}`;
  const tool = r.stdout.trim().split('\n')[0] ?? '';
  if (!process.env.BPFTOOL && !tool.includes('.cache/oracle-bpftool')) {
    return `the oracle would be ${tool} (not libbpf 1.5 built from the 6.12 source tarball): give LINUX_SOURCE_TARBALL or BPFTOOL`;
  }
  return undefined;
}

/** The objects the VMs compare: the kinds and features the host refuses or has differently. */
const VM_OBJECTS = new Set([
  'freplace_target.bpf.o', 'freplace.bpf.o', 'fentry.bpf.o', 'fentry_plain.bpf.o', 'fentry_module.bpf.o', 'lsm.bpf.o', 'ksyms.bpf.o', 'kfunc.bpf.o',
  'tp_btf.bpf.o', 'struct_ops.bpf.o', 'arena.bpf.o', 'sec_net_new.bpf.o', 'sec_trace_new.bpf.o', 'kconfig.bpf.o',
  'tool_execsnoop.bpf.o', 'tool_usdt.bpf.o', 'iter.bpf.o',
]);

const why = unavailable();
const parity = suite('parity: our loader vs libbpf 1.5 on bpf/corpus');
const inVm = process.env.SOCKACCEL_VM === '1';
const objects = readdirSync(CORPUS).filter((f) => f.endsWith('.bpf.o') && f !== 'freplace_target.bpf.o' && (!inVm || VM_OBJECTS.has(f))).sort();
objects.unshift('freplace_target.bpf.o');
if (inVm) console.log(`    in a VM guest: comparing the ${objects.length} objects whose result depends on the kernel (VM_OBJECTS)`);
const work = mkdtempSync(join(tmpdir(), 'parity-'));
const tally = { both: 0, bothRefuse: 0, diverges: 0, progs: 0, maps: 0 };

// Without the oracle, one skip with the reason (printed, and listed after the summary) stands for all.
if (why) skipIf(parity, why)(`the ${objects.length} bpf/corpus objects`, () => {});
for (const name of why ? [] : objects) {
  parity(name, async () => {
    const path = join(CORPUS, name);
    const [lib, us] = await Promise.all([oracle(path), ours(path, work)]);
    const d = DIVERGES[name];
    if (d && !lib.loaded) {
      assert.match(lib.error ?? '', d.oracleRefuses, `libbpf refuses ${name} as documented`);
      tally.diverges++;
      console.log(`    ${name}: libbpf refuses, we ${us.loaded ? 'load it' : `refuse it too: ${us.error?.split('\n')[0]}`} — ${d.why}`);
      return;
    }
    if (!lib.loaded) {
      assert.is(us.loaded, false, `libbpf refuses ${name} (${lib.error?.split('\n').find((l) => l.startsWith('libbpf:')) ?? lib.error}), so must we`);
      assert.ok(namesCause(name, us, path), `our refusal of ${name} names its cause: ${us.error}`);
      tally.bothRefuse++;
      return;
    }
    assert.ok(us.loaded, `libbpf loads ${name}; we refused: ${us.error}`);
    const diffs = compare(name, lib, us);
    assert.equal(diffs, [], `${name}: our loader and libbpf differ`);
    tally.both++;
    tally.progs += lib.programs?.length ?? 0;
    tally.maps += lib.maps?.length ?? 0;
  });
}
parity.after(() => {
  rmSync(work, { recursive: true, force: true });
  if (!why) console.log(`    parity on bpf/corpus: ${tally.both} objects loaded identically by both (${tally.progs} programs, ${tally.maps} maps), ${tally.bothRefuse} refused by both (ours naming the cause), ${tally.diverges} documented divergences`);
});
parity.run();

// The public corpus, measured on demand (it takes minutes).
const publicDir = process.env.PARITY_PUBLIC_DIR ?? join(REPO, '.cache/public-corpus/obj');
const publicList = join(CORPUS, 'public-loaded-host-6.18.txt');
const pub = suite('parity: public corpus (PARITY_PUBLIC=1)');
const pubWhy = why ?? (process.env.PARITY_PUBLIC !== '1' ? 'set PARITY_PUBLIC=1 to run it (about 10 minutes)' : !existsSync(publicDir) ? `no compiled public corpus in ${publicDir} (tools/public-corpus.sh)` : undefined);
if (pubWhy) {
  skipIf(pub, pubWhy)('public corpus: loaded by libbpf → loaded identically by us', () => {});
} else {
  pub('public corpus: loaded by libbpf → loaded identically by us', async () => {
    const names = readFileSync(publicList, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    const result = { present: 0, libbpfLoads: 0, weLoad: 0, identical: 0, progs: 0, identicalProgs: 0 };
    const failures: string[] = [];
    // PARITY_PUBLIC_SAMPLE=K measures every K-th object of the list (deterministic), for a quicker run.
    const every = Math.max(1, Number(process.env.PARITY_PUBLIC_SAMPLE ?? 1) || 1);
    const queue = names.filter((n, i) => i % every === 0 && existsSync(join(publicDir, n)));
    result.present = queue.length;
    // Its own scratch directory: the corpus suite's is gone by now.
    const pubWork = mkdtempSync(join(tmpdir(), 'parity-public-'));
    const worker = async () => {
      for (let n = queue.shift(); n; n = queue.shift()) {
        const path = join(publicDir, n);
        const [lib, us] = await Promise.all([oracle(path), ours(path, pubWork)]);
        if (!lib.loaded) continue;
        result.libbpfLoads++;
        result.progs += lib.programs?.length ?? 0;
        if (!us.loaded) {
          failures.push(`${n}: we refuse: ${us.error?.split('\n')[0]}`);
          console.log(`      ${failures[failures.length - 1]}`);
          continue;
        }
        result.weLoad++;
        const diffs = compare(n, lib, us);
        const progDiffs = new Set(diffs.filter((x) => x.startsWith('program ')).map((x) => x.split(':')[0]));
        result.identicalProgs += (lib.programs?.length ?? 0) - progDiffs.size;
        if (diffs.length) {
          failures.push(`${n}: ${diffs.slice(0, 3).join('; ')}${diffs.length > 3 ? ` (+${diffs.length - 3})` : ''}`);
          console.log(`      ${failures[failures.length - 1]}`); // as it goes: a run cut short still says what it found
        }
        else result.identical++;
      }
    };
    try {
      await Promise.all([worker(), worker()]);
    } finally {
      rmSync(pubWork, { recursive: true, force: true });
    }
    console.log(`    public corpus${every > 1 ? ` (every ${every}th of the list)` : ""}: ${result.present} objects present; libbpf loads ${result.libbpfLoads} now, we load ${result.weLoad}, identical ${result.identical} (programs ${result.identicalProgs}/${result.progs} identical)`);
    assert.ok(result.weLoad > 0);
  });
}
pub.run();
