// BPF_BTF_LOAD of an object's BTF: fixed up at parse time (DATASEC sizes, VAR offsets), sanitised here
// for the kinds the running kernel lacks, then loaded. A refusal is not fatal by itself: the caller
// loads without BTF when nothing needs it (and says so once), or throws `btfNeededError`.
import type { Btf } from '../btf/btf.js';
import { featuresUsed, sanitizeBtf, type BtfFeatures } from '../btf/sanitize.js';
import { BpfError } from '../errors.js';
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
  return { funcInfo: false, rewrites, features, reason: `BPF_BTF_LOAD refused it with ${errnoName(again.errno || r.errno)}${last ? `: ${last}` : ''}` };
}

/** The error when something in the object cannot work without the BTF the kernel refused. */
export function btfNeededError(file: string, needs: string, reason: string): BpfError {
  return new BpfError('BPF_BTF_LOAD', 0, 'ENOBTF', `${file}: ${needs}, but its BTF could not be loaded: ${reason}`, {
    hint: 'rebuild the object with clang -g (and a clang/kernel pair that agree on BTF), or remove the program that needs BTF from obj.programs',
  });
}
