import type { Btf } from '../btf/btf.js';

// What parsing a BPF object produces: plain data, no file descriptors, no kernel. Users may change
// these specs between BpfObject.open() and load(), the way libbpf's open/load split allows.

/** A map as the object declares it (BTF-defined in `.maps`, legacy in `maps`, or a global-data section). */
export interface MapSpec {
  /** The name the object gives it: the variable name, or the section name for global data (".rodata"). */
  name: string;
  /** BPF_MAP_TYPE_* number (see sys/constants.ts MapType). */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* map flags. */
  flags: number;
  /** "byName" pins under the pin directory by `name` (LIBBPF_PIN_BY_NAME). */
  pinning: 'none' | 'byName';
  /** map_extra (bloom filter hashes, arena address); 0n when unset. */
  mapExtra: bigint;
  /** Where it came from: a user map (".maps"/"maps") or a global-data section. */
  kind: 'map' | 'data';
  /** The ELF section that declared it (".maps", "maps", ".rodata", ".bss", ...). */
  section: string;
  /** For global data: the initial value of the section (one array element). Zeroes for .bss. */
  contents?: Buffer;
  /** For global data: read-only for programs and frozen after filling (.rodata*). */
  readonly?: boolean;
  /** BTF type ids of key and value in the object's BTF, when known (used by #4 for typed maps). */
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  /** For map-in-map types: the inner map's spec. */
  innerMap?: MapSpec;
}

/**
 * A relocation inside one function, by instruction index relative to the function's first
 * instruction (ld_imm64 counts as two slots, as in the kernel).
 */
export type Relocation =
  /** ld_imm64 that must hold a map's fd (BPF_PSEUDO_MAP_FD). */
  | { kind: 'map'; insn: number; map: string; symbol: string }
  /** ld_imm64 that must point into a global-data map's value (BPF_PSEUDO_MAP_VALUE) at `offset`. */
  | { kind: 'data'; insn: number; map: string; offset: number; symbol: string }
  /** A bpf-to-bpf call (BPF_PSEUDO_CALL) to the function named `target`. */
  | { kind: 'call'; insn: number; target: string; symbol: string }
  /** ld_imm64 taking a function's address (BPF_PSEUDO_FUNC), for callbacks such as bpf_loop. */
  | { kind: 'func'; insn: number; target: string; symbol: string };

/** One BTF.ext func_info record: instruction index relative to the function, BTF FUNC type id. */
export interface FuncInfo { insn: number; typeId: number }
/** One BTF.ext line_info record, instruction index relative to the function. */
export interface LineInfo { insn: number; fileName: string; line: string; lineNumber: number; column: number; fileNameOff: number; lineOff: number }
/** One BTF.ext CO-RE relocation record, instruction index relative to the function. */
export interface CoreRelo { insn: number; typeId: number; accessor: string; kind: number }

/** A function: a program's entry point or a subprogram in `.text`. */
export interface FunctionSpec {
  name: string;
  /** The ELF section the function lives in. */
  section: string;
  /** Its raw instructions, 8 bytes each, little-endian, as clang wrote them (before relocation). */
  instructions: Buffer;
  relocations: Relocation[];
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  coreRelos: CoreRelo[];
}

export interface ProgramSpec extends FunctionSpec {
  /** BPF_PROG_TYPE_* number. */
  type: number;
  /** BPF_* attach type expected at load (0 when the type needs none). */
  expectedAttachType: number;
  /** What the section names after its prefix (kprobe/NAME, fentry/NAME, tracepoint/CAT/NAME); "" if none. */
  attachTo: string;
  license: string;
  /** Kernel version from the "version" section (kprobes on very old kernels); 0 when absent. */
  kernVersion: number;
}

/** A global variable in `.rodata*`, `.data*` or `.bss*`. */
export interface GlobalSpec {
  name: string;
  /** The data section (and map) it lives in. */
  section: string;
  offset: number;
  size: number;
  /** BTF type id of the variable's type, when the object has BTF. */
  btfTypeId?: number;
}

/** Everything BpfObject.open() reads from an object file. */
export interface ObjectSpec {
  /** File path, or "<buffer>". */
  file: string;
  /** A short name for the object (file name without ".bpf.o"/".o"), used for kernel object names. */
  name: string;
  license: string;
  kernVersion: number;
  maps: Map<string, MapSpec>;
  programs: Map<string, ProgramSpec>;
  /** Functions in `.text` that programs call (bpf-to-bpf) or take the address of. */
  subprograms: Map<string, FunctionSpec>;
  globals: Map<string, GlobalSpec>;
  /** The object's BTF with DATASEC sizes and VAR offsets filled in, when it has a .BTF section. */
  btf?: Btf;
  /** Fix-ups of `btf` that could not be made (the loader then loads without BTF if nothing needs it). */
  btfProblems?: string[];
}
