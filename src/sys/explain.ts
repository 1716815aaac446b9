// The --explain narration of bpf() calls: every call that goes through the chokepoint (syscall.ts),
// told as it happened — the command by name, the attr fields it carried decoded (offsets as in
// commands.ts / include/uapi/linux/bpf.h), and what the kernel answered: an fd (with the new
// object's kernel id), 0, or an errno. Nothing here is a script: the words come from the real call.
import { Attr } from './attr.js';
import { AttachFlag, AttachType, Cmd, enumName, MapFlag, MapType, ProgType } from './constants.js';
import { errnoName } from './errno.js';
import { bpfTry, cmdName, observeCalls, type SyscallResult } from './syscall.js';

const u32 = (b: Buffer, at: number) => b.readUInt32LE(at);
const u64 = (b: Buffer, at: number) => b.readBigUInt64LE(at);

/** A char[16] name field. */
function inlineName(b: Buffer, at: number): string {
  const raw = b.subarray(at, at + 16);
  const end = raw.indexOf(0);
  return raw.toString('latin1', 0, end < 0 ? 16 : end);
}

/** A NUL-terminated string a pointer field points at (when the Attr knows the buffer). */
function pointedString(full: Attr | undefined, at: number): string | undefined {
  const b = full?.pointee(at);
  if (!b) return undefined;
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end < 0 ? b.length : end);
}

/** Names of the bits set in `value` ("NO_PREALLOC|RDONLY_PROG"), or "0". */
export function flagNames(flags: Record<string, number>, value: number): string {
  if (!value) return '0';
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [k, v] of Object.entries(flags)) if (v && (rest & v) === v) { names.push(k); rest &= ~v; }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

const q = (s: string) => JSON.stringify(s);

