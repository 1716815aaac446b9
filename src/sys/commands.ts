// One typed function per bpf() command: the attr is encoded from the command's layout (uapi/attr.ts),
// the call goes through the chokepoint, and an fd it returns is wrapped as an owned Fd.
import * as A from '../uapi/attr.js';
import { Cmd } from '../uapi/enums.js';
import type { Values } from '../uapi/layout.js';
import { Attr } from './attr.js';
import { bpfError, Errno } from './errno.js';
import { Fd } from './fd.js';
import { bpfCall, bpfTry, cmdName } from './syscall.js';

export type MapCreateValues = Values<typeof A.MAP_CREATE>;
export type ProgLoadValues = Values<typeof A.PROG_LOAD>;
export type LinkCreateValues = Values<typeof A.LINK_CREATE>;

export function mapCreateAttr(v: MapCreateValues): Attr<typeof A.MAP_CREATE> {
  return new Attr(A.MAP_CREATE, v);
}

export function mapCreate(v: MapCreateValues, what: string, hint?: string): Fd {
  return new Fd(bpfCall(Cmd.MAP_CREATE, mapCreateAttr(v), what, hint));
}

/** BPF_MAP_CREATE without throwing (a refusal of BTF ids is retried without them; probes). */
export function mapCreateTry(v: MapCreateValues, what: string): { fd?: Fd; errno: number } {
  const r = bpfTry(Cmd.MAP_CREATE, mapCreateAttr(v), what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}

function elem(mapFd: Fd, key: Buffer | undefined, value: Buffer | undefined, flags: bigint | number): Attr<typeof A.MAP_ELEM> {
  return new Attr(A.MAP_ELEM, { map_fd: mapFd.value, key, value, flags });
}

/** The value for `key` (into `value`), or undefined when the map has no such key (ENOENT). */
export function mapLookup(mapFd: Fd, key: Buffer, value: Buffer, what: string, flags = 0): Buffer | undefined {
  const r = bpfTry(Cmd.MAP_LOOKUP_ELEM, elem(mapFd, key, value, flags), what);
  if (r.ret < 0) {
    if (r.errno === Errno.ENOENT) return undefined;
    throw bpfError(cmdName(Cmd.MAP_LOOKUP_ELEM), r.errno, what);
  }
  return value;
}

/** Pop (queue/stack: key undefined) or take-and-delete `key`; undefined when empty/absent. */
export function mapLookupAndDelete(mapFd: Fd, key: Buffer | undefined, value: Buffer, what: string, flags = 0): Buffer | undefined {
  const r = bpfTry(Cmd.MAP_LOOKUP_AND_DELETE_ELEM, elem(mapFd, key, value, flags), what);
  if (r.ret < 0) {
    if (r.errno === Errno.ENOENT) return undefined;
    throw bpfError(cmdName(Cmd.MAP_LOOKUP_AND_DELETE_ELEM), r.errno, what);
  }
  return value;
}

export function mapUpdate(mapFd: Fd, key: Buffer | undefined, value: Buffer, flags: number | bigint, what: string): void {
  bpfCall(Cmd.MAP_UPDATE_ELEM, elem(mapFd, key, value, flags), what);
}

/** True if the key was there and is now deleted; false if it was not there. */
export function mapDelete(mapFd: Fd, key: Buffer, what: string): boolean {
  const r = bpfTry(Cmd.MAP_DELETE_ELEM, elem(mapFd, key, undefined, 0), what);
  if (r.ret < 0) {
    if (r.errno === Errno.ENOENT) return false;
    throw bpfError(cmdName(Cmd.MAP_DELETE_ELEM), r.errno, what);
  }
  return true;
}

/** The key after `key` (the first key when `key` is undefined), or undefined at the end. */
export function mapNextKey(mapFd: Fd, key: Buffer | undefined, keySize: number, what: string): Buffer | undefined {
  const next = Buffer.alloc(keySize);
  const r = bpfTry(Cmd.MAP_GET_NEXT_KEY, new Attr(A.MAP_NEXT_KEY, { map_fd: mapFd.value, key, next_key: next }), what);
  if (r.ret < 0) {
    if (r.errno === Errno.ENOENT) return undefined;
    throw bpfError(cmdName(Cmd.MAP_GET_NEXT_KEY), r.errno, what);
  }
  return next;
}

export function mapFreeze(mapFd: Fd, what: string): void {
  bpfCall(Cmd.MAP_FREEZE, new Attr(A.MAP_ELEM, { map_fd: mapFd.value }), what);
}

export function progLoadAttr(v: ProgLoadValues): Attr<typeof A.PROG_LOAD> {
  return new Attr(A.PROG_LOAD, v);
}

const PROG_LOAD_EAGAIN_TRIES = 5;

/**
 * BPF_PROG_LOAD without throwing (feature probes): the caller decides what a refusal means. EAGAIN
 * (the verifier interrupted) is retried a few times here, so that a probe never reads a transient
 * refusal as "this kernel lacks it" and caches that.
 */
export function progLoadTry(v: ProgLoadValues, what: string): { fd?: Fd; errno: number; attr: Attr<typeof A.PROG_LOAD> } {
  const attr = progLoadAttr(v);
  let r = bpfTry(Cmd.PROG_LOAD, attr, what);
  for (let i = 1; i < PROG_LOAD_EAGAIN_TRIES && r.ret < 0 && r.errno === Errno.EAGAIN; i++) r = bpfTry(Cmd.PROG_LOAD, attr, what);
  return r.ret < 0 ? { errno: r.errno, attr } : { fd: new Fd(r.ret), errno: 0, attr };
}

export function objPin(fd: Fd, path: string, what: string): void {
  bpfCall(Cmd.OBJ_PIN, new Attr(A.OBJ, { pathname: path, bpf_fd: fd.value }), `${what} at ${path}`);
}

export function objGet(path: string, what: string, fileFlags = 0): Fd {
  return new Fd(bpfCall(Cmd.OBJ_GET, new Attr(A.OBJ, { pathname: path, file_flags: fileFlags }), `${what} at ${path}`));
}

export function progAttach(targetFd: Fd, progFd: Fd, attachType: number, flags: number, what: string, replaceFd?: Fd): void {
  bpfCall(Cmd.PROG_ATTACH, new Attr(A.PROG_ATTACH, {
    target_fd: targetFd.value, attach_bpf_fd: progFd.value, attach_type: attachType, attach_flags: flags, replace_bpf_fd: replaceFd?.value,
  }), what);
}

/** BPF_PROG_DETACH; `progFd` undefined detaches whatever single program is there (legacy targets). */
export function progDetachTry(targetFd: Fd, progFd: Fd | undefined, attachType: number, what: string): { errno: number } {
  const r = bpfTry(Cmd.PROG_DETACH, new Attr(A.PROG_ATTACH, { target_fd: targetFd.value, attach_bpf_fd: progFd?.value, attach_type: attachType }), what);
  return { errno: r.ret < 0 ? r.errno : 0 };
}

/** Program ids attached to `targetFd` for `attachType` (BPF_F_QUERY_EFFECTIVE with `effective`). */
export function progQuery(targetFd: Fd, attachType: number, what: string, effective = false): { attachFlags: number; ids: number[] } {
  let capacity = 64;
  for (let round = 0; ; round++) {
    const ids = Buffer.alloc(capacity * 4);
    const attr = new Attr(A.PROG_QUERY, { target_fd: targetFd.value, attach_type: attachType, query_flags: effective ? 1 : 0, prog_ids: ids, prog_cnt: capacity });
    const r = bpfTry(Cmd.PROG_QUERY, attr, what);
    const count = attr.get('prog_cnt');
    if (r.ret < 0 && r.errno === Errno.ENOSPC && count > capacity && round < 4) { capacity = count; continue; }
    if (r.ret < 0) throw bpfError(cmdName(Cmd.PROG_QUERY), r.errno, what);
    const out: number[] = [];
    for (let i = 0; i < Math.min(count, capacity); i++) out.push(ids.readUInt32LE(i * 4));
    return { attachFlags: attr.get('attach_flags'), ids: out };
  }
}

export interface TestRunInput {
  data?: Buffer;
  dataOutSize?: number;
  ctx?: Buffer;
  ctxOutSize?: number;
  repeat?: number;
  flags?: number;
  cpu?: number;
}

export interface TestRunOutput { retval: number; duration: number; data?: Buffer; ctx?: Buffer }

export function progTestRun(progFd: Fd, a: TestRunInput, what: string): TestRunOutput {
  const dataOut = a.dataOutSize ? Buffer.alloc(a.dataOutSize) : undefined;
  const ctxOut = a.ctxOutSize ? Buffer.alloc(a.ctxOutSize) : undefined;
  const attr = new Attr(A.PROG_TEST_RUN, {
    prog_fd: progFd.value,
    data_size_in: a.data?.length ?? 0, data_size_out: dataOut?.length ?? 0, data_in: a.data, data_out: dataOut,
    repeat: a.repeat ?? 0,
    ctx_size_in: a.ctx?.length ?? 0, ctx_size_out: ctxOut?.length ?? 0, ctx_in: a.ctx, ctx_out: ctxOut,
    flags: a.flags ?? 0, cpu: a.cpu ?? 0,
  });
  bpfCall(Cmd.PROG_TEST_RUN, attr, what);
  const dataLen = attr.get('data_size_out');
  const ctxLen = attr.get('ctx_size_out');
  return {
    retval: attr.get('retval'),
    duration: attr.get('duration'),
    data: dataOut?.subarray(0, Math.min(dataLen, dataOut.length)),
    ctx: ctxOut?.subarray(0, Math.min(ctxLen, ctxOut.length)),
  };
}

/**
 * BPF_OBJ_GET_INFO_BY_FD into `info` (the kernel fills what it knows). Pointer fields inside `info`
 * must point at buffers kept by `attr`: use `prepare` to set them with attr.addressOf.
 */
export function objInfo(fd: Fd, info: Buffer, what: string, prepare?: (info: Buffer, attr: Attr<typeof A.OBJ_GET_INFO_BY_FD>) => void): Buffer {
  const attr = new Attr(A.OBJ_GET_INFO_BY_FD, { bpf_fd: fd.value, info_len: info.length, info });
  prepare?.(info, attr);
  bpfCall(Cmd.OBJ_GET_INFO_BY_FD, attr, what);
  return info;
}

export function linkCreateAttr(v: LinkCreateValues): Attr<typeof A.LINK_CREATE> {
  return new Attr(A.LINK_CREATE, v);
}

/** BPF_LINK_CREATE without throwing (the caller falls back or explains). */
export function linkCreateTry(v: LinkCreateValues, what: string): { fd?: Fd; errno: number } {
  const r = bpfTry(Cmd.LINK_CREATE, linkCreateAttr(v), what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}

export function linkUpdate(linkFd: Fd, newProgFd: Fd, what: string, oldProgFd?: Fd): void {
  const REPLACE = 4; // BPF_F_REPLACE: only if the link still runs old_prog_fd
  bpfCall(Cmd.LINK_UPDATE, new Attr(A.LINK_UPDATE, {
    link_fd: linkFd.value, new_prog_fd: newProgFd.value, flags: oldProgFd ? REPLACE : 0, old_prog_fd: oldProgFd?.value,
  }), what);
}

export function linkDetach(linkFd: Fd, what: string): void {
  bpfCall(Cmd.LINK_DETACH, new Attr(A.LINK_DETACH, { link_fd: linkFd.value }), what);
}

export function rawTracepointOpen(name: string | undefined, progFd: Fd, what: string, cookie?: bigint): Fd {
  const attr = new Attr(A.RAW_TRACEPOINT_OPEN, { name: name ?? undefined, prog_fd: progFd.value, cookie });
  return new Fd(bpfCall(Cmd.RAW_TRACEPOINT_OPEN, attr, what));
}

export function btfLoadTry(btf: Buffer, logBuf: Buffer | undefined, logLevel: number, what: string): { fd?: Fd; errno: number } {
  const attr = new Attr(A.BTF_LOAD, logBuf && logLevel
    ? { btf, btf_size: btf.length, btf_log_buf: logBuf, btf_log_size: logBuf.length, btf_log_level: logLevel }
    : { btf, btf_size: btf.length });
  const r = bpfTry(Cmd.BTF_LOAD, attr, what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}

/** BPF_BTF_GET_NEXT_ID: the next BTF object id after `startId`, or undefined at the end (ENOENT). */
export function btfGetNextId(startId: number, what: string): number | undefined {
  const attr = new Attr(A.OBJ_ID, { start_id: startId });
  const r = bpfTry(Cmd.BTF_GET_NEXT_ID, attr, what);
  if (r.ret < 0) {
    if (r.errno === Errno.ENOENT) return undefined;
    throw bpfError(cmdName(Cmd.BTF_GET_NEXT_ID), r.errno, what);
  }
  return attr.get('next_id');
}

/** BPF_BTF_GET_FD_BY_ID without throwing (a module may go away between listing and opening). */
export function btfGetFdByIdTry(id: number, what: string): { fd?: Fd; errno: number } {
  const r = bpfTry(Cmd.BTF_GET_FD_BY_ID, new Attr(A.OBJ_ID, { btf_id: id }), what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}

/** A BTF object's id, name ("vmlinux", a module's name, "" for a program's) and whether it is the kernel's. */
export function btfIdentity(fd: Fd, what: string): { id: number; name: string; kernelBtf: boolean; size: number } {
  const BTF_INFO_SIZE = 32;
  const name = Buffer.alloc(64);
  const info = objInfo(fd, Buffer.alloc(BTF_INFO_SIZE), what, (b, attr) => {
    b.writeBigUInt64LE(attr.addressOf(name), 16);
    b.writeUInt32LE(name.length, 24);
  });
  const end = name.indexOf(0);
  return { id: info.readUInt32LE(12), name: name.toString('utf8', 0, end < 0 ? name.length : end), kernelBtf: info.readUInt32LE(28) !== 0, size: info.readUInt32LE(8) };
}

/** The raw bytes of a BTF object in the kernel (a program's BTF, for freplace targets). */
export function btfData(fd: Fd, what: string): Buffer {
  const { size } = btfIdentity(fd, what);
  const data = Buffer.alloc(size);
  objInfo(fd, Buffer.alloc(32), what, (b, attr) => {
    b.writeBigUInt64LE(attr.addressOf(data), 0);
    b.writeUInt32LE(data.length, 8);
  });
  return data;
}

/** BPF_PROG_BIND_MAP without throwing: keep `mapFd` alive as long as the program (libbpf binds .rodata). */
export function progBindMapTry(progFd: Fd, mapFd: Fd, what: string): { errno: number } {
  const r = bpfTry(Cmd.PROG_BIND_MAP, new Attr(A.PROG_BIND_MAP, { prog_fd: progFd.value, map_fd: mapFd.value }), what);
  return { errno: r.ret < 0 ? r.errno : 0 };
}

/** BPF_PROG_GET_FD_BY_ID without throwing. */
export function progGetFdByIdTry(id: number, what: string): { fd?: Fd; errno: number } {
  const r = bpfTry(Cmd.PROG_GET_FD_BY_ID, new Attr(A.OBJ_ID, { prog_id: id }), what);
  return r.ret < 0 ? { errno: r.errno } : { fd: new Fd(r.ret), errno: 0 };
}

// ---- Map batch commands (issue 13, maps) — one append-only block ----

export type MapBatchValues = Values<typeof A.MAP_BATCH>;

/**
 * One BPF_MAP_LOOKUP_BATCH / LOOKUP_AND_DELETE_BATCH / UPDATE_BATCH / DELETE_BATCH call, without
 * throwing: the kernel reports in `count` how many elements it processed also when it fails (ENOENT
 * at the end of a walk, the element an update stopped at), so the caller needs both.
 */
export function mapBatchTry(cmd: number, v: MapBatchValues, what: string): { count: number; errno: number } {
  const attr = new Attr(A.MAP_BATCH, v);
  const r = bpfTry(cmd, attr, what);
  return { count: attr.get('count'), errno: r.ret < 0 ? r.errno : 0 };
}
