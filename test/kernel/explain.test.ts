// --explain on the real kernel: the narration of load() comes from the real bpf() calls — the ids it
// names are the kernel's ids of the objects we got, the relocations are the ones applied, the
// verifier statistics are the verifier's — and a refused program still fails with the real verdict.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfObject } from '../../src/index.js';
import { setImmediate as tick } from 'node:timers/promises';
import { describeAttr, describeCall, withNarration } from '../../src/sys/explain.js';
import { mapCreateAttr } from '../../src/sys/commands.js';
import { Cmd, MapType } from '../../src/uapi/enums.js';
import { VerifierError } from '../../src/errors.js';
import { fixture } from './helpers.js';

test('load({ explain }) narrates each map, relocation and program with the kernel ids it got', () => {
  const said: string[] = [];
  const loaded = BpfObject.open(fixture('globals.bpf.o')).load({ explain: (l) => said.push(l) });
  try {
    const text = said.join('\n');
    for (const [name, map] of loaded.maps) {
      const id = map.info().id;
      const line = said.find((l) => l.startsWith('bpf(BPF_MAP_CREATE') && l.includes(`map ${name} (`));
      assert.ok(line, `a BPF_MAP_CREATE line for ${name}:\n${text}`);
      assert.match(line!, `map_type=${MapType.ARRAY === map.type ? 'ARRAY' : ''}`);
      assert.match(line!, new RegExp(`→ fd \\d+ \\(map id ${id}\\)`), line!);
    }
    for (const [name, prog] of loaded.programs) {
      const id = prog.info().id;
      const line = said.find((l) => l.startsWith('bpf(BPF_PROG_LOAD') && l.includes(`program ${name} (`));
      assert.ok(line, `a BPF_PROG_LOAD line for ${name}:\n${text}`);
      assert.match(line!, new RegExp(`→ fd \\d+ \\(prog id ${id}\\)`), line!);
      assert.match(line!, /prog_type=\w+ insn_cnt=\d+ insns=\d+ bytes license="GPL"/);
      assert.ok(said.some((l) => new RegExp(`^the verifier accepted ${name}: .*processed \\d+ insns`).test(l)), `verifier stats for ${name}`);
      for (const r of prog.relocations) {
        const want = `${name}: relocated insn ${r.insn} for `;
        const l = said.find((x) => x.includes(want));
        assert.ok(l, want);
        assert.match(l!, `imm ${r.oldImm} → ${r.newImm} (its fd)`);
        assert.match(l!, new RegExp(`→ \`r\\d = map\\[fd ${r.newImm}\\]`));
      }
      // The stats-only log is the narration's, not the caller's.
      assert.is(prog.verifierLog, undefined);
    }
    assert.ok(said.some((l) => /^bpf\(BPF_BTF_LOAD \{ btf=\d+ bytes btf_size=\d+ \}\) → fd \d+ \(btf id \d+\)/.test(l)), `the BTF upload is narrated:\n${text}`);
  } finally {
    loaded.close();
  }
});

test('a refused program: the failed PROG_LOAD is narrated with its errno and the verdict is the real one', () => {
  const said: string[] = [];
  let err: unknown;
  try {
    BpfObject.open(fixture('verifier_reject.bpf.o')).load({ explain: (l) => said.push(l) }).close();
  } catch (e) {
    err = e;
  }
  assert.instance(err, VerifierError);
  assert.ok((err as VerifierError).verdict.length > 0);
  assert.not.match((err as VerifierError).verdict, /^(processed|verification time|stack depth)/);
  assert.ok(said.some((l) => /^bpf\(BPF_PROG_LOAD .*→ EACCES \(errno 13\)|^bpf\(BPF_PROG_LOAD .*→ EINVAL \(errno 22\)/.test(l)), said.join('\n'));
});

test('narration nests once per sink and ends with its operation', () => {
  const said: string[] = [];
  const say = (l: string) => said.push(l);
  let names: string[] = [];
  withNarration(say, () => withNarration(say, () => {
    const loaded = BpfObject.open(fixture('globals.bpf.o')).load({ explain: say });
    names = [...loaded.maps.keys()];
    loaded.close();
  }));
  const creates = said.filter((l) => l.startsWith('bpf(BPF_MAP_CREATE'));
  assert.ok(creates.length >= names.length);
  for (const name of names) assert.is(creates.filter((l) => l.includes(`[map ${name} (`)).length, 1, name);
  assert.is(new Set(creates).size, creates.length, 'no call narrated twice');
  const n = said.length;
  BpfObject.open(fixture('globals.bpf.o')).load().close();
  assert.is(said.length, n, 'nothing narrated outside the operation');
});

test('two loads running at once narrate only their own calls', async () => {
  const run = (file: string) => {
    const said: string[] = [];
    const maps = new Set<string>();
    const work = withNarration((l) => said.push(l), async () => {
      for (let i = 0; i < 4; i++) {
        await tick();
        const obj = BpfObject.open(fixture(file));
        // maps.bpf.o pins one map by name: not into /sys/fs/bpf itself.
        for (const m of obj.maps.values()) m.pinning = 'none';
        const loaded = obj.load();
        for (const name of loaded.maps.keys()) maps.add(name);
        loaded.close();
      }
    });
    return { said, maps, work };
  };
  const a = run('globals.bpf.o');
  const b = run('maps.bpf.o');
  await Promise.all([a.work, b.work]);
  const named = (said: string[]) => said.filter((l) => l.startsWith('bpf(BPF_MAP_CREATE')).map((l) => /\[map (\S+) \(/.exec(l)?.[1]).filter((x): x is string => !!x);
  assert.ok(named(a.said).length > 0 && named(b.said).length > 0, 'both narrated');
  for (const n of named(a.said)) assert.ok(a.maps.has(n) || n.endsWith('.inner'), `A narrated ${n}, a map of B`);
  for (const n of named(b.said)) assert.ok(b.maps.has(n) || n.endsWith('.inner'), `B narrated ${n}, a map of A`);
  const overlap = [...a.maps].filter((m) => b.maps.has(m) && !m.startsWith('.'));
  assert.equal(overlap, [], 'the two objects have different map names (else this test proves nothing)');
});

test('attr decoding (no kernel involved)', () => {
  const attr = mapCreateAttr({ map_type: MapType.SOCKHASH, key_size: 48, value_size: 8, max_entries: 65535, map_flags: 1, map_name: 'sock_hash' });
  assert.is(describeAttr(Cmd.MAP_CREATE, attr), 'map_type=SOCKHASH key_size=48 value_size=8 max_entries=65535 map_flags=NO_PREALLOC map_name="sock_hash"');
  assert.is(describeCall(Cmd.MAP_CREATE, attr, { ret: -1, errno: 1 }, 'map sock_hash'), 'bpf(BPF_MAP_CREATE { map_type=SOCKHASH key_size=48 value_size=8 max_entries=65535 map_flags=NO_PREALLOC map_name="sock_hash" }) → EPERM (errno 1)   [map sock_hash]');
  assert.is(describeCall(Cmd.MAP_CREATE, attr, { ret: 7, errno: 0 }, 'm', () => 99), 'bpf(BPF_MAP_CREATE { map_type=SOCKHASH key_size=48 value_size=8 max_entries=65535 map_flags=NO_PREALLOC map_name="sock_hash" }) → fd 7 (map id 99)   [m]');
});

test.run();
