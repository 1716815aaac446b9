// BPF iterators (SEC("iter/TARGET"), 5.8+): a link to the target (task, bpf_map, bpf_map_elem,
// tcp, cgroup…), read as a stream: each read of the IterLink runs the program over every object and
// yields what it printed (bpf_seq_printf / BPF_SEQ_PRINTF). Targets that iterate one thing take it
// here: a map's elements, a cgroup's tree, one task.
import { openSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { linkCreateTry } from '../sys/commands.js';
import { bpfError, Errno } from '../sys/errno.js';
import { Fd } from '../sys/fd.js';
import { Attr } from '../sys/attr.js';
import { CgroupIterOrder, ITER_LINK_INFO } from '../uapi/attach.js';
import { AttachType, ProgType } from '../uapi/enums.js';
import { checkCgroupDir } from './cgroup.js';
import { IterLink } from './link.js';
import type { AttachableMap, AttachableProgram } from './types.js';

export interface IterOptions {
  /** bpf_map_elem, sockmap, … : iterate this map's elements. */
  map?: AttachableMap;
  /** cgroup: start at this cgroup v2 directory, walking in `cgroupOrder`. */
  cgroup?: string;
  cgroupOrder?: keyof typeof CgroupIterOrder;
  /** task, task_file, task_vma: only this thread, or this process's threads (6.1+). */
  task?: { tid?: number; pid?: number };
}

/** Attach an iterator program; read the returned IterLink (open(), read(), readText(), readSync()). */
export function attachIter(prog: AttachableProgram, opts: IterOptions = {}): IterLink {
  if (prog.type !== ProgType.TRACING || prog.expectedAttachType !== AttachType.TRACE_ITER) {
    throw new UsageError('BAD_ARGUMENT', `${prog.what} is not an iterator program (SEC("iter/TARGET"))`);
  }
  const chosen = [opts.map && 'map', opts.cgroup && 'cgroup', opts.task && 'task'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError('BAD_ARGUMENT', `${prog.what}: an iterator takes one of map, cgroup, task (got ${chosen.join(', ')})`);
  let cgroup: Fd | undefined;
  let info: Buffer | undefined;
  let target = 'every object of its kind';
  try {
    if (opts.map) {
      info = new Attr(ITER_LINK_INFO, { 'map.map_fd': opts.map.fd.value }).buf;
      target = `map ${opts.map.name}`;
    } else if (opts.cgroup) {
      const dir = checkCgroupDir(opts.cgroup);
      cgroup = new Fd(openSync(dir, 'r'));
      info = new Attr(ITER_LINK_INFO, { 'cgroup.cgroup_fd': cgroup.value, 'cgroup.order': CgroupIterOrder[opts.cgroupOrder ?? 'DESCENDANTS_PRE'] }).buf;
      target = `cgroup ${dir} (${opts.cgroupOrder ?? 'DESCENDANTS_PRE'})`;
    } else if (opts.task) {
      info = new Attr(ITER_LINK_INFO, { 'task.tid': opts.task.tid, 'task.pid': opts.task.pid }).buf;
      target = opts.task.tid ? `thread ${opts.task.tid}` : `process ${opts.task.pid}`;
    }
    const description = `${prog.what} as an iterator over ${target}`;
    const r = linkCreateTry({ prog_fd: prog.fd.value, attach_type: AttachType.TRACE_ITER, iter_info: info, iter_info_len: info?.length ?? 0 }, description);
    if (r.fd) return new IterLink('iter', r.fd, AttachType.TRACE_ITER, description);
    throw bpfError('BPF_LINK_CREATE', r.errno, description, r.errno === Errno.EINVAL
      ? { hint: opts.map ? 'the map must suit the iterator (bpf_map_elem: any map with keys; sockmap: SOCKMAP/SOCKHASH) and be large enough for what the program reads' : 'this iterator target may need an argument (map, cgroup, task), or one it does not take' }
      : r.errno === Errno.EBADF ? { hint: 'the map or cgroup fd was closed' } : {});
  } finally {
    cgroup?.close();
  }
}
