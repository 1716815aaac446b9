// Corpus: freplace — an EXT program replacing a global function of another loaded program.
//
// libbpf feature: SEC "freplace/FUNC" -> BPF_PROG_TYPE_EXT; it needs attach_prog_fd (the target
// program) from the caller: bpf_program__set_attach_target(prog, target_fd, "FUNC"); libbpf then
// sets attach_btf_id = the id of FUNC in the *target program's* BTF (found through
// BPF_OBJ_GET_INFO_BY_FD(target).btf_id). Without a target libbpf refuses the load ("attach program
// FD is not set" style error) — which is what `bpftool prog loadall` gets.
// How the tests provide the target: load freplace_target.bpf.o first, take the fd of its
// program `target_prog`, pass it with the function name check_len to the loader (libbpf-oracle.sh:
// LIBBPF_ORACLE_TARGET=bpf/corpus/freplace_target.bpf.o:target_prog:check_len).
// Kernels: EXT programs need trampolines: the host 6.18 refuses them (EPERM, libbpf too);
// 6.1 and 6.12 load it.
// A correct loader produces:
//   progs new_check  EXT, attach_btf FUNC check_len (BTF of target_prog)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace/check_len")
int new_check(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
