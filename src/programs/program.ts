// A loaded program, by its fd: info, pin, test runs, and attaching (the link layer does the work).
import { UsageError } from '../errors.js';
import { attachCgroup, attachRawTracepoint, attachToMap, attachTracepoint, attachTracing, type AttachOptions } from '../link/attach.js';
import { attachIter, type IterOptions } from '../link/iter.js';
import { attachKprobe, attachKprobeMulti, type KprobeMultiOptions, type KprobeOptions } from '../link/kprobe.js';
import type {
  BpfLink, CgroupLink, IterLink, KprobeLink, KprobeMultiLink, NetnsLink, RawTracepointLink, SockmapLink, TcxLink, TracepointLink, UprobeLink, UprobeMultiLink, XdpLink,
} from '../link/link.js';
import { attachNetns } from '../link/netns.js';
import type { PerfAttachOptions, PerfEventAttachment } from '../link/perf-event.js';
import { attachSocketFilter, type SocketFilterAttachment } from '../link/socket-filter.js';
import type { SocketRef } from '../link/socket-fd.js';
import { attachTc, type TcFilterAttachment, type TcOptions } from '../link/tc.js';
import { attachUprobe, attachUprobeMulti, type UprobeMultiOptions, type UprobeOptions } from '../link/uprobe.js';
import { attachXdp, type XdpNetlinkAttachment, type XdpOptions } from '../link/xdp.js';
import type { NetnsRef } from '../sys/netns.js';
import type { ProgAttachment } from '../link/prog-attach.js';
import type { AttachableMap, AttachableProgram } from '../link/types.js';
import { preparePinPath } from '../sys/bpffs.js';
import { objGet, objPin, progTestRun } from '../sys/commands.js';
import { closeOnThrow, Fd } from '../sys/fd.js';
import { programInfo, type ProgramInfo } from '../sys/info.js';
import { enumName, ProgType } from '../uapi/enums.js';

export interface TestRunOptions {
  /** Packet (or other input data) for program types that take one (socket filters, xdp, tc...). */
  data?: Buffer;
  /** Context for program types that take one (raw_tp: up to 12 u64 arguments). */
  ctx?: Buffer;
  /** Run this many times (duration is the mean). Must be 0 for raw_tp. */
  repeat?: number;
  /** Room for output data; defaults to the input's size plus headroom. */
  dataOutSize?: number;
  /** raw_tp only: run on this CPU (BPF_F_TEST_RUN_ON_CPU), e.g. to fill one CPU's perf ring. */
  cpu?: number;
}

/** BPF_F_TEST_RUN_ON_CPU (include/uapi/linux/bpf.h). */
const TEST_RUN_ON_CPU = 1;

export interface TestRunResult {
  /** The program's return value. */
  retval: number;
  /** Mean run time in ns, as the kernel measured it. */
  duration: number;
  /** Output data (the packet after the program ran), when there was input data. */
  data?: Buffer;
}

export class BpfProgram implements AttachableProgram {
  readonly #fd: Fd;
  readonly name: string;
  readonly type: number;
  /** Attach type given at load (BPF_* attach type; 0 when none). */
  readonly expectedAttachType: number;

  constructor(fd: Fd, name: string, type: number, expectedAttachType = 0) {
    this.#fd = fd;
    this.name = name;
    this.type = type;
    this.expectedAttachType = expectedAttachType;
  }

  /** Take ownership of `fd` (a program fd) and read its name and type from the kernel. */
  static fromFd(fd: Fd, expectedAttachType = 0): BpfProgram {
    return closeOnThrow(fd, (f) => {
      const kind = f.kind();
      if (kind !== 'bpf-prog') throw new UsageError('WRONG_KIND', `fd ${f.value} is a ${kind}, not a BPF program`);
      const info = programInfo(f, `program fd ${f.value}`);
      return new BpfProgram(f, info.name, info.type, expectedAttachType);
    });
  }

  /**
   * Open a program pinned at `path`. The kernel does not report the expected attach type; pass it
   * when you will attach the program somewhere that needs it (sk_msg: AttachType.SK_MSG_VERDICT).
   * A pin of another kind of object is a UsageError naming what it is.
   */
  static fromPin(path: string, expectedAttachType = 0): BpfProgram {
    const fd = objGet(path, 'pinned program');
    return closeOnThrow(fd, (f) => {
      const kind = f.kind();
      if (kind !== 'bpf-prog') {
        throw new UsageError('WRONG_KIND', `${path} pins a ${kind.replace(/^bpf[-_]/, '')}, not a program`, { hint: 'open it with the class for that kind (BpfMap.fromPin, BpfLink.fromPin)' });
      }
      return BpfProgram.fromFd(f, expectedAttachType);
    });
  }

