// Corpus: SEC "tp_btf/NAME" without kfuncs (loads on 6.1 too), and a raw_tp on the same
// tracepoint for comparison.
//
// libbpf feature: tp_btf -> TRACING + BPF_TRACE_RAW_TP + attach_btf_id of TYPEDEF btf_trace_NAME;
// raw_tp/NAME -> RAW_TRACEPOINT, no BTF id (the name is only used when attaching).
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   progs on_wakeup   TRACING, attach_btf TYPEDEF btf_trace_sched_wakeup (vmlinux)
//         on_raw     RAW_TRACEPOINT (raw_tp/sched_wakeup), attach_btf none
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	return p->pid == 1;
}

SEC("raw_tp/sched_wakeup")
int on_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
