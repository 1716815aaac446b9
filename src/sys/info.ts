// Decoders for BPF_OBJ_GET_INFO_BY_FD results (struct bpf_map_info, bpf_prog_info, bpf_link_info).
import { Fd } from './fd.js';
import { objInfo } from './commands.js';

function cString(buf: Buffer, offset: number, max: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('latin1', offset, end < 0 || end > offset + max ? offset + max : end);
}

export interface MapInfo {
  id: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  btfId: number;
  mapExtra: bigint;
}

export function mapInfo(fd: Fd, what: string): MapInfo {
  const b = objInfo(fd, 88, what);
  return {
    type: b.readUInt32LE(0),
    id: b.readUInt32LE(4),
    keySize: b.readUInt32LE(8),
    valueSize: b.readUInt32LE(12),
    maxEntries: b.readUInt32LE(16),
    flags: b.readUInt32LE(20),
    name: cString(b, 24, 16),
    btfId: b.readUInt32LE(64),
    mapExtra: b.readBigUInt64LE(80),
  };
}

export interface ProgramInfo {
  id: number;
  type: number;
  /** The kernel's 8-byte tag of the program, hex. */
  tag: string;
  name: string;
  /** Instructions after the verifier's rewriting, counted in 8-byte slots. */
  xlatedInsns: number;
  jitedBytes: number;
  /** Ids of the maps the program uses. */
  mapIds: number[];
  btfId: number;
  /** Instructions the verifier processed (0 on kernels before 5.16). */
  verifiedInsns: number;
  /** Run count and total run time; non-zero only while kernel.bpf_stats_enabled is 1. */
  runCount: bigint;
  runTimeNs: bigint;
}

export function programInfo(fd: Fd, what: string): ProgramInfo {
  // First pass learns how many map ids there are; the second fetches them.
  const first = objInfo(fd, 232, what);
  const nrMaps = first.readUInt32LE(52);
  let mapIds: number[] = [];
  if (nrMaps > 0) {
    const ids = Buffer.alloc(nrMaps * 4);
    objInfo(fd, 232, what, (info, attr) => {
      info.writeUInt32LE(nrMaps, 52);
      info.writeBigUInt64LE(attr.addressOf(ids), 56);
    });
    mapIds = [];
    for (let i = 0; i < nrMaps; i++) mapIds.push(ids.readUInt32LE(i * 4));
  }
  return {
    type: first.readUInt32LE(0),
    id: first.readUInt32LE(4),
    tag: first.subarray(8, 16).toString('hex'),
    xlatedInsns: first.readUInt32LE(20) / 8,
    jitedBytes: first.readUInt32LE(16),
    name: cString(first, 64, 16),
    mapIds,
    btfId: first.readUInt32LE(128),
    verifiedInsns: first.readUInt32LE(216),
    runTimeNs: first.readBigUInt64LE(192),
    runCount: first.readBigUInt64LE(200),
  };
}

export interface LinkInfo {
  id: number;
  type: number;
  progId: number;
  /** For cgroup links: the cgroup's id and the attach type. */
  cgroupId?: bigint;
  attachType?: number;
}

export function linkInfo(fd: Fd, what: string): LinkInfo {
  const b = objInfo(fd, 48, what);
  const type = b.readUInt32LE(0);
  const info: LinkInfo = { type, id: b.readUInt32LE(4), progId: b.readUInt32LE(8) };
  if (type === 3 /* LinkType.CGROUP */) {
    info.cgroupId = b.readBigUInt64LE(16);
    info.attachType = b.readUInt32LE(24);
  }
  return info;
}
