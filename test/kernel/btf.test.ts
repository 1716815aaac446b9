// BTF upload against the real kernel: probes, sanitised BTF still valid, typed maps, func_info and
// line_info (source lines in `bpftool prog dump xlated` and in a refused program's error), and the
// load-without-BTF fallback.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { ObjectError, BpfError, BpfObject } from '../../src/index.js';
import { Btf } from '../../src/btf/index.js';
import { sanitizeBtf, type BtfFeatures } from '../../src/btf/sanitize.js';
import { btfProbeBlobs, probeBtfFeatures } from '../../src/load/btf-probe.js';
import { VerifierError } from '../../src/errors.js';
import { btfLoadTry } from '../../src/sys/commands.js';
import { featureBlob } from '../unit/btf-kinds-blob.js';
import { fixture, removePinDir, tempPinDir } from './helpers.js';

const PACKET = Buffer.alloc(64, 0xab);
const bpftool = (...args: string[]) => execFileSync('bpftool', args, { encoding: 'utf8' });

const upload = suite('btf: upload');

upload('every feature probe is accepted by this kernel (6.18 knows them all)', () => {
  for (const [name, blob] of Object.entries(btfProbeBlobs)) {
    const r = btfLoadTry(blob, undefined, 0, `probe ${name}`);
    assert.ok(r.fd, `probe ${name} refused with errno ${r.errno}`);
    r.fd!.close();
  }
  assert.equal(Object.values(probeBtfFeatures(Object.keys(btfProbeBlobs) as (keyof BtfFeatures)[])), [true, true, true, true, true, true, true]);
});

upload('sanitised BTF (as for a kernel without any newer kind) is still accepted', () => {
  const none: BtfFeatures = { func: false, funcGlobal: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false };
  const blobs: [string, Btf][] = [['hand-built, every kind', Btf.parse(featureBlob().blob, 'hand.btf')]];
  for (const f of ['calls', 'globals', 'maps']) blobs.push([f, BpfObject.open(fixture(`${f}.bpf.o`)).spec.btf!]);
  for (const [name, btf] of blobs) {
    for (const features of [none, { ...none, func: true }]) {
      const { bytes, rewrites } = sanitizeBtf(btf, features);
      assert.ok(rewrites.length > 0, `${name}: something was rewritten`);
      const log = Buffer.alloc(65536);
      const r = btfLoadTry(bytes, log, 1, name);
      assert.ok(r.fd, `${name} sanitised (${rewrites.join(', ')}) refused: ${log.toString('utf8', 0, log.indexOf(0))}`);
      r.fd!.close();
    }
  }
});

upload('maps carry BTF key/value types (bpftool shows named fields); SOCKHASH and map-in-map do not', () => {
  // pinMaps: maps.bpf.o pins `pinned_counts` by name; keep it out of /sys/fs/bpf itself.
  const dir = tempPinDir('btf-maps');
  const loaded = BpfObject.open(fixture('maps.bpf.o')).load({ pinMaps: dir });
  try {
    const flows = loaded.maps.get('flows')!;
    assert.ok(flows.info().btfId > 0, 'flows has a BTF id');
    assert.is(loaded.maps.get('sock_hash')!.info().btfId, 0, 'SOCKHASH goes without BTF');
    assert.is(loaded.maps.get('outer')!.info().btfId, 0, 'ARRAY_OF_MAPS goes without BTF');
    assert.ok(loaded.maps.get('.rodata')!.info().btfId > 0, 'global data is typed by its DATASEC');
    flows.update(Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 7, 0, 9, 0]), Buffer.alloc(24));
    const dump = JSON.parse(bpftool('-j', 'map', 'dump', 'id', String(flows.info().id)));
    assert.equal(dump[0].formatted.key, { saddr: 1, daddr: 2, sport: 7, dport: 9 });
    assert.equal(Object.keys(dump[0].formatted.value), ['packets', 'bytes', 'last_seen']);
  } finally {
    loaded.close();
    removePinDir(dir);
  }
});

upload('func_info and line_info: bpftool prog dump xlated shows our C source lines', () => {
  const loaded = BpfObject.open(fixture('calls.bpf.o')).load();
  try {
    const id = loaded.programs.get('calls_first')!.info().id;
    const xlated = bpftool('prog', 'dump', 'xlated', 'id', String(id));
    assert.match(xlated, /; return add_ten\(5\) \+ outer_step\(1\);/);
    assert.match(xlated, /int add_ten\(int x\):/, 'the appended subprogram is named by its func_info');
    assert.match(xlated, /; return inner_step\(inner_step\(x\) \+ 3\);/, 'line_info of appended subprograms was rebased');
    const loop = bpftool('prog', 'dump', 'xlated', 'id', String(loaded.programs.get('calls_loop')!.info().id));
    assert.match(loop, /\*\(__u64 \*\)ctx \+= index;/, 'the callback is there with its source');
  } finally {
    loaded.close();
  }
});

upload('a refused program: the verdict first, then the C line and its file:line, then the log tail', () => {
  try {
    BpfObject.open(fixture('verifier_reject.bpf.o')).load();
    assert.unreachable('the verifier must refuse it');
  } catch (e) {
    assert.instance(e, VerifierError);
    assert.instance(e, BpfError);
    const err = e as VerifierError;
    const lines = err.message.split('\n');
    assert.match(lines[0], /^the verifier refused program no_null_check .*: R0 invalid mem access 'map_value_or_null'$/);
    assert.match(lines[1], /^ {2}at verifier_reject\.bpf\.c:20: return \*v; \/\/ deliberately unchecked/);
    assert.equal(err.source, { file: 'verifier_reject.bpf.c', line: 20, text: 'return *v; // deliberately unchecked' });
    assert.is(err.verdict, "R0 invalid mem access 'map_value_or_null'");
    assert.ok(err.log!.includes('processed'), 'then the log tail');
  }
});

upload('when the BTF cannot be loaded and nothing needs it: load without it, and say so once', () => {
  const notices: string[] = [];
  const warn = (m: string) => notices.push(m);
  for (let i = 0; i < 2; i++) {
    const obj = BpfObject.open(fixture('maps.bpf.o'));
    obj.spec.btfProblems = ['(test) pretend the fix-ups failed'];
    const dir = tempPinDir('btf-none');
    const loaded = obj.load({ warn, pinMaps: dir });
    try {
      assert.is(loaded.maps.get('flows')!.info().btfId, 0, 'no BTF: untyped map');
      assert.is(loaded.programs.get('count_packets')!.testRun({ data: PACKET }).retval, 2);
    } finally {
      loaded.close();
      removePinDir(dir);
    }
  }
  assert.is(notices.length, 1, 'said once');
  assert.match(notices[0], /maps\.bpf\.o: loading without BTF.*pretend the fix-ups failed/);
});

upload('when the BTF cannot be loaded and a callback needs it: an error naming program, callback and reason', () => {
  const obj = BpfObject.open(fixture('calls.bpf.o'));
  obj.spec.btfProblems = ['(test) pretend the fix-ups failed'];
  try {
    obj.load();
    assert.unreachable('bpf_loop needs func_info');
  } catch (e) {
    // Fix-up problems are the object's (no syscall failed): an ObjectError.
    assert.instance(e, ObjectError);
    const m = (e as Error).message;
    assert.match(m, /calls_loop/);
    assert.match(m, /sum_callback/);
    assert.match(m, /pretend the fix-ups failed/);
  }
});
upload.run();
