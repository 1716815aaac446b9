// The two error types users see. Parsing never touches the kernel and throws ObjectError; anything
// the kernel refused throws BpfError. Both name the object involved and say what to do.

/** A malformed or unsupported BPF object file, found while parsing (no kernel involved). */
export class ObjectError extends Error {
  override name = 'ObjectError';
  /** The file (path, or "<buffer>") the problem is in. */
  readonly file: string;
  /** The ELF section involved, when there is one. */
  readonly section?: string;
  /** Byte offset in the file (or in the section, when `section` is set) where the problem is. */
  readonly offset?: number;

  constructor(file: string, message: string, where: { section?: string; offset?: number } = {}) {
    const at = [
      where.section !== undefined ? `section ${where.section}` : undefined,
      where.offset !== undefined ? `offset ${where.offset}` : undefined,
    ].filter(Boolean).join(', ');
    super(`${file}${at ? ` (${at})` : ''}: ${message}`);
    this.file = file;
    this.section = where.section;
    this.offset = where.offset;
  }
}

/** The kernel refused a bpf() command (or a related syscall such as mount). */
export class BpfError extends Error {
  override name = 'BpfError';
  /** The command that failed, e.g. "BPF_PROG_LOAD", or "mount". */
  readonly op: string;
  /** The errno number (0 when the failure was detected in userspace). */
  readonly errno: number;
  /** The errno name, e.g. "EPERM". */
  readonly code: string;
  /** What to do about it, when we know. */
  readonly hint?: string;
  /** The verifier log (or its tail) for a refused program. */
  readonly log?: string;

  constructor(op: string, errno: number, code: string, message: string, extra: { hint?: string; log?: string } = {}) {
    super(message + (extra.hint ? ` — ${extra.hint}` : '') + (extra.log ? `\n${extra.log}` : ''));
    this.op = op;
    this.errno = errno;
    this.code = code;
    this.hint = extra.hint;
    this.log = extra.log;
  }
}
