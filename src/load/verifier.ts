// BPF_PROG_LOAD with the verifier log: load without a log first (fast, no copying), and only when the
// kernel refuses, load again with one so the error can say why. The log buffer grows on ENOSPC.
import { BpfError, VerifierError, type SourceLine } from '../errors.js';
import type { ProgLoadValues } from '../sys/commands.js';
import { Errno, errnoName, hintFor } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { progLoadStep, runSync, type Steps } from './steps.js';

const FIRST_LOG_SIZE = 256 * 1024;
const MAX_LOG_SIZE = 64 * 1024 * 1024;
const EAGAIN_RETRIES = 5;
const TAIL_LINES = 25;

export interface LoadedProgramFd {
  fd: Fd;
  /** The verifier log, when a log level was asked for. */
  log?: string;
}

function logText(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end).trimEnd();
}

function* attempt(attr: ProgLoadValues, what: string): Steps<{ fd?: Fd; errno: number }> {
  for (let i = 0; ; i++) {
    const r = yield* progLoadStep(attr, what);
    // EAGAIN: the verifier gave up on a transient condition (e.g. a signal); try again.
    if (r.errno !== Errno.EAGAIN || i >= EAGAIN_RETRIES) return r;
  }
}

/** Lines of statistics the verifier prints after the verdict; the verdict is the line before them. */
const STATS = /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|peak_states|mark_read|func#\d|\s*$)/;

/** The verifier's own words for why it refused: the last line that is not a statistics line. */
export function verdictOf(log: string): string | undefined {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) if (!STATS.test(lines[i])) return lines[i].trim();
  return undefined;
}

const SOURCE_LINE = /^; (.*) @ (.+):(\d+)$/;
const INSN_LINE = /^(\d+): \([0-9a-f]{2}\)/;

/** The last "N: (op) ..." instruction of the log, and the source line the kernel printed before it. */
export function refusedAt(log: string): { insn?: number; source?: SourceLine } {
  const lines = log.split('\n');
  let insn: number | undefined;
  let insnLine = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = INSN_LINE.exec(lines[i]);
    if (m) { insn = Number(m[1]); insnLine = i; break; }
  }
  for (let i = insnLine >= 0 ? insnLine : lines.length - 1; i >= 0; i--) {
    const m = SOURCE_LINE.exec(lines[i]);
    if (m) return { insn, source: { text: m[1].trim(), file: m[2], line: Number(m[3]) } };
  }
  return { insn };
}

/** BPF_PROG_LOAD with the verifier log grown as needed, as steps (load() and loadAsync() run them). */
export function* loadWithLogSteps(attr: ProgLoadValues, what: string, logLevel = 0, sourceOf?: (insn: number) => SourceLine | undefined): Steps<LoadedProgramFd> {
  if (!logLevel) {
    const r = yield* attempt(attr, what);
    if (r.fd) return { fd: r.fd };
    if (r.errno !== Errno.EACCES && r.errno !== Errno.EINVAL && r.errno !== Errno.E2BIG && r.errno !== Errno.ENOSPC) {
      throw refused(what, r.errno, undefined);
    }
  }
  // With a log: grow the buffer until the whole log fits (or the cap is reached).
  let size = FIRST_LOG_SIZE;
  for (;;) {
    const logBuf = Buffer.alloc(size);
    const r = yield* attempt({ ...attr, log_level: logLevel || 1, log_size: logBuf.length, log_buf: logBuf }, what);
    const log = logText(logBuf);
    if (r.fd) return { fd: r.fd, log: logLevel ? log : undefined };
    if (r.errno === Errno.ENOSPC && size < MAX_LOG_SIZE) {
      size *= 4;
      continue;
    }
    throw refused(what, r.errno, log, sourceOf);
  }
}

function refused(what: string, errno: number, log: string | undefined, sourceOf?: (insn: number) => SourceLine | undefined): BpfError {
  const code = errnoName(errno);
  if (!log) {
    return new BpfError('BPF_PROG_LOAD', errno, code, `BPF_PROG_LOAD failed for ${what}: ${code}`, { hint: hintFor('BPF_PROG_LOAD', errno) });
  }
  const verdict = verdictOf(log) ?? code;
  const lines = log.split('\n');
  const tail = lines.slice(-TAIL_LINES).join('\n');
  const cut = lines.length > TAIL_LINES ? `(last ${TAIL_LINES} of ${lines.length} verifier log lines)\n` : 'verifier log:\n';
  const at = refusedAt(log);
  const source = at.source ?? (at.insn !== undefined ? sourceOf?.(at.insn) : undefined);
  const where = source ? `\n  at ${source.file}:${source.line}: ${source.text}` : at.insn !== undefined ? `\n  at instruction ${at.insn}` : '';
  return new VerifierError(errno, code, `the verifier refused ${what}: ${verdict}${where}`, verdict, {
    hint: /^processed 0 insns/m.test(log)
      // Refused before any instruction was checked: the kind, the flags or the attach target.
      ? 'the kernel refused the program before checking any instruction: check its section (attach target, sleepable ".s", type) against what this kernel allows, or leave it out (LoadOptions.programs)'
      : errno === Errno.EACCES || errno === Errno.EINVAL ? `fix the program at ${source ? `${source.file}:${source.line}` : 'the instruction the log names'} (load with logLevel: 2 for every state)` : hintFor('BPF_PROG_LOAD', errno),
    log: cut + tail,
    source,
    insn: at.insn,
  });
}
