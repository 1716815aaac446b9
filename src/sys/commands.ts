// One typed function per bpf() command: encodes the attr (offsets from include/uapi/linux/bpf.h),
// calls the chokepoint, and wraps any fd it returns as an owned Fd.
import { Attr } from './attr.js';
import { Cmd } from './constants.js';
import { Errno } from './errno.js';
import { Fd } from './fd.js';
import { bpfCall, bpfTry, cmdName } from './syscall.js';
import { bpfError } from './errno.js';

export interface MapCreateAttr {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  innerMapFd?: number;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  mapExtra?: bigint;
}

export function encodeMapCreate(a: MapCreateAttr): Attr {
  const attr = new Attr()
    .u32(0, a.type).u32(4, a.keySize).u32(8, a.valueSize).u32(12, a.maxEntries).u32(16, a.flags)
    .u32(20, a.innerMapFd ?? 0).name(28, a.name);
  if (a.btfFd) attr.u32(48, a.btfFd).u32(52, a.btfKeyTypeId ?? 0).u32(56, a.btfValueTypeId ?? 0);
  if (a.mapExtra) attr.u64(64, a.mapExtra);
  return attr;
}

export function mapCreate(a: MapCreateAttr, what = `map ${a.name}`, hint?: string): Fd {
  return new Fd(bpfCall(Cmd.MAP_CREATE, encodeMapCreate(a), what, hint));
}

function elemAttr(mapFd: Fd, key: Buffer | undefined, value: Buffer | undefined, flags: bigint | number): Attr {
  return new Attr().u32(0, mapFd.value).ptr(8, key).ptr(16, value).u64(24, flags);
}

/** The value for `key`, or undefined when the map has no such key (ENOENT). */
export function mapLookup(mapFd: Fd, key: Buffer, valueSize: number, what: string): Buffer | undefined {
  const value = Buffer.alloc(valueSize);
  const r = bpfTry(Cmd.MAP_LOOKUP_ELEM, elemAttr(mapFd, key, value, 0), what);
  if (r.ret < 0) {
    if (r.errno === Errno.ENOENT) return undefined;
    throw bpfError(cmdName(Cmd.MAP_LOOKUP_ELEM), r.errno, what);
  }
  return value;
}

export function mapUpdate(mapFd: Fd, key: Buffer, value: Buffer, flags: number, what: string): void {
  bpfCall(Cmd.MAP_UPDATE_ELEM, elemAttr(mapFd, key, value, flags), what);
}

/** True if the key was there and is now deleted; false if it was not there. */
export function mapDelete(mapFd: Fd, key: Buffer, what: string): boolean {
  const r = bpfTry(Cmd.MAP_DELETE_ELEM, elemAttr(mapFd, key, undefined, 0), what);
  if (r.ret < 0) {
    if (r.errno === Errno.ENOENT) return false;
    throw bpfError(cmdName(Cmd.MAP_DELETE_ELEM), r.errno, what);
  }
  return true;
}

/** The key after `key` (the first key when `key` is undefined), or undefined at the end. */
export function mapNextKey(mapFd: Fd, key: Buffer | undefined, keySize: number, what: string): Buffer | undefined {
  const next = Buffer.alloc(keySize);
  const r = bpfTry(Cmd.MAP_GET_NEXT_KEY, elemAttr(mapFd, key, next, 0), what);
  if (r.ret < 0) {
    if (r.errno === Errno.ENOENT) return undefined;
    throw bpfError(cmdName(Cmd.MAP_GET_NEXT_KEY), r.errno, what);
  }
  return next;
}

export function mapFreeze(mapFd: Fd, what: string): void {
  bpfCall(Cmd.MAP_FREEZE, new Attr().u32(0, mapFd.value), what);
}

export interface ProgLoadAttr {
  type: number;
  insns: Buffer;
  license: string;
  name: string;
  expectedAttachType: number;
  kernVersion?: number;
  flags?: number;
  logLevel?: number;
  logBuf?: Buffer;
  btfFd?: number;
  funcInfo?: { recSize: number; data: Buffer; count: number };
  lineInfo?: { recSize: number; data: Buffer; count: number };
  attachBtfId?: number;
  attachProgFd?: number;
}

