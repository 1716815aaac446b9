// Kernel object names: at most 15 characters plus NUL, only letters, digits, '_' and '.'.
const MAX = 15;

export function sanitizeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, MAX);
}

/**
 * The kernel name of a global-data map, exactly as libbpf's internal_map_name() makes it: the
 * section name (at most 15 characters, at least 7 reserved for it) after as much of the object's
 * name as fits ("tool_exe.rodata", "tool_exe.bss", "tool_ex.kconfig"); a section with two or more
 * dots (".data.foo", ".rodata.str1.1") keeps its own name with no prefix.
 */
export function kernelName(objName: string, name: string): string {
  let sfx = Math.max(7, name.length);
  if (sfx >= MAX + 1) sfx = MAX;
  const custom = name.indexOf('.', 1) >= 0;
  const pfx = custom || !objName ? 0 : Math.min(MAX - sfx, objName.length);
  return (objName.slice(0, pfx) + name.slice(0, sfx)).replace(/[^A-Za-z0-9_.]/g, '_');
}
