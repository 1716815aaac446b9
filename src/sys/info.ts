// BPF_OBJ_GET_INFO_BY_FD, decoded by the info layouts (uapi/info.ts): the kernel's own view of a map,
// program, link or BTF object. Field names are the kernel's, camelCased (key_size → keySize).
import { BTF_INFO, LINK_INFO, LINK_INFO_MEMBER, MAP_INFO, PROG_INFO } from '../uapi/info.js';
import { decodeCamel, type CamelDecoded } from '../uapi/layout.js';
import { objInfo } from './commands.js';
import type { Fd } from './fd.js';

/** struct bpf_map_info. */
export type MapInfo = CamelDecoded<typeof MAP_INFO>;

export function mapInfo(fd: Fd, what: string): MapInfo {
  return decodeCamel(MAP_INFO, objInfo(fd, Buffer.alloc(MAP_INFO.size), what));
}

/** struct bpf_prog_info, with the ids of the maps the program uses. */
export type ProgramInfo = Omit<CamelDecoded<typeof PROG_INFO>, 'mapIds'> & {
  /** Ids of the maps the program uses. */
  mapIds: number[];
  /** Instructions after the verifier's rewriting, in 8-byte slots (xlatedProgLen / 8). */
  xlatedInsns: number;
};

export function programInfo(fd: Fd, what: string): ProgramInfo {
  const first = objInfo(fd, Buffer.alloc(PROG_INFO.size), what);
  const head = decodeCamel(PROG_INFO, first);
  const mapIds: number[] = [];
  if (head.nrMapIds > 0) {
    // Second pass: room for the map ids (the kernel writes at most nr_map_ids of them).
    const ids = Buffer.alloc(head.nrMapIds * 4);
    const map = PROG_INFO.byName;
    objInfo(fd, Buffer.alloc(PROG_INFO.size), what, (info, attr) => {
      info.writeUInt32LE(head.nrMapIds, map.get('nr_map_ids')!.offset);
      info.writeBigUInt64LE(attr.addressOf(ids), map.get('map_ids')!.offset);
    });
    for (let i = 0; i < head.nrMapIds; i++) mapIds.push(ids.readUInt32LE(i * 4));
  }
  return { ...head, mapIds, xlatedInsns: head.xlatedProgLen / 8 };
}

/** struct bpf_link_info: the common head and, under `detail`, its link type's union member. */
export interface LinkInfo {
  type: number;
  id: number;
  progId: number;
  /** The fields of the link type's member of the union (cgroup: cgroupId, attachType; xdp: ifindex; …). */
  detail: Record<string, number | bigint | string>;
}

export function linkInfo(fd: Fd, what: string): LinkInfo {
  const b = objInfo(fd, Buffer.alloc(LINK_INFO.size), what);
  const head = decodeCamel(LINK_INFO, b);
  const member = LINK_INFO_MEMBER[head.type];
  const detail = member ? decodeCamel(LINK_INFO, b, `${member}.`) as Record<string, number | bigint | string> : {};
  return { type: head.type, id: head.id, progId: head.progId, detail };
}

/** struct bpf_btf_info. */
export type BtfInfo = CamelDecoded<typeof BTF_INFO>;

export function btfInfo(fd: Fd, what: string): BtfInfo {
  return decodeCamel(BTF_INFO, objInfo(fd, Buffer.alloc(BTF_INFO.size), what));
}
