// A loaded program, by its fd: info, pin, test runs, and attaching (cgroups and sockmaps).
import { enumName, ProgType } from '../sys/constants.js';
import { objGet, objPin, progTestRun } from '../sys/commands.js';
import { Fd, closeOnThrow } from '../sys/fd.js';
import { programInfo, type ProgramInfo } from '../sys/info.js';
import { preparePinPath } from '../sys/bpffs.js';
import { attachCgroup, attachToMap, type AttachOptions } from '../link/attach.js';
import type { BpfLink } from '../link/link.js';
import type { BpfMap } from '../maps/map.js';

export interface TestRunOptions {
  /** Packet (or other input data) for program types that take one (socket filters, xdp, tc...). */
  data?: Buffer;
  /** Context for program types that take one (raw_tp: up to 12 u64 arguments). */
  ctx?: Buffer;
  /** Run this many times (duration is the mean). Must be 0 for raw_tp. */
  repeat?: number;
  /** Room for output data; defaults to the input's size plus headroom. */
  dataOutSize?: number;
}

export interface TestRunResult {
  /** The program's return value. */
  retval: number;
  /** Mean run time in ns, as the kernel measured it. */
  duration: number;
  /** Output data (the packet after the program ran), when there was input data. */
  data?: Buffer;
}

export class BpfProgram {
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
      const info = programInfo(f, `program fd ${f.value}`);
      return new BpfProgram(f, info.name, info.type, expectedAttachType);
    });
  }

  /**
   * Open a program pinned at `path`. The kernel does not report the expected attach type; pass it
   * when you will attach the program somewhere that needs it (sk_msg: AttachType.SK_MSG_VERDICT).
   */
  static fromPin(path: string, expectedAttachType = 0): BpfProgram {
    return BpfProgram.fromFd(objGet(path, 'pinned program'), expectedAttachType);
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
    const abs = preparePinPath(path, this.what);
    objPin(this.#fd, abs, this.what);
  }

  /** Run the program once (or `repeat` times) in the kernel with BPF_PROG_TEST_RUN. */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    const outSize = opts.data ? (opts.dataOutSize ?? opts.data.length + 256) : undefined;
    const r = progTestRun(this.#fd, { data: opts.data, dataOutSize: outSize, ctx: opts.ctx, repeat: opts.repeat }, this.what);
    return { retval: r.retval, duration: r.duration, data: r.data };
  }

  /** Attach to a cgroup v2 directory: bpf_link when the kernel has it, else BPF_PROG_ATTACH (ALLOW_MULTI). */
  attachCgroup(dir: string, opts?: AttachOptions): BpfLink {
    return attachCgroup(this, dir, opts);
  }

  /** Attach to a SOCKMAP/SOCKHASH (sk_msg, sk_skb): bpf_link on 6.10+, else BPF_PROG_ATTACH. */
  attachToMap(map: BpfMap, opts?: AttachOptions): BpfLink {
    return attachToMap(this, map, opts);
  }

  close(): void {
    this.#fd.close();
  }
}
