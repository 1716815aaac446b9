// The --explain narration of bpf() calls: every call that goes through the chokepoint while an
// operation narrates, told as it happened — the command by name, the attr fields it carried (decoded
// by the command's layout, uapi/attr.ts), and what the kernel answered: an fd (with the new object's
// kernel id), 0, or an errno. Nothing here is a script: the words come from the real call.
import { ATTR_OF, FD_RETURNING, OBJ_GET_INFO_BY_FD } from '../uapi/attr.js';
import { Cmd } from '../uapi/enums.js';
import { BTF_INFO, LINK_INFO, MAP_INFO, PROG_INFO } from '../uapi/info.js';
import { describe } from '../uapi/layout.js';
import { Attr } from './attr.js';
import { errnoName } from './errno.js';
import { bpfTry, cmdName, unobserved, withCallObserver, type SyscallResult } from './syscall.js';

/** The attr fields of one bpf() call, decoded: "map_type=SOCKHASH key_size=48 ...". */
export function describeAttr(cmd: number, attr: Attr): string {
  const layout = ATTR_OF.get(cmd);
  return layout ? describe(layout, attr.buf, (a) => attr.pointee(a)) : '';
}

type ObjectKind = 'map' | 'prog' | 'link' | 'btf';

/** What kind of kernel object a new fd from this command is, for its id. */
const OBJECT_OF: Partial<Record<number, ObjectKind>> = {
  [Cmd.MAP_CREATE]: 'map', [Cmd.PROG_LOAD]: 'prog', [Cmd.LINK_CREATE]: 'link', [Cmd.BTF_LOAD]: 'btf', [Cmd.RAW_TRACEPOINT_OPEN]: 'link',
};

const INFO_OF = { map: MAP_INFO, prog: PROG_INFO, link: LINK_INFO, btf: BTF_INFO } as const;

/** The kernel id of the object behind `fd` (BPF_OBJ_GET_INFO_BY_FD; not narrated: it is the narrator's own call). */
function kernelId(fd: number, kind: ObjectKind): number | undefined {
  const id = INFO_OF[kind].byName.get('id')!;
  const info = Buffer.alloc(id.offset + id.size);
  return unobserved(() => {
    const r = bpfTry(Cmd.OBJ_GET_INFO_BY_FD, new Attr(OBJ_GET_INFO_BY_FD, { bpf_fd: fd, info_len: info.length, info }), `${kind} fd ${fd} (for --explain)`);
    return r.ret < 0 ? undefined : info.readUInt32LE(id.offset);
  });
}

/** The result of a call: "fd 7 (map id 812)", "ok", or "EPERM (errno 1)". */
export function describeResult(cmd: number, r: SyscallResult, idOf?: (fd: number, kind: ObjectKind) => number | undefined): string {
  if (r.ret < 0) return `${errnoName(r.errno)} (errno ${r.errno})`;
  if (!FD_RETURNING.has(cmd)) return r.ret === 0 ? 'ok' : `${r.ret}`;
  const kind = OBJECT_OF[cmd];
  const id = kind ? idOf?.(r.ret, kind) : undefined;
  return `fd ${r.ret}${id !== undefined ? ` (${kind} id ${id})` : ''}`;
}

/** One line for one call: `bpf(BPF_MAP_CREATE { map_type=SOCKHASH ... }) → fd 5 (map id 812)   [map sock_hash]`. */
export function describeCall(cmd: number, attr: Attr, r: SyscallResult, what: string, idOf: typeof kernelId = kernelId): string {
  const fields = describeAttr(cmd, attr);
  return `bpf(${cmdName(cmd)}${fields ? ` { ${fields} }` : ''}) → ${describeResult(cmd, r, idOf)}   [${what}]`;
}

/**
 * Run `work` (sync or async) with every bpf() call it makes narrated to `say`, when given. Bound to
 * this operation only: calls made by other work running meanwhile are not narrated. Nested runs with
 * the same `say` (up → load) narrate once.
 */
export function withNarration<T>(say: ((line: string) => void) | undefined, work: () => T): T {
  if (!say) return work();
  return withCallObserver(say, (c) => say(describeCall(c.cmd, c.attr, c.result, c.what)), work);
}

/** Run `fn` without narrating its bpf() calls (reading back the status shown after `up`). */
export const unnarrated = unobserved;

/** The verifier's statistics lines from a BPF_LOG_STATS log, joined for one narration line. */
export function verifierStats(log: string | undefined): string | undefined {
  if (!log) return undefined;
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => /^(processed \d+ insns|verification time|stack depth)/.test(l));
  return lines.length ? lines.join('; ') : undefined;
}
