// Kernel object names: at most 15 characters plus NUL, only letters, digits, '_' and '.'.
const MAX = 15;

export function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, MAX);
}

/**
 * The name given to the kernel. Global-data maps get a prefix of the object's name, as libbpf does
 * ("sockacce.rodata"), so that `bpftool map` tells them apart between objects.
 */
export function kernelName(objName: string, name: string): string {
  if (!objName) return sanitizeName(name);
  const room = Math.max(0, MAX - name.length);
  return sanitizeName(objName.slice(0, room) + name);
}
