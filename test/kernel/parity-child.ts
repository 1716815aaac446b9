// Our loader's half of the parity test (test/kernel/parity.test.ts), the counterpart of
// tools/libbpf-oracle.sh + tools/libbpf-oracle-load.c: run inside a private mount namespace
// (`unshare --mount --propagation private node parity-child.js OBJ OUT [TARGET.bpf.o:PROG:FUNC]`),
// it mounts a fresh bpffs over /sys/fs/bpf, loads OBJ with sockaccel-ffi, pins its programs under
// DIR/progs/<name> and its maps under DIR/maps/<libbpf's name with '.' → '_'> (maps the loader pinned
// itself, by name, stay where they are), writes the metadata the kernel does not report (section,
// expected attach type, prog_flags, autoload) in the oracle loader's format, and describes it all
// with the oracle's own collector (tools/libbpf-oracle.py), so both sides are read back the same
// way. Nothing is attached; the namespace's bpffs goes with the process. Not a test file itself.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BpfObject, enumName, AttachType, ProgType, type LoadedObject } from '../../src/index.js';
import { kernelName } from '../../src/object/names.js';
import { REPO } from './helpers.js';

const [objPath, outPath, target] = process.argv.slice(2);
if (!objPath || !outPath) {
  process.stderr.write('usage: parity-child.js OBJECT.bpf.o OUT.json [TARGET.bpf.o:PROG:FUNC]\n');
  process.exit(2);
}
const BPFFS = '/sys/fs/bpf';
const PRELOADED = new Set(['maps.debug', 'progs.debug']);
const bpftool = process.env.BPFTOOL ?? join(REPO, '.cache/oracle-bpftool/bpftool');

// A fresh bpffs of our own (the namespace is private): pins made here are invisible outside.
spawnSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { stdio: 'inherit' });
if (readdirSync(BPFFS).some((n) => !PRELOADED.has(n))) {
  process.stderr.write(`parity-child: ${BPFFS} is not a fresh bpffs, refusing\n`);
  process.exit(2);
}
const dir = join(BPFFS, `ours-${process.pid}`);
mkdirSync(dir);
const work = join(tmpdir(), `parity-child-${process.pid}`);
mkdirSync(work, { recursive: true });
const logFile = join(work, 'log');
const metaFile = join(work, 'meta.json');
const warnings: string[] = [];
let rc = 0;
const opened: LoadedObject[] = [];

function cleanup() {
  for (const l of opened) { try { l.close(); } catch { /* already */ } }
  for (const n of readdirSync(BPFFS)) if (!PRELOADED.has(n)) rmSync(join(BPFFS, n), { recursive: true, force: true });
  spawnSync('umount', [BPFFS]);
  rmSync(work, { recursive: true, force: true });
}

try {
  const obj = BpfObject.open(objPath);
  if (target) {
    const [tObj, tProg, tFunc] = target.split(':');
    const t = BpfObject.open(tObj!).load({ warn: (m) => warnings.push(m) });
    opened.push(t);
    const tp = t.programs.get(tProg!);
    if (!tp) throw new Error(`target ${tProg} not in ${tObj}`);
    for (const p of obj.programs.values()) if (p.type === ProgType.EXT) obj.setAttachTarget(p.name, tp, tFunc);
  }
  const loaded = obj.load({ warn: (m) => warnings.push(m) });
  opened.push(loaded);
  mkdirSync(join(dir, 'progs'));
  mkdirSync(join(dir, 'maps'));
  const meta: { programs: Record<string, unknown>; maps: Record<string, unknown> } = { programs: {}, maps: {} };
  for (const p of obj.programs.values()) {
    const l = loaded.programs.get(p.name);
    const eat = l ? l.expectedAttachType : p.expectedAttachType;
    meta.programs[p.name] = {
      section: p.section, libbpf_type: enumName(ProgType, p.type).toLowerCase(),
      expected_attach_type: enumName(AttachType, eat).toLowerCase(), expected_attach_type_id: eat,
      autoload: !!l, prog_flags: l ? l.progFlags : null, ...(l ? { loaded_expected_attach_type: eat } : {}),
    };
    if (l) l.pin(join(dir, 'progs', p.name));
  }
  for (const [name, spec] of obj.maps) {
    const m = loaded.maps.get(name);
    if (!m) { meta.maps[name] = { created: false }; continue; }
    const libbpfName = spec.kind === 'data' ? kernelName(obj.name, name) : name;
    const pinnedBySelf = spec.kind === 'map' && spec.pinning !== 'none';
    const pin = pinnedBySelf ? undefined : join(dir, 'maps', libbpfName.replace(/\./g, '_'));
    if (pin) m.pin(pin);
    meta.maps[libbpfName] = { created: true, ...(pin ? { pin } : {}) };
  }
  writeFileSync(metaFile, JSON.stringify(meta));
  writeFileSync(logFile, warnings.map((w) => `libbpf: ${w}`).join('\n') + '\n');
} catch (e) {
  rc = 1;
  // The error's own words (a verifier log tail follows the first line; keep it out of the summary).
  writeFileSync(logFile, `${(e as Error).name}: ${(e as Error).message.split('\n')[0]}\n`);
}

try {
  const args = [join(REPO, 'tools/libbpf-oracle.py'), '--object', objPath, '--dir', dir, '--bpffs', BPFFS, '--rc', String(rc),
    '--log', logFile, '--bpftool', bpftool, '--oracle', 'sockaccel-ffi', ...(rc === 0 ? ['--meta', metaFile] : [])];
  const r = spawnSync('python3', args, { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`parity-child: collector failed for ${basename(objPath)}: ${r.stderr}\n`);
    process.exitCode = 2;
  } else {
    writeFileSync(outPath, r.stdout);
  }
} finally {
  cleanup();
}
