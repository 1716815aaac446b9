// The layouts a generated module is made from and checked against: each map's key/value shape and
// each settable global's shape, from the object's BTF, with a signature string per layout. The
// generator writes the signatures into the module; Skeleton.open() recomputes them from the object
// it opens, so both sides use this one function. Pure: no syscalls.
import { shapeOf, shapeSignature, type Shape } from '../btf/shape.js';
import { UsageError } from '../errors.js';
import { PER_CPU_MAP_TYPES } from '../maps/percpu.js';
import { mapShapes } from '../maps/typed.js';
import type { GlobalSpec, MapSpec, ObjectSpec } from '../object/index.js';

export interface MapLayoutOf {
  spec: MapSpec;
  perCpu: boolean;
  /** Undefined when the map has no usable BTF types: `untyped` says why. */
  shapes?: { key: Shape; value: Shape };
  signature?: string;
  untyped?: string;
}

export interface GlobalLayoutOf {
  spec: GlobalSpec;
  shape: Shape;
  signature: string;
}

/** Sections whose globals the program owns (not .kconfig/.ksyms, which the loader fills). */
const DATA_SECTIONS = ['.rodata', '.data', '.bss'];

export function mapLayouts(spec: ObjectSpec): MapLayoutOf[] {
  return [...spec.maps.values()].map((m) => {
    const what = `map ${m.name}`;
    const types = spec.btf && (m.btfKeyTypeId || m.btfValueTypeId) ? { btf: spec.btf, key: m.btfKeyTypeId ?? 0, value: m.btfValueTypeId ?? 0, source: spec.file } : undefined;
    const perCpu = PER_CPU_MAP_TYPES.has(m.type);
    try {
      const shapes = mapShapes({ type: m.type, keySize: m.keySize, valueSize: m.valueSize, what }, types);
      return { spec: m, perCpu, shapes, signature: `${shapeSignature(shapes.key)}=>${shapeSignature(shapes.value)}${perCpu ? '[percpu]' : ''}` };
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      return { spec: m, perCpu, untyped: e.message };
    }
  });
}

export function globalLayouts(spec: ObjectSpec): GlobalLayoutOf[] {
  const out: GlobalLayoutOf[] = [];
  for (const g of spec.globals.values()) {
    if (!spec.btf || !g.btfTypeId || !DATA_SECTIONS.some((s) => g.section === s || g.section.startsWith(`${s}.`))) continue;
    try {
      const shape = shapeOf(spec.btf, g.btfTypeId, `global ${g.name}`, g.name);
      out.push({ spec: g, shape, signature: shapeSignature(shape) });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
    }
  }
  return out;
}
