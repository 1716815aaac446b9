// Corpus: BTF-enabled raw tracepoints (SEC "tp_btf/NAME") with a kfunc pair.
//
// libbpf feature: tp_btf/NAME is BPF_PROG_TYPE_TRACING, expected_attach_type BPF_TRACE_RAW_TP,
// attach_btf_id = the vmlinux BTF id of the TYPEDEF "btf_trace_NAME" (libbpf searches for the
// "btf_trace_" prefix + NAME, kind TYPEDEF), attach_btf_obj_fd 0 (vmlinux). Arguments are typed
// BTF pointers (direct reads of next->pid are allowed; relocated by CO-RE here).
// bpf_task_acquire/bpf_task_release are kfuncs (6.2+), see kfunc.bpf.c.
// Kernels: host 6.18 and 6.12 load it (tp_btf needs no trampoline, unlike fentry); 6.1 has no
// bpf_task_acquire: libbpf refuses the object there (kfunc not found in kernel BTF).
// tp_btf_plain.bpf.c is the same without kfuncs (6.1 loads it).
// A correct loader produces:
//   maps  tp_btf_counts  ARRAY key 4 value 8 max_entries 2
//   progs on_switch   TRACING, attach_btf TYPEDEF btf_trace_sched_switch (vmlinux)
//         on_newtask  TRACING, attach_btf TYPEDEF btf_trace_task_newtask (vmlinux)
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} tp_btf_counts SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&tp_btf_counts, &k);

	if (v && next->pid)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, __u64 clone_flags)
{
	struct task_struct *t = bpf_task_acquire(task);
	__u32 k = 1;
	__u64 *v;

	if (!t)
		return 0;
	v = bpf_map_lookup_elem(&tp_btf_counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
