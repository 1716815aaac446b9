// Per-CPU values as the kernel copies them: one slot per possible CPU (not only online ones), each
// slot the value size rounded up to 8 bytes. Pure: the CPU count is a parameter.
import { UsageError } from '../errors.js';
import { MapType } from '../uapi/enums.js';

/** Map types whose values are one slot per possible CPU. */
export const PER_CPU_MAP_TYPES: ReadonlySet<number> = new Set([MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH, MapType.PERCPU_CGROUP_STORAGE]);

/** Bytes of one CPU's slot: the value size rounded up to 8. */
export function perCpuSlot(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/** Split the kernel's per-CPU buffer into one `valueSize` Buffer per CPU (views, not copies). */
export function splitPerCpu(all: Buffer, valueSize: number, cpus: number): Buffer[] {
  const slot = perCpuSlot(valueSize);
  const out: Buffer[] = [];
  for (let i = 0; i < cpus; i++) out.push(all.subarray(i * slot, i * slot + valueSize));
  return out;
}

/** The kernel's per-CPU buffer from one value per CPU (each exactly `valueSize` bytes; slot padding zeroed). */
export function joinPerCpu(values: readonly Buffer[], valueSize: number, cpus: number, what: string): Buffer {
  if (!Array.isArray(values) || values.length !== cpus) {
    throw new UsageError('BAD_ARGUMENT', `${what}: a per-CPU value is one Buffer per possible CPU: ${cpus} of them, got ${Array.isArray(values) ? values.length : typeof values}`, {
      hint: 'the count is of possible CPUs (/sys/devices/system/cpu/possible), not online ones',
    });
  }
  const slot = perCpuSlot(valueSize);
  const out = Buffer.alloc(slot * cpus);
  values.forEach((v, i) => {
    if (!Buffer.isBuffer(v) || v.length !== valueSize) {
      throw new UsageError('BAD_ARGUMENT', `${what}: the value for CPU ${i} must be a Buffer of ${valueSize} bytes, got ${Buffer.isBuffer(v) ? `${v.length} bytes` : typeof v}`);
    }
    v.copy(out, i * slot);
  });
  return out;
}
