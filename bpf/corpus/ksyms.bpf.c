// Corpus: `.ksyms` externs: typed and untyped kernel variables, weak missing ones.
//
// libbpf feature: extern variables in .ksyms never become maps; each reference is an ld_imm64 that
// libbpf rewrites at load:
//   - typed (`extern const struct rq runqueues __ksym;`, `process_counts`): looked up by name as a BTF VAR in vmlinux
//     BTF (or a module's), local type checked for compatibility; the ld_imm64 becomes
//     src_reg = BPF_PSEUDO_BTF_ID, imm = the kernel BTF id of the VAR, insn[1].imm = BTF object fd
//     (0 for vmlinux). The verifier then knows the type (per-CPU here: bpf_per_cpu_ptr/this_cpu_ptr).
//   - untyped (`extern const void bpf_prog_active __ksym;`): resolved through /proc/kallsyms; the
//     ld_imm64 carries the plain address (src_reg 0). Program tags therefore change with KASLR
//     (every boot): compare tags live, not against the committed file.
//   - __weak and missing (typed or untyped): ld_imm64 of 0 — the program must test it.
// Kernels: typed ksyms 5.10+. libbpf resolves the untyped one with kallsyms, and the verifier
// finds a typed VAR's address with kallsyms too, so both kinds need data symbols in kallsyms
// (CONFIG_KALLSYMS_ALL). The host 6.18 kernel has KALLSYMS_ALL off: refused there, by libbpf
// ("extern 'bpf_prog_active' (strong): not resolved"; without that extern the kernel refuses:
// "ldimm64 failed to find the address for kernel symbol 'runqueues'"). Debian 6.1/6.12
// (KALLSYMS_ALL=y) load it. ksyms_text.bpf.c is the host-loadable variant (text symbols).
// (The program is raw_tp: bpf_per_cpu_ptr/bpf_this_cpu_ptr are tracing helpers.)
// A correct loader produces:
//   maps  ksyms_out  ARRAY key 4 value 8 max_entries 4, empty
//   progs on_sys_enter  RAW_TRACEPOINT (raw_tp/sys_enter), uses ksyms_out
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rq {
	int cpu;
} __attribute__((preserve_access_index));

extern const struct rq runqueues __ksym;            // typed, per-CPU
extern const int process_counts __ksym;             // typed, per-CPU unsigned long (local type int: compatible)
extern const void bpf_prog_active __ksym;           // untyped: via kallsyms
extern const void sockaccel_no_such_symbol __ksym __weak;   // untyped, missing: 0
extern const int sockaccel_no_such_var __ksym __weak;       // typed, missing: 0

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} ksyms_out SEC(".maps");

static __always_inline void put(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&ksyms_out, &slot, &value, BPF_ANY);
}

SEC("raw_tp/sys_enter")
int on_sys_enter(void *ctx)
{
	const struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);
	const int *forks = bpf_this_cpu_ptr(&process_counts);

	if (rq)
		put(0, rq->cpu);
	put(1, *forks);
	put(2, (__u64)&bpf_prog_active);   /* the value: `!= 0` would be folded to 1 by clang */
	put(3, (__u64)&sockaccel_no_such_symbol + (__u64)&sockaccel_no_such_var);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