export function encodeProgLoad(a: ProgLoadAttr): Attr {
  const attr = new Attr()
    .u32(0, a.type).u32(4, a.insns.length / 8).ptr(8, a.insns).str(16, a.license)
    .u32(40, a.kernVersion ?? 0).u32(44, a.flags ?? 0).name(48, a.name).u32(68, a.expectedAttachType);
  if (a.logBuf && a.logLevel) attr.u32(24, a.logLevel).u32(28, a.logBuf.length).ptr(32, a.logBuf);
  if (a.btfFd) {
    attr.u32(72, a.btfFd);
    if (a.funcInfo) attr.u32(76, a.funcInfo.recSize).ptr(80, a.funcInfo.data).u32(88, a.funcInfo.count);
    if (a.lineInfo) attr.u32(92, a.lineInfo.recSize).ptr(96, a.lineInfo.data).u32(104, a.lineInfo.count);
  }
  if (a.attachBtfId) attr.u32(108, a.attachBtfId);
  if (a.attachProgFd) attr.u32(112, a.attachProgFd);
  return attr;
}

/** BPF_PROG_LOAD without throwing: the caller (load/) decides about log retries. */
export function progLoadTry(a: ProgLoadAttr, what: string): { fd?: Fd; errno: number } {
  const r = bpfTry(Cmd.PROG_LOAD, encodeProgLoad(a), what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}

export function objPin(fd: Fd, path: string, what: string): void {
  bpfCall(Cmd.OBJ_PIN, new Attr().str(0, path).u32(8, fd.value), `${what} at ${path}`);
}

export function objGet(path: string, what: string, fileFlags = 0): Fd {
  return new Fd(bpfCall(Cmd.OBJ_GET, new Attr().str(0, path).u32(12, fileFlags), `${what} at ${path}`));
}

export function progAttach(targetFd: Fd, progFd: Fd, attachType: number, flags: number, what: string, replaceFd?: Fd): void {
  const attr = new Attr().u32(0, targetFd.value).u32(4, progFd.value).u32(8, attachType).u32(12, flags);
  if (replaceFd) attr.u32(16, replaceFd.value);
  bpfCall(Cmd.PROG_ATTACH, attr, what);
}

export function progDetach(targetFd: Fd, progFd: Fd | undefined, attachType: number, what: string): void {
  bpfCall(Cmd.PROG_DETACH, new Attr().u32(0, targetFd.value).u32(4, progFd?.value ?? 0).u32(8, attachType), what);
}

/** Program ids attached to `targetFd` for `attachType` (BPF_F_QUERY_EFFECTIVE with `effective`). */
export function progQuery(targetFd: Fd, attachType: number, what: string, effective = false): { attachFlags: number; ids: number[] } {
  let capacity = 64;
  for (;;) {
    const ids = Buffer.alloc(capacity * 4);
    const attr = new Attr().u32(0, targetFd.value).u32(4, attachType).u32(8, effective ? 1 : 0).ptr(16, ids).u32(24, capacity);
    const r = bpfTry(Cmd.PROG_QUERY, attr, what);
    const count = attr.buf.readUInt32LE(24);
    if (r.ret < 0 && r.errno === Errno.ENOSPC && count > capacity) { capacity = count; continue; }
    if (r.ret < 0) throw bpfError('BPF_PROG_QUERY', r.errno, what);
    const out: number[] = [];
    for (let i = 0; i < Math.min(count, capacity); i++) out.push(ids.readUInt32LE(i * 4));
    return { attachFlags: attr.buf.readUInt32LE(12), ids: out };
  }
}

export interface TestRunAttr {
  data?: Buffer;
  dataOutSize?: number;
  ctx?: Buffer;
  ctxOutSize?: number;
  repeat?: number;
  flags?: number;
  cpu?: number;
}

export interface TestRunResult { retval: number; duration: number; data?: Buffer; ctx?: Buffer }

export function progTestRun(progFd: Fd, a: TestRunAttr, what: string): TestRunResult {
  const dataOut = a.dataOutSize ? Buffer.alloc(a.dataOutSize) : undefined;
  const ctxOut = a.ctxOutSize ? Buffer.alloc(a.ctxOutSize) : undefined;
  const attr = new Attr()
    .u32(0, progFd.value)
    .u32(8, a.data?.length ?? 0).u32(12, dataOut?.length ?? 0).ptr(16, a.data).ptr(24, dataOut)
    .u32(32, a.repeat ?? 0)
    .u32(40, a.ctx?.length ?? 0).u32(44, ctxOut?.length ?? 0).ptr(48, a.ctx).ptr(56, ctxOut)
    .u32(64, a.flags ?? 0).u32(68, a.cpu ?? 0);
  bpfCall(Cmd.PROG_TEST_RUN, attr, what);
  const dataLen = attr.buf.readUInt32LE(12);
  const ctxLen = attr.buf.readUInt32LE(44);
  return {
    retval: attr.buf.readUInt32LE(4),
    duration: attr.buf.readUInt32LE(36),
    data: dataOut?.subarray(0, Math.min(dataLen, dataOut.length)),
    ctx: ctxOut?.subarray(0, Math.min(ctxLen, ctxOut.length)),
  };
}

/** BPF_OBJ_GET_INFO_BY_FD into a buffer of `size` bytes (the kernel fills what it knows). */
export function objInfo(fd: Fd, size: number, what: string, prepare?: (info: Buffer, attr: Attr) => void): Buffer {
  const info = Buffer.alloc(size);
  const attr = new Attr().u32(0, fd.value).u32(4, size).ptr(8, info);
  prepare?.(info, attr);
  bpfCall(Cmd.OBJ_GET_INFO_BY_FD, attr, what);
  return info;
}

export function linkCreate(progFd: Fd, targetFd: Fd, attachType: number, flags: number, what: string): Fd {
  const attr = new Attr().u32(0, progFd.value).u32(4, targetFd.value).u32(8, attachType).u32(12, flags);
  return new Fd(bpfCall(Cmd.LINK_CREATE, attr, what));
}

/** BPF_LINK_CREATE without throwing (feature probes). */
export function linkCreateTry(progFd: Fd, targetFd: Fd, attachType: number, what: string): { fd?: Fd; errno: number } {
  const attr = new Attr().u32(0, progFd.value).u32(4, targetFd.value).u32(8, attachType);
  const r = bpfTry(Cmd.LINK_CREATE, attr, what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}

export function linkUpdate(linkFd: Fd, newProgFd: Fd, what: string): void {
  bpfCall(Cmd.LINK_UPDATE, new Attr().u32(0, linkFd.value).u32(4, newProgFd.value), what);
}

export function linkDetach(linkFd: Fd, what: string): void {
  bpfCall(Cmd.LINK_DETACH, new Attr().u32(0, linkFd.value), what);
}

/** A new fd for the object with this id (PROG/MAP/LINK/BTF_GET_FD_BY_ID). */
export function fdById(kind: 'prog' | 'map' | 'link' | 'btf', id: number, what: string): Fd {
  const cmd = { prog: Cmd.PROG_GET_FD_BY_ID, map: Cmd.MAP_GET_FD_BY_ID, link: Cmd.LINK_GET_FD_BY_ID, btf: Cmd.BTF_GET_FD_BY_ID }[kind];
  return new Fd(bpfCall(cmd, new Attr().u32(0, id), what));
}

export function btfLoadTry(btf: Buffer, logBuf: Buffer | undefined, logLevel: number, what: string): { fd?: Fd; errno: number } {
  const attr = new Attr().ptr(0, btf).u32(16, btf.length);
  if (logBuf && logLevel) attr.ptr(8, logBuf).u32(20, logBuf.length).u32(24, logLevel);
  const r = bpfTry(Cmd.BTF_LOAD, attr, what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}
