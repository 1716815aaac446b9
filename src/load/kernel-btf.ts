// Kernel BTF for name lookups: vmlinux, and the BTF of each loaded module (split BTF on vmlinux's,
// in /sys/kernel/btf/<module>), as libbpf's load_module_btfs() finds them: every kernel BTF object
// the kernel lists (BPF_BTF_GET_NEXT_ID) that is not vmlinux. A module's BTF object fd is what goes
// into attach_btf_obj_fd (fentry on a module function), a typed ksym's ld_imm64 and fd_array
// (module kfuncs). The fds belong to one load and are closed after it.
import { existsSync, readFileSync } from 'node:fs';
import { kernelBtf, LazyBtf, VMLINUX_BTF } from '../btf/lazy.js';
import { btfGetFdByIdTry, btfGetNextId, btfIdentity } from '../sys/commands.js';
import type { Fd } from '../sys/fd.js';

export interface ModuleBtf {
  name: string;
  /** The module's BTF object in the kernel (owned by the KernelBtfs that found it). */
  fd: Fd;
  btf: LazyBtf;
}

/** Parsed module BTF by name and the vmlinux BTF it was split from (module BTF does not change while loaded). */
const parsed = new Map<string, { base: LazyBtf; btf: LazyBtf; size: number }>();

export class KernelBtfs {
  readonly vmlinuxPath: string;
  #vmlinux?: LazyBtf;
  #modules?: ModuleBtf[];

  constructor(vmlinuxPath = VMLINUX_BTF) {
    this.vmlinuxPath = vmlinuxPath;
  }

  get vmlinux(): LazyBtf {
    this.#vmlinux ??= kernelBtf(this.vmlinuxPath);
    return this.#vmlinux;
  }

  /** The loaded modules' BTF (listed and opened once per load). Without module BTF support: none. */
  modules(): ModuleBtf[] {
    if (this.#modules) return this.#modules;
    const out: ModuleBtf[] = [];
    // A BTF file for another kernel (btfPath) has no modules to go with it.
    if (this.vmlinuxPath !== VMLINUX_BTF) return (this.#modules = out);
    try {
      for (let id = btfGetNextId(0, 'kernel BTF objects'); id !== undefined; id = btfGetNextId(id, 'kernel BTF objects')) {
        const r = btfGetFdByIdTry(id, `BTF object ${id}`);
        if (!r.fd) continue; // gone meanwhile, or not ours to open
        let keep = false;
        try {
          const who = btfIdentity(r.fd, `BTF object ${id}`);
          if (!who.kernelBtf || !who.name || who.name === 'vmlinux') continue;
          const btf = this.moduleBtf(who.name, who.size);
          if (!btf) continue;
          out.push({ name: who.name, fd: r.fd, btf });
          keep = true;
        } finally {
          if (!keep) r.fd.close();
        }
      }
    } catch {
      // Kernels without BTF ids (before 5.11 module BTF) simply have no module BTF to search.
    }
    this.#modules = out;
    return out;
  }

  private moduleBtf(name: string, size: number): LazyBtf | undefined {
    const path = `/sys/kernel/btf/${name}`;
    const known = parsed.get(name);
    if (known && known.base === this.vmlinux && known.size === size) return known.btf;
    if (!existsSync(path)) return undefined;
    const btf = LazyBtf.parseSplit(readFileSync(path), this.vmlinux, path);
    parsed.set(name, { base: this.vmlinux, btf, size });
    return btf;
  }

  /** Close the module BTF fds (after the programs that need them are loaded). */
  close(): void {
    for (const m of this.#modules ?? []) m.fd.close();
    this.#modules = undefined;
  }
}

/** The first id of `kind` named exactly `name` in `btf`'s own types (btf__find_by_name_kind[_own]). */
export function findOwn(btf: LazyBtf, name: string, kind: number): number | undefined {
  return btf.idsByEssentialName(name).find((i) => btf.kindOf(i) === kind && btf.type(i).name === name);
}
