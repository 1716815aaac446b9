// bpftool as a test oracle only: what is really attached to a cgroup.
import { sh } from './proc.js';

export interface CgroupAttachment {
  id: number;
  attach_type: string;
  attach_flags?: string;
  name?: string;
}

/** `bpftool -j cgroup show DIR`: the programs attached directly to the group. */
export function cgroupAttachments(dir: string): CgroupAttachment[] {
  const out = sh('bpftool', ['-j', 'cgroup', 'show', dir]).trim();
  if (!out) return [];
  const parsed = JSON.parse(out) as CgroupAttachment[];
  return Array.isArray(parsed) ? parsed : [];
}

export function sockopsAttachments(dir: string): CgroupAttachment[] {
  return cgroupAttachments(dir).filter((a) => a.attach_type === 'sock_ops' || a.attach_type === 'cgroup_sock_ops');
}
