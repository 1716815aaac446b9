// BPF_BTF_LOAD of an object's BTF: fixed up at parse time (DATASEC sizes, VAR offsets), sanitised here
// for the kinds the running kernel lacks, then loaded. A refusal is not fatal by itself: the caller
// loads without BTF when nothing needs it (and says so once), or throws `btfNeededError`.
import type { Btf } from '../btf/btf.js';
import { featuresUsed, sanitizeBtf, type BtfFeatures } from '../btf/sanitize.js';
import { BpfError, ObjectError, UsageError } from '../errors.js';
import { btfLoadTry } from '../sys/commands.js';
import { errnoName } from '../sys/errno.js';
import type { Fd } from '../sys/fd.js';
import { kernelHasBtf, probeBtfFeatures } from './btf-probe.js';

const LOG_SIZE = 1 << 20;

export interface UploadedBtf {
  /** The kernel's BTF object, when it was accepted. The caller closes it. */
  fd?: Fd;
  /** Whether func_info/line_info can go with programs (the kernel knows FUNC). */
  funcInfo: boolean;
  /** Kinds rewritten for this kernel, e.g. "2 DECL_TAG → INT". */
  rewrites: string[];
  features?: BtfFeatures;
  /** Why there is no fd (the kernel's words and its BTF log's last line, or a fix-up problem). */
  reason?: string;
  /** When the kernel refused the upload itself: its errno (0 for a fix-up problem or a kernel without BTF). */
  errno?: number;
}

export function uploadBtf(btf: Btf, problems: readonly string[] | undefined, file: string): UploadedBtf {
  if (problems && problems.length > 0) return { funcInfo: false, rewrites: [], reason: problems.join('; ') };
  if (!kernelHasBtf()) return { funcInfo: false, rewrites: [], reason: 'this kernel does not load BTF at all (BPF_BTF_LOAD refused a one-INT blob; CONFIG_DEBUG_INFO_BTF and kernel 4.18+ are needed)' };
  const features = probeBtfFeatures(featuresUsed(btf));
  const { bytes, rewrites } = sanitizeBtf(btf, features);
  const what = `BTF of ${file}`;
  const r = btfLoadTry(bytes, undefined, 0, what);
  if (r.fd) return { fd: r.fd, funcInfo: features.func, rewrites, features };
  // Refused: ask again with a log so the reason can be quoted.
  const log = Buffer.alloc(LOG_SIZE);
  const again = btfLoadTry(bytes, log, 1, what);
  if (again.fd) return { fd: again.fd, funcInfo: features.func, rewrites, features };
  const end = log.indexOf(0);
  const text = log.toString('utf8', 0, end < 0 ? log.length : end).trim();
  const last = text.split('\n').filter((l) => l.trim()).slice(-2).join(' / ');
  const errno = again.errno || r.errno;
  return { funcInfo: false, rewrites, features, errno, reason: `BPF_BTF_LOAD refused it with ${errnoName(errno)}${last ? `: ${last}` : ''}` };
}

/**
 * The error when something in the object cannot work without the BTF that could not be loaded: the
 * kernel's refusal (BpfError, its errno), the object's BTF (ObjectError), or a kernel without BTF.
 */
export function btfNeededError(file: string, needs: string, btf: Pick<UploadedBtf, 'reason' | 'errno'> | undefined): BpfError | ObjectError | UsageError {
  if (!btf) return new ObjectError(file, `${needs}, but the object has no .BTF section: build it with clang -g`);
  const message = `${needs}, but its BTF could not be loaded: ${btf.reason}`;
  const hint = 'rebuild the object with clang -g (and a clang/kernel pair that agree on BTF), or leave the program that needs BTF out of the load';
  if (btf.errno) return new BpfError('BPF_BTF_LOAD', btf.errno, errnoName(btf.errno), `${file}: ${message}`, { hint });
  if (btf.reason?.startsWith('this kernel')) return new UsageError('NOT_SUPPORTED', `${file}: ${message}`, { hint });
  return new ObjectError(file, `${message}; ${hint}`, { section: '.BTF' });
}
