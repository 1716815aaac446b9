// Decoding .BTF.ext: func_info, line_info and core_relo records, grouped by the ELF section they
// describe. Instruction offsets here are in BYTES from the start of that section (the object layer
// turns them into per-function instruction indexes).
import { ObjectError } from '../errors.js';
import type { Btf } from './btf.js';

const BTF_MAGIC = 0xeb9f;
/** func_info_off..line_info_len; core_relo_off/len follow when hdr_len ≥ 32. */
const EXT_HEADER_MIN = 24;
const MIN_REC = { funcInfo: 8, lineInfo: 16, coreRelo: 16 } as const;

export interface ExtFuncInfo { insnOff: number; typeId: number }
export interface ExtLineInfo { insnOff: number; fileNameOff: number; lineOff: number; fileName: string; line: string; lineNumber: number; column: number }
export interface ExtCoreRelo { insnOff: number; typeId: number; accessStrOff: number; accessor: string; kind: number }

export interface BtfExt {
  /** Raw header fields (record sizes matter for PROG_LOAD's *_rec_size). */
  version: number;
  flags: number;
  funcInfoRecSize: number;
  lineInfoRecSize: number;
  coreReloRecSize: number;
  /** Records by ELF section name. */
  funcInfo: Map<string, ExtFuncInfo[]>;
  lineInfo: Map<string, ExtLineInfo[]>;
  coreRelos: Map<string, ExtCoreRelo[]>;
}

export function parseBtfExt(buf: Buffer, btf: Btf, file: string): BtfExt {
  const section = '.BTF.ext';
  const fail = (message: string, offset: number): never => {
    throw new ObjectError(file, message, { section, offset });
  };
  if (buf.length < 8) fail(`.BTF.ext is ${buf.length} bytes, shorter than its header`, 0);
  const magic = buf.readUInt16LE(0);
  if (magic !== BTF_MAGIC) fail(`bad .BTF.ext magic 0x${magic.toString(16)} (want 0xeb9f)`, 0);
  const version = buf[2]!;
  if (version !== 1) fail(`.BTF.ext version ${version} is not supported (only 1)`, 2);
  const hdrLen = buf.readUInt32LE(4);
  if (hdrLen < EXT_HEADER_MIN || hdrLen > buf.length) fail(`.BTF.ext header length ${hdrLen} is invalid`, 4);

  const ext: BtfExt = {
    version, flags: buf[3]!, funcInfoRecSize: 0, lineInfoRecSize: 0, coreReloRecSize: 0,
    funcInfo: new Map(), lineInfo: new Map(), coreRelos: new Map(),
  };
  const str = (off: number, at: number, what: string): string => {
    if (off >= btf.strings.length) fail(`${what} string offset ${off} is outside the BTF string section`, at);
    return btf.string(off);
  };
  const typeId = (id: number, at: number): number => {
    if (id >= btf.types.length) fail(`type id ${id} does not exist in .BTF (${btf.types.length} types)`, at);
    return id;
  };

  /** Walk one info block: rec_size, then per section {sec_name_off, num_info, records}. */
  const walk = (headerAt: number, min: number, read: (at: number) => void, setRecSize: (n: number) => void, sectionOf: (name: string) => void) => {
    const off = buf.readUInt32LE(headerAt);
    const len = buf.readUInt32LE(headerAt + 4);
    if (len === 0) return;
    const start = hdrLen + off;
    const end = start + len;
    if (end > buf.length || off % 4 !== 0) fail(`info block (offset ${off}, length ${len}) is outside .BTF.ext (${buf.length} bytes) or misaligned`, headerAt);
    if (len < 4) fail('info block too short for its record size', start);
    const recSize = buf.readUInt32LE(start);
    if (recSize < min || recSize % 4 !== 0) fail(`record size ${recSize} is invalid (at least ${min}, a multiple of 4)`, start);
    setRecSize(recSize);
    let at = start + 4;
    while (at < end) {
      if (at + 8 > end) fail('section entry header runs past the end of its info block', at);
      const secName = str(buf.readUInt32LE(at), at, 'section name');
      const count = buf.readUInt32LE(at + 4);
      at += 8;
      if (count * recSize > end - at) fail(`${count} records of ${recSize} bytes for section ${secName} run past the end of the info block`, at - 4);
      sectionOf(secName);
      for (let i = 0; i < count; i++, at += recSize) {
        const insnOff = buf.readUInt32LE(at);
        if (insnOff % 8 !== 0) fail(`instruction offset ${insnOff} for section ${secName} is not on an instruction boundary`, at);
        read(at);
      }
    }
  };

  let current: string = '';
  const listIn = <T>(map: Map<string, T[]>): T[] => {
    let list = map.get(current);
    if (!list) map.set(current, (list = []));
    return list;
  };
  walk(8, MIN_REC.funcInfo, (at) => {
    listIn(ext.funcInfo).push({ insnOff: buf.readUInt32LE(at), typeId: typeId(buf.readUInt32LE(at + 4), at + 4) });
  }, (n) => { ext.funcInfoRecSize = n; }, (name) => { current = name; });
  walk(16, MIN_REC.lineInfo, (at) => {
    const fileNameOff = buf.readUInt32LE(at + 4);
    const lineOff = buf.readUInt32LE(at + 8);
    const col = buf.readUInt32LE(at + 12);
    listIn(ext.lineInfo).push({
      insnOff: buf.readUInt32LE(at), fileNameOff, lineOff,
      fileName: str(fileNameOff, at + 4, 'file name'), line: str(lineOff, at + 8, 'source line'),
      lineNumber: col >>> 10, column: col & 0x3ff,
    });
  }, (n) => { ext.lineInfoRecSize = n; }, (name) => { current = name; });
  if (hdrLen >= 32) {
    walk(24, MIN_REC.coreRelo, (at) => {
      const accessStrOff = buf.readUInt32LE(at + 8);
      listIn(ext.coreRelos).push({
        insnOff: buf.readUInt32LE(at), typeId: typeId(buf.readUInt32LE(at + 4), at + 4),
        accessStrOff, accessor: str(accessStrOff, at + 8, 'CO-RE access'), kind: buf.readUInt32LE(at + 12),
      });
    }, (n) => { ext.coreReloRecSize = n; }, (name) => { current = name; });
  }
  return ext;
}
