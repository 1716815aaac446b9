// Corpus: untyped `.ksyms` externs of kernel *text* symbols, and weak missing ksyms.
//
// libbpf feature: an untyped extern (`extern const void NAME __ksym;`) is resolved by name through
// /proc/kallsyms (function symbols are there even without CONFIG_KALLSYMS_ALL); libbpf writes the
// address into the ld_imm64 (src_reg 0, imm/next imm = low/high 32 bits). A __weak extern that is
// missing (typed or untyped) becomes ld_imm64 0. The tag depends on the addresses, i.e. on KASLR:
// it changes every boot — compare tags live, not against the committed file.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  ksyms_text_out  ARRAY key 4 value 8 max_entries 4, empty
//   progs text_addrs      SOCKET_FILTER, uses ksyms_text_out
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const void _text __ksym;                        // untyped, always in kallsyms
extern const void schedule __ksym;                     // untyped, a function
extern const void sockaccel_no_such_symbol __ksym __weak;   // untyped, missing: 0
extern const int sockaccel_no_such_var __ksym __weak;       // typed, missing: 0

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} ksyms_text_out SEC(".maps");

static __always_inline void put(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&ksyms_text_out, &slot, &value, BPF_ANY);
}

SEC("socket")
int text_addrs(struct __sk_buff *skb)
{
	put(0, (__u64)&schedule - (__u64)&_text);
	put(1, (__u64)&sockaccel_no_such_symbol);
	put(2, (__u64)&sockaccel_no_such_var);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
