// Corpus: struct_ops — a minimal TCP congestion control in SEC(".struct_ops.link").
//
// libbpf feature: the variable in .struct_ops.link becomes a BPF_MAP_TYPE_STRUCT_OPS map (key 4,
// value = sizeof the kernel's struct bpf_struct_ops_tcp_congestion_ops, max_entries 1, flags
// BPF_F_LINK because of ".link", btf_vmlinux_value_type_id = that kernel type). Each struct_ops/NAME
// program gets attach_btf_id = vmlinux BTF id of STRUCT tcp_congestion_ops and expected_attach_type
// = the index of the member it is assigned to (local members are matched to the kernel's by name).
// After loading the programs libbpf writes the struct (the kernel's layout, with the programs' fds
// and the scalar members such as name) with one map update. ".struct_ops.link" means that update
// does not register the algorithm (attaching a link would); plain ".struct_ops" registers it at
// load, which is why this corpus does not use it.
// Kernels: host 6.18 and 6.12 load it (struct_ops trampolines are built at the map update and need
// no ftrace, unlike fentry); 6.1 refuses the map (BPF_F_LINK for struct_ops is 6.4+).
// A correct loader produces:
//   maps  corpus_cc   STRUCT_OPS key 4, value = kernel's bpf_struct_ops_tcp_congestion_ops size,
//                     max_entries 1, flags LINK, btf_vmlinux_value_type STRUCT bpf_struct_ops_tcp_congestion_ops
//   progs cc_ssthresh, cc_undo_cwnd, cc_cong_avoid  STRUCT_OPS, attach_btf STRUCT tcp_congestion_ops
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct sock;

struct tcp_sock {
	__u32 snd_cwnd;
	__u32 snd_ssthresh;
} __attribute__((preserve_access_index));

struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	char name[16];
} __attribute__((preserve_access_index));

SEC("struct_ops/cc_ssthresh")
__u32 BPF_PROG(cc_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	__u32 half = tp->snd_cwnd >> 1;

	return half > 2 ? half : 2;
}

SEC("struct_ops/cc_cong_avoid")
void BPF_PROG(cc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC("struct_ops/cc_undo_cwnd")
__u32 BPF_PROG(cc_undo_cwnd, struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	return tp->snd_cwnd;
}

SEC(".struct_ops.link")
struct tcp_congestion_ops corpus_cc = {
	.ssthresh = (void *)cc_ssthresh,
	.cong_avoid = (void *)cc_cong_avoid,
	.undo_cwnd = (void *)cc_undo_cwnd,
	.name = "corpus_cc",
};

char LICENSE[] SEC("license") = "GPL";