/** The attr fields of one bpf() command, decoded: "map_type=SOCKHASH key_size=48 ...". */
export function describeAttr(cmd: number, b: Buffer, full?: Attr): string {
  const f: string[] = [];
  const add = (k: string, v: string | number | bigint) => f.push(`${k}=${v}`);
  const fdOpt = (k: string, at: number) => { const v = u32(b, at); if (v) add(k, v); };
  switch (cmd) {
    case Cmd.MAP_CREATE:
      add('map_type', enumName(MapType, u32(b, 0)));
      add('key_size', u32(b, 4)); add('value_size', u32(b, 8)); add('max_entries', u32(b, 12));
      add('map_flags', flagNames(MapFlag, u32(b, 16)));
      fdOpt('inner_map_fd', 20);
      add('map_name', q(inlineName(b, 28)));
      if (u32(b, 48)) { add('btf_fd', u32(b, 48)); add('btf_key_type_id', u32(b, 52)); add('btf_value_type_id', u32(b, 56)); }
      if (u64(b, 64)) add('map_extra', u64(b, 64));
      break;
    case Cmd.MAP_LOOKUP_ELEM: case Cmd.MAP_UPDATE_ELEM: case Cmd.MAP_DELETE_ELEM: case Cmd.MAP_GET_NEXT_KEY: {
      add('map_fd', u32(b, 0));
      const key = full?.pointee(8);
      if (key) add('key', `${key.length} bytes`);
      else if (cmd === Cmd.MAP_GET_NEXT_KEY) add('key', 'NULL (first key)');
      const value = full?.pointee(16);
      if (value && cmd === Cmd.MAP_UPDATE_ELEM) add('value', `${value.length} bytes`);
      if (cmd === Cmd.MAP_UPDATE_ELEM) add('flags', ['BPF_ANY', 'BPF_NOEXIST', 'BPF_EXIST'][Number(u64(b, 24))] ?? String(u64(b, 24)));
      break;
    }
    case Cmd.MAP_FREEZE:
      add('map_fd', u32(b, 0));
      break;
    case Cmd.PROG_LOAD: {
      add('prog_type', enumName(ProgType, u32(b, 0)));
      add('insn_cnt', u32(b, 4));
      const license = pointedString(full, 16);
      if (license !== undefined) add('license', q(license));
      if (u32(b, 24)) { add('log_level', u32(b, 24)); add('log_size', u32(b, 28)); }
      if (u32(b, 40)) add('kern_version', u32(b, 40));
      if (u32(b, 44)) add('prog_flags', `0x${u32(b, 44).toString(16)}`);
      add('prog_name', q(inlineName(b, 48)));
      add('expected_attach_type', u32(b, 68) ? enumName(AttachType, u32(b, 68)) : '0');
      if (u32(b, 72)) {
        add('prog_btf_fd', u32(b, 72));
        add('func_info_cnt', u32(b, 88));
        add('line_info_cnt', u32(b, 104));
      }
      if (u32(b, 108)) add('attach_btf_id', u32(b, 108));
      fdOpt('attach_prog_fd', 112);
      break;
    }
    case Cmd.OBJ_PIN: case Cmd.OBJ_GET: {
      const path = pointedString(full, 0);
      add('pathname', path !== undefined ? q(path) : '?');
      if (cmd === Cmd.OBJ_PIN) add('bpf_fd', u32(b, 8));
      if (u32(b, 12)) add('file_flags', `0x${u32(b, 12).toString(16)}`);
      break;
    }
    case Cmd.PROG_ATTACH: case Cmd.PROG_DETACH:
      add('target_fd', u32(b, 0));
      add('attach_bpf_fd', u32(b, 4));
      add('attach_type', enumName(AttachType, u32(b, 8)));
      if (cmd === Cmd.PROG_ATTACH) add('attach_flags', flagNames(AttachFlag, u32(b, 12)));
      fdOpt('replace_bpf_fd', 16);
      break;
    case Cmd.PROG_QUERY:
      add('target_fd', u32(b, 0));
      add('attach_type', enumName(AttachType, u32(b, 4)));
      if (u32(b, 8)) add('query_flags', 'BPF_F_QUERY_EFFECTIVE');
      break;
    case Cmd.OBJ_GET_INFO_BY_FD:
      add('bpf_fd', u32(b, 0)); add('info_len', u32(b, 4));
      break;
    case Cmd.LINK_CREATE:
      add('prog_fd', u32(b, 0)); add('target_fd', u32(b, 4));
      add('attach_type', enumName(AttachType, u32(b, 8)));
      if (u32(b, 12)) add('flags', `0x${u32(b, 12).toString(16)}`);
      break;
    case Cmd.LINK_UPDATE:
      add('link_fd', u32(b, 0)); add('new_prog_fd', u32(b, 4));
      break;
    case Cmd.LINK_DETACH:
      add('link_fd', u32(b, 0));
      break;
    case Cmd.PROG_GET_FD_BY_ID: case Cmd.MAP_GET_FD_BY_ID: case Cmd.LINK_GET_FD_BY_ID: case Cmd.BTF_GET_FD_BY_ID:
      add('id', u32(b, 0));
      break;
    case Cmd.BTF_LOAD:
      add('btf_size', u32(b, 16));
      if (u32(b, 24)) add('btf_log_level', u32(b, 24));
      break;
    case Cmd.PROG_TEST_RUN:
      add('prog_fd', u32(b, 0));
      if (u32(b, 8)) add('data_size_in', u32(b, 8));
      if (u32(b, 32)) add('repeat', u32(b, 32));
      break;
    default:
      break;
  }
  return f.join(' ');
}

/** Commands whose success value is a new fd. */
const FD_CMDS: Set<number> = new Set([
  Cmd.MAP_CREATE, Cmd.PROG_LOAD, Cmd.OBJ_GET, Cmd.PROG_GET_FD_BY_ID, Cmd.MAP_GET_FD_BY_ID, Cmd.LINK_GET_FD_BY_ID,
  Cmd.BTF_GET_FD_BY_ID, Cmd.BTF_LOAD, Cmd.LINK_CREATE, Cmd.RAW_TRACEPOINT_OPEN, Cmd.ITER_CREATE,
]);