  get fd(): Fd {
    return this.#fd;
  }

  get what(): string {
    return `program ${this.name} (${enumName(ProgType, this.type)})`;
  }

  info(): ProgramInfo {
    return programInfo(this.#fd, this.what);
  }

  pin(path: string): void {
    const { path: abs } = preparePinPath(path, this.what);
    objPin(this.#fd, abs, this.what);
  }

  /** Run the program once (or `repeat` times) in the kernel with BPF_PROG_TEST_RUN. */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    const outSize = opts.data ? (opts.dataOutSize ?? opts.data.length + 256) : undefined;
    const onCpu = opts.cpu !== undefined ? { flags: TEST_RUN_ON_CPU, cpu: opts.cpu } : {};
    const r = progTestRun(this.#fd, { data: opts.data, dataOutSize: outSize, ctx: opts.ctx, repeat: opts.repeat, ...onCpu }, this.what);
    return { retval: r.retval, duration: r.duration, data: r.data };
  }

  /** Attach to a cgroup v2 directory: a CgroupLink when the kernel has it, else BPF_PROG_ATTACH (ALLOW_MULTI). */
  attachCgroup(dir: string, opts?: AttachOptions): CgroupLink | ProgAttachment {
    return attachCgroup(this, dir, opts);
  }

  /** Attach to a SOCKMAP/SOCKHASH (sk_msg, sk_skb): a SockmapLink on 6.10+, else BPF_PROG_ATTACH. */
  attachToMap(map: AttachableMap, opts?: AttachOptions): SockmapLink | ProgAttachment {
    return attachToMap(this, map, opts);
  }

  /** Attach a raw_tp program to the raw tracepoint `name` (tp_btf programs: no name). */
  attachRawTracepoint(name?: string): RawTracepointLink {
    return attachRawTracepoint(this, name);
  }

  /** Attach a tracepoint program to tracepoint category:name (perf event + link on 5.15+, ioctls before). */
  attachTracepoint(category: string, name: string, opts?: PerfAttachOptions): TracepointLink | PerfEventAttachment {
    return attachTracepoint(this, category, name, opts);
  }

  /** Attach a kprobe program to kernel function `symbol` (a kretprobe with { retprobe: true }). */
  attachKprobe(symbol: string, opts?: KprobeOptions): KprobeLink | PerfEventAttachment {
    return attachKprobe(this, symbol, opts);
  }

  /** Attach a kprobe.multi program to many kernel functions with one link (5.18+, CONFIG_FPROBE). */
  attachKprobeMulti(opts: KprobeMultiOptions): KprobeMultiLink {
    return attachKprobeMulti(this, opts);
  }

  /** Attach a uprobe program to a function (or file offset) of `binary`. */
  attachUprobe(binary: string, opts?: UprobeOptions): UprobeLink | PerfEventAttachment {
    return attachUprobe(this, binary, opts);
  }

  /** Attach a uprobe.multi program to many places of `binary` with one link (6.6+). */
  attachUprobeMulti(binary: string, opts: UprobeMultiOptions): UprobeMultiLink {
    return attachUprobeMulti(this, binary, opts);
  }

  /** Attach an XDP program to a network interface (an XdpLink on 5.9+, netlink before). */
  attachXdp(iface: string | number, opts?: XdpOptions): XdpLink | XdpNetlinkAttachment {
    return attachXdp(this, iface, opts);
  }

  /** Attach a tc program to an interface's ingress or egress (tcx on 6.6+, a cls_bpf filter before). */
  attachTc(iface: string | number, opts?: TcOptions): TcxLink | TcFilterAttachment {
    return attachTc(this, iface, opts);
  }

  /** Attach a socket filter to a socket (an fd, net.Socket, net.Server or dgram.Socket). */
  attachSocketFilter(socket: SocketRef): SocketFilterAttachment {
    return attachSocketFilter(this, socket);
  }

  /** Attach an sk_lookup or flow_dissector program to a network namespace (default: ours). */
  attachNetns(netns?: NetnsRef): NetnsLink {
    return attachNetns(this, netns);
  }

  /** Attach an iterator program; read the link to run it. */
  attachIter(opts?: IterOptions): IterLink {
    return attachIter(this, opts);
  }

  /** Attach a tp_btf, fentry/fexit/fmod_ret or lsm program to the kernel target it was loaded for. */
  attachTracing(): BpfLink {
    return attachTracing(this);
  }

  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
