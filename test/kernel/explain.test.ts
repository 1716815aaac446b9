// --explain on the real kernel: the narration of load() comes from the real bpf() calls — the ids it
// names are the kernel's ids of the objects we got, the relocations are the ones applied, the
// verifier statistics are the verifier's — and a refused program still fails with the real verdict.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfObject } from '../../src/index.js';
import { describeAttr, describeCall, narrateCalls } from '../../src/sys/explain.js';
import { encodeMapCreate } from '../../src/sys/commands.js';
import { Cmd, MapType } from '../../src/sys/constants.js';
import { VerifierError } from '../../src/load/verifier.js';
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
      assert.match(line!, /prog_type=\w+ insn_cnt=\d+ license="GPL"/);
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
    assert.ok(said.some((l) => /^bpf\(BPF_BTF_LOAD \{ btf_size=\d+ \}\) → fd \d+ \(btf id \d+\)/.test(l)), 'the BTF upload is narrated');
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

test('narration nests once per sink and stops when asked', () => {
  const said: string[] = [];
  const say = (l: string) => said.push(l);
  const outer = narrateCalls(say);
  const inner = narrateCalls(say);
  const loaded = BpfObject.open(fixture('globals.bpf.o')).load({ explain: say });
  loaded.close();
  inner();
  const creates = said.filter((l) => l.startsWith('bpf(BPF_MAP_CREATE'));
  // Every map, plus the templates of map-in-map inner maps; each call once (each line names a new map id).
  assert.ok(creates.length >= loaded.maps.size);
  for (const name of loaded.maps.keys()) assert.is(creates.filter((l) => l.includes(`[map ${name} (`)).length, 1, name);
  assert.is(new Set(creates).size, creates.length, 'no call narrated twice');
  outer();
  const n = said.length;
  BpfObject.open(fixture('globals.bpf.o')).load().close();
  assert.is(said.length, n, 'nothing narrated after stop');
});

test('attr decoding (no kernel involved)', () => {
  const attr = encodeMapCreate({ type: MapType.SOCKHASH, keySize: 48, valueSize: 8, maxEntries: 65535, flags: 1, name: 'sock_hash' });
  assert.is(describeAttr(Cmd.MAP_CREATE, attr.buf, attr), 'map_type=SOCKHASH key_size=48 value_size=8 max_entries=65535 map_flags=NO_PREALLOC map_name="sock_hash"');
  assert.is(describeCall(Cmd.MAP_CREATE, attr.buf, { ret: -1, errno: 1 }, 'map sock_hash'), 'bpf(BPF_MAP_CREATE { map_type=SOCKHASH key_size=48 value_size=8 max_entries=65535 map_flags=NO_PREALLOC map_name="sock_hash" }) → EPERM (errno 1)   [map sock_hash]');
  assert.is(describeCall(Cmd.MAP_CREATE, attr.buf, { ret: 7, errno: 0 }, 'm', attr, () => 99), 'bpf(BPF_MAP_CREATE { map_type=SOCKHASH key_size=48 value_size=8 max_entries=65535 map_flags=NO_PREALLOC map_name="sock_hash" }) → fd 7 (map id 99)   [m]');
});

test.run();
