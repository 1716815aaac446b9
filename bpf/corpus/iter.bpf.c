// Corpus: BPF iterators (SEC "iter/TARGET", "iter.s/TARGET").
//
// libbpf feature: iter/TARGET -> TRACING + BPF_TRACE_ITER, attach_btf_id = vmlinux BTF id of FUNC
// "bpf_iter_TARGET" (libbpf adds the "bpf_iter_" prefix); iter.s/ adds BPF_F_SLEEPABLE.
// The context types are declared here with CO-RE (struct bpf_iter__task, bpf_iter__bpf_map).
// Kernels: all (host 6.18 too: iterators are TRACING programs but need no trampoline).
// A correct loader produces:
//   progs dump_task       TRACING, attach_btf FUNC bpf_iter_task
//         dump_map        TRACING, attach_btf FUNC bpf_iter_bpf_map
//         dump_task_slp   TRACING (sleepable), attach_btf FUNC bpf_iter_task
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

struct bpf_map {
	__u32 id;
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
} __attribute__((preserve_access_index));

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	int pid;

	if (!task)
		return 0;
	pid = task->pid;
	bpf_seq_write(ctx->meta->seq, &pid, sizeof(pid));
	return 0;
}

SEC("iter/bpf_map")
int dump_map(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;
	__u32 id;

	if (!map)
		return 0;
	id = map->id;
	bpf_seq_write(ctx->meta->seq, &id, sizeof(id));
	return 0;
}

SEC("iter.s/task")
int dump_task_slp(struct bpf_iter__task *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