/** What kind of kernel object a new fd from this command is, for its id. */
const OBJECT_OF: Record<number, 'map' | 'prog' | 'link' | 'btf'> = {
  [Cmd.MAP_CREATE]: 'map', [Cmd.PROG_LOAD]: 'prog', [Cmd.LINK_CREATE]: 'link', [Cmd.BTF_LOAD]: 'btf',
};

let quiet = 0;

/** The kernel id of the object behind `fd` (BPF_OBJ_GET_INFO_BY_FD; not narrated: it is the narrator's own call). */
function kernelId(fd: number, kind: 'map' | 'prog' | 'link' | 'btf'): number | undefined {
  const info = Buffer.alloc(16);
  const attr = new Attr().u32(0, fd).u32(4, info.length).ptr(8, info);
  quiet++;
  try {
    const r = bpfTry(Cmd.OBJ_GET_INFO_BY_FD, attr, `${kind} fd ${fd} (for --explain)`);
    if (r.ret < 0) return undefined;
    return kind === 'btf' ? info.readUInt32LE(12) : info.readUInt32LE(4);
  } finally {
    quiet--;
  }
}

/** The result of a call: "fd 7 (map id 812)", "ok", or "EPERM (errno 1)". */
export function describeResult(cmd: number, r: SyscallResult, idOf?: (fd: number, kind: 'map' | 'prog' | 'link' | 'btf') => number | undefined): string {
  if (r.ret < 0) return `${errnoName(r.errno)} (errno ${r.errno})`;
  if (!FD_CMDS.has(cmd)) return r.ret === 0 ? 'ok' : `${r.ret}`;
  const kind = OBJECT_OF[cmd];
  const id = kind ? idOf?.(r.ret, kind) : undefined;
  return `fd ${r.ret}${id !== undefined ? ` (${kind} id ${id})` : ''}`;
}

/** One line for one call: `BPF_MAP_CREATE map_type=SOCKHASH ... → fd 5 (map id 812)  [map sock_hash]`. */
export function describeCall(cmd: number, attr: Buffer, r: SyscallResult, what: string, full?: Attr, idOf?: typeof kernelId): string {
  const fields = describeAttr(cmd, attr, full);
  return `bpf(${cmdName(cmd)}${fields ? ` { ${fields} }` : ''}) → ${describeResult(cmd, r, idOf)}   [${what}]`;
}

const narrating = new Map<(line: string) => void, number>();

/** Run `work` with every bpf() call it makes narrated to `say` (when given). Sync or async. */
export function withNarration<T>(say: ((line: string) => void) | undefined, work: () => T): T {
  if (!say) return work();
  const stop = narrateCalls(say);
  let result: T;
  try {
    result = work();
  } catch (e) {
    stop();
    throw e;
  }
  if (result instanceof Promise) return result.finally(stop) as T;
  stop();
  return result;
}

/**
 * Narrate every bpf() call to `say` until the returned function is called. Nested calls with the same
 * `say` (up → load) narrate once. Lookups, which `status` and `down` make by the dozen, are included:
 * they are calls too.
 */
export function narrateCalls(say: (line: string) => void): () => void {
  const depth = narrating.get(say) ?? 0;
  narrating.set(say, depth + 1);
  const stop = depth === 0
    ? observeCalls((cmd, attr, r, what, full) => {
      if (quiet) return;
      say(describeCall(cmd, attr, r, what, full, kernelId));
    })
    : () => {};
  return () => {
    stop();
    const d = (narrating.get(say) ?? 1) - 1;
    if (d <= 0) narrating.delete(say);
    else narrating.set(say, d);
  };
}

/** Run `fn` without narrating its bpf() calls (reading back the status shown after `up`). */
export function unnarrated<T>(fn: () => T): T {
  quiet++;
  try {
    return fn();
  } finally {
    quiet--;
  }
}

/** The verifier's statistics lines from a BPF_LOG_STATS log, joined for one narration line. */
export function verifierStats(log: string | undefined): string | undefined {
  if (!log) return undefined;
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => /^(processed \d+ insns|verification time|stack depth)/.test(l));
  return lines.length ? lines.join('; ') : undefined;
}
