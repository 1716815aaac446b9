// Corpus (combined, like libbpf-tools' execsnoop): tracepoints + ring buffer + perf buffer fallback
// + const volatile filters + .bss + kconfig + CO-RE reads of the current task.
//
// libbpf features: tp/ sections (TRACEPOINT); RINGBUF sizing; PERF_EVENT_ARRAY max_entries 0 ->
// possible CPUs; .rodata with const volatile (RDONLY_PROG|MMAPABLE, frozen); .bss (MMAPABLE);
// .kconfig LINUX_KERNEL_VERSION; CO-RE field relocations (task_struct->real_parent->tgid through
// bpf_core_read) against the running kernel's BTF.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  execs          HASH key 4 value 32 max_entries 10240
//         events_rb      RINGBUF max_entries 262144
//         events_pb      PERF_EVENT_ARRAY key 4 value 4 max_entries = possible CPUs
//         tool_exe.rodata ARRAY 1 x 5, RDONLY_PROG|MMAPABLE, frozen (targ_uid = -1, ignore_failed = 1)
//         tool_exe.bss   ARRAY 1 x 16, MMAPABLE
//         tool_ex.kconfig ARRAY 1 x 4, RDONLY_PROG|MMAPABLE, frozen (LINUX_KERNEL_VERSION)
//         (internal map names: the object name "tool_execsnoop.bpf" cut so that name + suffix fit
//          15 chars: 8 chars before ".rodata"/".bss", 7 before ".kconfig")
//   progs on_execve_enter, on_execve_exit  TRACEPOINT
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	struct task_struct *real_parent;
	int tgid;
} __attribute__((preserve_access_index));

struct event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	int retval;
	__u64 ts;
	__u64 kver;
};

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

const volatile __u32 targ_uid = (__u32)-1;
const volatile _Bool ignore_failed = 1;
__u64 dropped;
__u64 seen;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events_pb SEC(".maps");

SEC("tp/syscalls/sys_enter_execve")
int on_execve_enter(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event e = {};

	if (targ_uid != (__u32)-1 && targ_uid != uid)
		return 0;
	e.pid = pid;
	e.uid = uid;
	e.ppid = BPF_CORE_READ(task, real_parent, tgid);
	e.ts = bpf_ktime_get_ns();
	e.kver = LINUX_KERNEL_VERSION;
	seen++;
	bpf_map_update_elem(&execs, &pid, &e, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int on_execve_exit(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e = bpf_map_lookup_elem(&execs, &pid);
	struct event *out;

	if (!e)
		return 0;
	if (ignore_failed && e->retval < 0)
		goto cleanup;
	out = bpf_ringbuf_reserve(&events_rb, sizeof(*out), 0);
	if (out) {
		__builtin_memcpy(out, e, sizeof(*out));
		bpf_ringbuf_submit(out, 0);
	} else {
		dropped++;
		bpf_perf_event_output(ctx, &events_pb, BPF_F_CURRENT_CPU, e, sizeof(*e));
	}
cleanup:
	bpf_map_delete_elem(&execs, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
