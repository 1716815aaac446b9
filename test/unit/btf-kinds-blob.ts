// A BTF blob with one of every kind (and the features older kernels lack), shared by the sanitiser's
// unit tests and the kernel test that proves the sanitised bytes are still valid BTF.
import { BtfKind as K } from '../../src/btf/index.js';
import { BtfBuilder } from './btf-builder.js';

export function featureBlob() {
  const b = new BtfBuilder();
  const int = b.type('int', K.INT, 0, false, 4, (1 << 24) | 32);
  const ptr = b.type('', K.PTR, 0, false, int);
  const struct = b.type('pair', K.STRUCT, 2, false, 8, b.str('a'), int, 0, b.str('b'), int, 32);
  const enm = b.type('color', K.ENUM, 2, true, 4, b.str('RED'), 0, b.str('NEG'), -1);
  const proto = b.type('', K.FUNC_PROTO, 2, false, int, b.str('x'), int, b.str('p'), ptr);
  const func = b.type('f', K.FUNC, 1, false, proto); // vlen 1 = global linkage
  const variable = b.type('v', K.VAR, 0, false, struct, 1);
  const datasec = b.type('.data.x', K.DATASEC, 1, false, 8, variable, 0, 8);
  const float = b.type('double', K.FLOAT, 0, false, 8);
  const declTag = b.type('tag', K.DECL_TAG, 0, false, struct, 1);
  const typeTag = b.type('user', K.TYPE_TAG, 0, false, int);
  const tagged = b.type('', K.PTR, 0, false, typeTag);
  const enum64 = b.type('big', K.ENUM64, 2, false, 8, b.str('MAX'), 0xffffffff, 0x7fffffff, b.str('MIN'), 0, 0x80000000);
  return { blob: b.build(), ids: { int, ptr, struct, enm, proto, func, variable, datasec, float, declTag, typeTag, tagged, enum64 } };
}
