// BTF and BTF.ext.
export { Btf } from './btf.js';
export { parseBtfExt, type BtfExt, type ExtFuncInfo, type ExtLineInfo, type ExtCoreRelo } from './ext.js';
export { encodeBtf, encodeTypes } from './encode.js';
export * from './kinds.js';
