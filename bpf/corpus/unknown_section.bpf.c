// Corpus: a program in a section name libbpf does not know.
//
// libbpf feature: refusal. libbpf 1.x cannot infer the program type ("missing BPF prog type, check
// ELF section name 'sockaccel/unknown'") and, unless the caller sets a type with
// bpf_program__set_type() (bpftool: `prog loadall OBJ DIR type socket`), fails the load.
// Kernels: refused everywhere. A correct loader refuses it naming the section and program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("sockaccel/unknown")
int mystery(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
