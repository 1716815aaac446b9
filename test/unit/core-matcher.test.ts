// The CO-RE matcher on BTF built in the test: flavours, anonymous members, arrays, ambiguity,
// type_matches, enum flavours, and poisoning when nothing matches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Btf, BtfKind as K } from '../../src/btf/index.js';
import { CoreError, CoreReloKind as R, resolveCoreRelocation } from '../../src/btf/core.js';
import { LazyBtf, essentialName } from '../../src/btf/lazy.js';
import { BtfBuilder } from './btf-builder.js';


function buildTargetWithPtr(): { btf: LazyBtf; ids: Record<string, number> } {
  const b = new BtfBuilder();
  const int = b.type('int', K.INT, 0, false, 4, (1 << 24) | 32);
  const long = b.type('long', K.INT, 0, false, 8, (1 << 24) | 64);
  const anon = b.type('', K.UNION, 1, false, 4, b.str('b'), int, 0);
  const arr = b.type('', K.ARRAY, 0, false, 0, int, int, 4);
  const s = b.type('s', K.STRUCT, 3, false, 24, b.str('pad'), long, 0, 0, anon, 64, b.str('arr'), arr, 96);
  const lh = b.count + 1;
  b.type('list_head', K.STRUCT, 2, false, 16, b.str('next'), lh + 1, 0, b.str('prev'), lh + 1, 64);
  b.type('', K.PTR, 0, false, lh);
  const e = b.type('e', K.ENUM, 2, false, 4, b.str('A'), 5, b.str('B'), 6);
  return { btf: LazyBtf.parse(b.build(), 'target.btf'), ids: { int, long, anon, arr, s, lh, e } };
}

/** Local ("object"): struct s___mine { int b; int arr[4]; }, list_head___m/___bad, enum e___x { B = 1, C = 2 }. */
function buildLocal() {
  const b = new BtfBuilder();
  const int = b.type('int', K.INT, 0, false, 4, (1 << 24) | 32);
  const arr = b.type('', K.ARRAY, 0, false, 0, int, int, 4);
  const s = b.type('s___mine', K.STRUCT, 3, false, 24, b.str('b'), int, 0, b.str('arr'), arr, 32, b.str('gone'), int, 160);
  const m = b.count + 1;
  b.type('list_head___m', K.STRUCT, 2, false, 16, b.str('next'), m + 1, 0, b.str('prev'), m + 1, 64);
  b.type('', K.PTR, 0, false, m);
  const bad = b.type('list_head___bad', K.STRUCT, 1, false, 4, b.str('next'), int, 0);
  const e = b.type('e___x', K.ENUM, 2, false, 4, b.str('B'), 1, b.str('C'), 2);
  return { btf: Btf.parse(b.build(), 'local.btf'), ids: { int, arr, s, m, bad, e } };
}

test('essential names drop ___flavour, as libbpf does', () => {
  assert.is(essentialName('task_struct___local'), 'task_struct');
  assert.is(essentialName('s___mine___2'), 's___mine');
  assert.is(essentialName('a____b'), 'a____b', 'four underscores are not a flavour separator');
  assert.is(essentialName('___x'), '___x');
});

test('the lazy target finds types by essential name without decoding everything', () => {
  const { btf, ids } = buildTargetWithPtr();
  assert.equal(btf.idsByEssentialName('s'), [ids.s]);
  assert.equal(btf.idsByEssentialName('list_head'), [ids.lh]);
  assert.equal(btf.idsByEssentialName('nope'), []);
  assert.is(btf.kindOf(ids.s), K.STRUCT);
});

test('field offsets through an anonymous union and into an array; missing field poisons', () => {
  const { btf: local, ids: l } = buildLocal();
  const { btf: targ, ids: t } = buildTargetWithPtr();
  const b = resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0:0', kind: R.FIELD_BYTE_OFFSET });
  assert.is(b.origVal, 0n);
  assert.is(b.newVal, 8n, 'b sits in the anonymous union after long pad');
  assert.equal(b.targets, [`struct s [${t.s}]`]);
  const a2 = resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0:1:2', kind: R.FIELD_BYTE_OFFSET });
  assert.is(a2.origVal, 4n + 8n);
  assert.is(a2.newVal, 12n + 8n, 'arr[2] at 12 + 2*4');
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0:1', kind: R.FIELD_BYTE_SIZE }).newVal, 16n);
  const gone = resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0:2', kind: R.FIELD_BYTE_OFFSET });
  assert.ok(gone.poison);
  assert.match(gone.reason!, /does not exist/);
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0:2', kind: R.FIELD_EXISTS }).newVal, 0n);
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0:0', kind: R.FIELD_SIGNED }).newVal, 1n);
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0', kind: R.TYPE_SIZE }).newVal, 24n);
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0', kind: R.TYPE_ID_TARGET }).newVal, BigInt(t.s));
});

test('type_matches: same shape matches, another shape does not; type_exists is looser', () => {
  const { btf: local, ids: l } = buildLocal();
  const { btf: targ } = buildTargetWithPtr();
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.m, accessor: '0', kind: R.TYPE_MATCHES }).newVal, 1n);
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.bad, accessor: '0', kind: R.TYPE_MATCHES }).newVal, 0n);
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.bad, accessor: '0', kind: R.TYPE_EXISTS }).newVal, 1n, 'a struct of that name exists');
});

test('enum flavours: values by enumerator name; an unknown enumerator poisons enumval_value', () => {
  const { btf: local, ids: l } = buildLocal();
  const { btf: targ } = buildTargetWithPtr();
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.e, accessor: '0', kind: R.ENUMVAL_VALUE }).newVal, 6n, 'B is 6 in the target');
  assert.is(resolveCoreRelocation(local, targ, { typeId: l.e, accessor: '1', kind: R.ENUMVAL_EXISTS }).newVal, 0n);
  assert.ok(resolveCoreRelocation(local, targ, { typeId: l.e, accessor: '1', kind: R.ENUMVAL_VALUE }).poison);
});

test('two candidates that disagree are an ambiguity error; a malformed access string is an error', () => {
  const b = new BtfBuilder();
  const int = b.type('int', K.INT, 0, false, 4, (1 << 24) | 32);
  b.type('s', K.STRUCT, 1, false, 4, b.str('b'), int, 0);
  b.type('s___v2', K.STRUCT, 2, false, 8, b.str('a'), int, 0, b.str('b'), int, 32);
  const targ = LazyBtf.parse(b.build(), 'two.btf');
  const { btf: local, ids: l } = buildLocal();
  assert.throws(() => resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0:0', kind: R.FIELD_BYTE_OFFSET }), (e: unknown) => e instanceof CoreError && /ambiguous/.test((e as Error).message));
  assert.throws(() => resolveCoreRelocation(local, targ, { typeId: l.s, accessor: '0:x', kind: R.FIELD_BYTE_OFFSET }), /malformed/);
});

test.run();
