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
  /**
   * "byName" pins under the pin directory by `name` (LIBBPF_PIN_BY_NAME, /sys/fs/bpf by default).
   * "objectNs" and "globalNs" are iproute2's PIN_OBJECT_NS / PIN_GLOBAL_NS of legacy `maps` records:
   * /sys/fs/bpf/tc/<sha1 of the object file>/NAME and /sys/fs/bpf/tc/globals/NAME.
   */
  pinning: 'none' | 'byName' | 'objectNs' | 'globalNs';
  /** map_extra (bloom filter hashes, arena address); 0n when unset. */
  mapExtra: bigint;
  /**
   * Where it came from: a user map (".maps"/"maps"), a global-data section (".data", ".rodata*",
   * ".bss*" and the ".kconfig" map of kconfig externs), or a struct_ops variable (".struct_ops*").
   */
  kind: 'map' | 'data' | 'struct_ops';
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
  /**
   * Static initialisers of a map-in-map or PROG_ARRAY (`.values = { [1] = &x }`): slot → name of the
   * map (map-in-map) or program (PROG_ARRAY) to put there. libbpf fills map slots once the maps
   * exist and program slots once the programs are loaded; so does load().
   */
  initSlots?: Map<number, string>;
  /** numa_node (with BPF_F_NUMA_NODE in flags). */
  numaNode?: number;
  /** Create this map at load (libbpf's autocreate; false for SEC("?.struct_ops")). Programs that use a map that is not created fail to load, naming it. */
  autocreate?: boolean;
  /** For struct_ops maps: the local struct, its initial bytes and the programs in its function pointers. */
  structOps?: StructOpsSpec;
}

/** A struct_ops variable: `SEC(".struct_ops.link") struct tcp_congestion_ops x = { .f = (void *)prog, .name = "x" }`. */
export interface StructOpsSpec {
  /** The local struct's name, e.g. "tcp_congestion_ops" (the kernel has it, and bpf_struct_ops_<name>). */
  typeName: string;
  /** Its BTF type id in the object. */
  typeId: number;
  /** The variable's bytes as compiled (function pointers are zero here; see `programs`). */
  data: Buffer;
  /** Member name → program assigned to that function pointer. */
  programs: Map<string, string>;
}

/** An extern the loader resolves: `extern ... __kconfig` or `extern ... __ksym`. */
export interface ExternSpec {
  /** The BTF name ("CONFIG_HZ", "bpf_task_release", "runqueues___x"). */
  name: string;
  /** The name without a "___flavour" suffix (what is looked up in the kernel). */
  essentialName: string;
  kind: 'kconfig' | 'ksym';
  /** Declared __weak: missing is not an error (it reads as 0; a call to it must be guarded). */
  weak: boolean;
  /** Its VAR or FUNC in the object's BTF. */
  btfId: number;
  /** .kconfig: how to store the value and where in the .kconfig map. */
  kconfig?: {
    type: 'bool' | 'char' | 'int' | 'tristate' | 'chars';
    size: number;
    align: number;
    signed: boolean;
    offset: number;
  };
  /** .ksyms: a function (kfunc) or a variable; typeId 0 for an untyped variable (`extern const void x __ksym`). */
  ksym?: { func: boolean; typeId: number };
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
  | { kind: 'func'; insn: number; target: string; symbol: string }
  /** ld_imm64 of a .ksyms extern (a kernel variable's or kfunc's address), resolved at load. */
  | { kind: 'ksym'; insn: number; extern: string; symbol: string }
  /** A call to a kfunc (an extern function in .ksyms): BPF_PSEUDO_KFUNC_CALL with its kernel BTF id. */
  | { kind: 'kfunc'; insn: number; extern: string; symbol: string };

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
  /**
   * BPF_PROG_TYPE_* number, from the section name (libbpf's table, object/sections.ts). 0 (UNSPEC)
   * when the section name is unknown: set it before load, or turn autoload off.
   */
  type: number;
  /** BPF_* attach type expected at load (0 when the type needs none). */
  expectedAttachType: number;
  /** What the section names after its prefix (kprobe/NAME, fentry/NAME, tracepoint/CAT/NAME); "" if none. For fentry/fexit/lsm/iter/tp_btf/freplace this is the attach target ("[module:]function"). */
  attachTo: string;
  /** Load this program (libbpf's autoload): false for SEC("?...") sections. load() leaves it out when false. */
  autoload: boolean;
  /** BPF_F_* prog_flags at load: BPF_F_SLEEPABLE for ".s" sections and "syscall", BPF_F_XDP_HAS_FRAGS for "xdp.frags". */
  flags: number;
  /** The SecFlag bits of its section (object/sections.ts): ATTACH_BTF, USDT, ... */
  secFlags: number;
  /** An attach_btf_id (of vmlinux BTF) to use as is instead of resolving `attachTo`. */
  attachBtfId?: number;
  /** Its exception callback (`__exception_cb(f)`: a BTF decl tag "exception_callback:f"), appended after its subprograms. */
  exceptionCallback?: string;
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
  /** .kconfig and .ksyms externs, in libbpf's order (kconfig by alignment, size, name; then ksyms by name). */
  externs: Map<string, ExternSpec>;
  /** The object's BTF with DATASEC sizes and VAR offsets filled in, when it has a .BTF section. */
  btf?: Btf;
  /** Fix-ups of `btf` that could not be made (the loader then loads without BTF if nothing needs it). */
  btfProblems?: string[];
}
