// The BTF sanitiser (kinds an older kernel lacks, rewritten as libbpf does) and the DATASEC fix-ups.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Btf, BtfKind as K } from '../../src/btf/index.js';
import { ALL_BTF_FEATURES, featuresUsed, sanitizeBtf, type BtfFeatures } from '../../src/btf/sanitize.js';
import { readElf } from '../../src/elf/index.js';
import { parseObject } from '../../src/object/parse.js';
import { featureBlob } from './btf-kinds-blob.js';
import { fixturePath, readFixture } from './fixtures.js';

const NONE: BtfFeatures = { func: false, funcGlobal: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false };

test('a kernel with every feature gets the BTF byte for byte', () => {
  const { blob } = featureBlob();
  const btf = Btf.parse(blob, 'hand.btf');
  const out = sanitizeBtf(btf, ALL_BTF_FEATURES);
  assert.equal(out.rewrites, []);
  assert.ok(out.bytes.equals(blob));
  assert.equal([...featuresUsed(btf)].sort(), ['datasec', 'declTag', 'enum64', 'float', 'func', 'funcGlobal', 'typeTag']);
});

test('with no features, every new kind is rewritten into an old one', () => {
  const { blob, ids } = featureBlob();
  const btf = Btf.parse(blob, 'hand.btf');
  const out = sanitizeBtf(btf, NONE);
  const s = Btf.parse(out.bytes, 'sanitized.btf');
  assert.is(s.type(ids.func).kind, K.TYPEDEF);
  const proto = s.type(ids.proto);
  assert.ok(proto.kind === K.ENUM && proto.size === 4 && proto.values.map((v) => v.name).join() === 'x,p');
  assert.is(s.type(ids.variable).kind, K.INT);
  const sec = s.type(ids.datasec);
  assert.ok(sec.kind === K.STRUCT);
  if (sec.kind === K.STRUCT) {
    assert.is(sec.name, '_data_x', 'dots become underscores');
    assert.equal(sec.members.map((m) => [m.name, m.type, m.bitOffset]), [['v', ids.variable, 0]]);
  }
  const float = s.type(ids.float);
  assert.ok(float.kind === K.STRUCT && float.size === 8 && float.members.length === 0);
  assert.is(s.type(ids.declTag).kind, K.INT);
  const tag = s.type(ids.typeTag);
  assert.ok(tag.kind === K.CONST && tag.type === ids.int && tag.nameOff === 0);
  const e64 = s.type(ids.enum64);
  assert.ok(e64.kind === K.UNION && e64.size === 8);
  if (e64.kind === K.UNION) {
    const ph = s.type(e64.members[0]!.type);
    assert.ok(ph.kind === K.INT && ph.name === 'enum64_placeholder' && ph.size === 1);
    assert.is(ph.id, btf.types.length, 'the placeholder is appended after every existing type');
  }
  const enm = s.type(ids.enm);
  assert.ok(enm.kind === K.ENUM && !enm.signed, 'signed enums lose the flag without ENUM64 support');
  // Names of untouched types and the original strings are where they were (line_info points there).
  assert.is(s.type(ids.struct).name, 'pair');
  assert.ok(out.bytes.includes(btf.strings));
  assert.ok(out.rewrites.includes('1 DECL_TAG → INT'));
});

test('only global linkage goes when the kernel has FUNC but not global functions', () => {
  const { blob, ids } = featureBlob();
  const s = Btf.parse(sanitizeBtf(Btf.parse(blob, 'hand.btf'), { ...ALL_BTF_FEATURES, funcGlobal: false }).bytes, 's');
  const f = s.type(ids.func);
  assert.ok(f.kind === K.FUNC && f.linkage === 0);
  assert.is(s.type(ids.proto).kind, K.FUNC_PROTO);
});

test('DATASEC sizes and VAR offsets are filled from the ELF at parse time, sorted by offset', () => {
  const spec = parseObject(readFixture('globals'), fixturePath('globals'));
  const btf = spec.btf!;
  assert.equal(spec.btfProblems, []);
  for (const name of ['.rodata', '.data', '.bss']) {
    const sec = btf.find(name, K.DATASEC);
    assert.ok(sec && sec.kind === K.DATASEC, name);
    if (!sec || sec.kind !== K.DATASEC) continue;
    assert.is(sec.size, spec.maps.get(name)!.valueSize, `${name} size is the section's`);
    assert.is(spec.maps.get(name)!.btfValueTypeId, sec.id, `${name} map is typed by its DATASEC`);
    const offsets = sec.vars.map((v) => v.offset);
    assert.equal(offsets, [...offsets].sort((a, b) => a - b));
    for (const v of sec.vars) {
      const variable = btf.type(v.type);
      const g = spec.globals.get(variable.name);
      if (g) assert.is(v.offset, g.offset, `${variable.name} offset`);
    }
  }
  // Clang left them at 0 in the file: the raw section says so, so the fix-up did the work.
  const raw = Btf.parse(readElf(readFixture('globals'), 'globals').section('.BTF')!.data, 'globals');
  const rawData = raw.find('.data', K.DATASEC);
  assert.ok(rawData && rawData.kind === K.DATASEC && rawData.size === 0);
});

test.run();
