// Corpus: the target of freplace.bpf.c — a program with a global (replaceable) subprogram.
//
// libbpf feature: a global function (non-static, __noinline) is a separately verified subprogram
// with its own BTF FUNC (linkage global) in the program's BTF; an EXT program can replace it.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   progs target_prog  SCHED_CLS (SEC "tc"), calls the global subprog check_len
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int check_len(struct __sk_buff *skb)
{
	return skb->len > 100;
}

SEC("tc")
int target_prog(struct __sk_buff *skb)
{
	return check_len(skb) ? 2 : 0;
}

char LICENSE[] SEC("license") = "GPL";
