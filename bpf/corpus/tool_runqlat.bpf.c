// Corpus (combined, like libbpf-tools' runqlat): tp_btf programs with raw_tp fallbacks switched off
// by '?', a histogram array of structs, const volatile filters, a weak kconfig and CO-RE.
//
// libbpf features: tp_btf/ (TRACING + attach_btf TYPEDEF btf_trace_NAME); SEC("?raw_tp/...")
// fallbacks have autoload off (real tools flip autoload depending on kernel support); .rodata
// const volatile; a .bss holding only a static (no MMAPABLE); CO-RE field reads. (The weak
// `CONFIG_HZ` extern is multiplied by 0, so clang drops it and there is no .kconfig map.)
// Kernels: all (host 6.18, 6.1, 6.12: tp_btf needs no trampoline).
// A correct loader produces:
//   maps  start          HASH  key 4 value 8 max_entries 10240
//         hists          ARRAY key 4 value 104 max_entries 1 (struct hist: 26 x u32 slots)
//         tool_run.rodata ARRAY 1 x 5, RDONLY_PROG|MMAPABLE, frozen (targ_tgid 0, filter_cg false)
//         tool_run.bss   ARRAY 1 x 104, flags 0 (only the static `zero`)
//   progs on_wakeup, on_wakeup_new, on_switch      TRACING (loaded)
//         raw_wakeup, raw_wakeup_new, raw_switch   RAW_TRACEPOINT, autoload off: not loaded
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_SLOTS 26

struct task_struct {
	int pid;
	int tgid;
	unsigned int __state;
} __attribute__((preserve_access_index));

struct hist {
	__u32 slots[MAX_SLOTS];
};

extern int CONFIG_HZ __kconfig __weak;

const volatile __u32 targ_tgid = 0;
const volatile bool filter_cg = false;
static struct hist zero;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

static __always_inline int trace_enqueue(__u32 tgid, __u32 pid)
{
	__u64 ts;

	if (!pid || (targ_tgid && targ_tgid != tgid))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

static __always_inline unsigned int log2l(__u64 v)
{
	unsigned int r = 0;

	while (v > 1 && r < MAX_SLOTS - 1) {
		v >>= 1;
		r++;
	}
	return r;
}

static __always_inline int handle_switch(struct task_struct *prev, struct task_struct *next)
{
	__u32 pid = BPF_CORE_READ(next, pid), k = 0;
	__u64 *tsp, delta;
	struct hist *h;

	if (BPF_CORE_READ(prev, __state) == 0)
		trace_enqueue(BPF_CORE_READ(prev, tgid), BPF_CORE_READ(prev, pid));
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = (bpf_ktime_get_ns() - *tsp) / 1000;
	h = bpf_map_lookup_elem(&hists, &k);
	if (!h) {
		bpf_map_update_elem(&hists, &k, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &k);
		if (!h)
			goto out;
	}
	__sync_fetch_and_add(&h->slots[log2l(delta + CONFIG_HZ * 0)], 1);
out:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(prev, next);
}

SEC("?raw_tp/sched_wakeup")
int BPF_PROG(raw_wakeup, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("?raw_tp/sched_wakeup_new")
int BPF_PROG(raw_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("?raw_tp/sched_switch")
int BPF_PROG(raw_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(prev, next);
}

char LICENSE[] SEC("license") = "GPL";
