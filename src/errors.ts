// The error classes users see, each meaning one thing:
//   BpfError    — the kernel said no: a syscall failed with a real errno (`op` names the command).
//   ObjectError — the object file: malformed, or a feature it uses that we do not support.
//   UsageError  — the caller or the machine's state: a wrong argument, a pin of the wrong kind, a
//                 path that is not a cgroup v2 directory, something already installed elsewhere.
// Every message names the object involved and what to do; an error that wraps another sets `cause`.

export interface ErrorDetails {
  /** What to do about it, when we know. */
  hint?: string;
  /** The error this one explains (a lower-level failure). */
  cause?: unknown;
}

/** The kernel refused a syscall: bpf(), or a related one such as mount, perf_event_open, setsockopt. */
export class BpfError extends Error {
  override name = 'BpfError';
  /** The command or syscall that failed: "BPF_PROG_LOAD", "BPF_MAP_CREATE", "mount". */
  readonly op: string;
  /** The errno the kernel returned (never 0). */
  readonly errno: number;
  /** The errno's name, e.g. "EPERM". */
  readonly code: string;
  readonly hint?: string;
  /** For a refused program: the verifier log (or its tail). */
  readonly log?: string;

  constructor(op: string, errno: number, code: string, message: string, extra: ErrorDetails & { log?: string } = {}) {
    super(message + (extra.hint ? ` — ${extra.hint}` : '') + (extra.log ? `\n${extra.log}` : ''), extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.op = op;
    this.errno = errno;
    this.code = code;
    this.hint = extra.hint;
    this.log = extra.log;
  }
}

/** Where the verifier refused a program, in C, when the object had line info. */
export interface SourceLine { file: string; line: number; text: string }

/** BPF_PROG_LOAD refused by the verifier: its verdict, and the C line it refused when known. */
export class VerifierError extends BpfError {
  override name = 'VerifierError';
  /** The verifier's own last word, e.g. "R0 invalid mem access 'map_value_or_null'". */
  readonly verdict: string;
  readonly source?: SourceLine;
  /** The instruction the verifier was at when it refused (the log's last "N: (op)" line). */
  readonly insn?: number;

  constructor(errno: number, code: string, message: string, verdict: string, extra: ErrorDetails & { log?: string; source?: SourceLine; insn?: number } = {}) {
    super('BPF_PROG_LOAD', errno, code, message, extra);
    this.verdict = verdict;
    this.source = extra.source;
    this.insn = extra.insn;
  }
}

/** A malformed or unsupported BPF object file, found while parsing or relocating (no kernel involved). */
export class ObjectError extends Error {
  override name = 'ObjectError';
  /** The file (path, or "<buffer>") the problem is in. */
  readonly file: string;
  /** The ELF section involved, when there is one. */
  readonly section?: string;
  /** Byte offset in the file (or in the section, when `section` is set) where the problem is. */
  readonly offset?: number;

  constructor(file: string, message: string, where: { section?: string; offset?: number; cause?: unknown } = {}) {
    const at = [
      where.section !== undefined ? `section ${where.section}` : undefined,
      where.offset !== undefined ? `offset ${where.offset}` : undefined,
    ].filter(Boolean).join(', ');
    super(`${file}${at ? ` (${at})` : ''}: ${message}`, where.cause !== undefined ? { cause: where.cause } : undefined);
    this.file = file;
    this.section = where.section;
    this.offset = where.offset;
  }
}

/**
 * What a UsageError is about, as a stable code to branch on:
 * - BAD_ARGUMENT: a value the API cannot take (wrong size, out of range, unknown name)
 * - BAD_PATH: a path that does not exist or is not what it must be (not a cgroup v2 dir, not on bpffs)
 * - WRONG_KIND: a pin or fd holds another kind of object than asked for (a link opened as a map)
 * - MISMATCH: an existing object (a pinned map) does not match what the object file declares
 * - NOT_SUPPORTED: this kernel lacks a feature (found by a probe), or the operation does not apply
 * - NEEDS_PRIVILEGES: this process lacks the capabilities for the operation
 * - CONFLICT: the machine's state forbids it (another install serves that cgroup)
 * - NOT_INSTALLED: there is nothing there to act on
 * - BUSY: not now (connections still open)
 * - CLOSED: a closed map, program or link was used
 */
export type UsageCode = 'BAD_ARGUMENT' | 'BAD_PATH' | 'WRONG_KIND' | 'MISMATCH' | 'NOT_SUPPORTED' | 'NEEDS_PRIVILEGES' | 'CONFLICT' | 'NOT_INSTALLED' | 'BUSY' | 'CLOSED';

/** Misuse of the API, or a machine state that forbids the operation. No syscall failed (or one that did is the `cause`). */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly code: UsageCode;
  readonly hint?: string;

  constructor(code: UsageCode, message: string, extra: ErrorDetails = {}) {
    super(message + (extra.hint ? ` — ${extra.hint}` : ''), extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.code = code;
    this.hint = extra.hint;
  }
}

/** The message without the " — hint" suffix (the CLI prints the hint on its own line). */
export function messageWithoutHint(e: BpfError | UsageError): string {
  let m = e.message;
  if (e instanceof BpfError && e.log) {
    const at = m.lastIndexOf(`\n${e.log}`);
    if (at >= 0) m = m.slice(0, at);
  }
  if (e.hint && m.endsWith(` — ${e.hint}`)) m = m.slice(0, -(` — ${e.hint}`.length));
  return m;
}
