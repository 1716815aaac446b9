// Corpus: BPF_MAP_TYPE_PERF_EVENT_ARRAY sizing.
//
// libbpf feature: a PERF_EVENT_ARRAY whose max_entries is 0 (left out of the definition, as most
// tools do) is created with max_entries = number of possible CPUs (libbpf_num_possible_cpus(), from
// /sys/devices/system/cpu/possible); an explicit size is passed through. libbpf also drops BTF
// key/value type ids for this map type (the kernel refuses them) and keeps key/value size 4/4.
// Kernels: all (host 6.18, 6.1, 6.12); the tracepoint program only loads (never attached).
// A correct loader produces:
//   maps  events_auto   PERF_EVENT_ARRAY key 4 value 4 max_entries = possible CPUs (2 on the host), flags 0
//         events_sized  PERF_EVENT_ARRAY key 4 value 4 max_entries 8, flags 0
//         events_typed  PERF_EVENT_ARRAY key 4 value 4 (given as __type(key/value, __u32)) max_entries = possible CPUs
//   progs on_getpid     TRACEPOINT (SEC tp/syscalls/sys_enter_getpid), uses all three maps
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events_auto SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 8);
} events_sized SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
} events_typed SEC(".maps");

struct event {
	__u32 pid;
	__u32 cpu;
};

SEC("tp/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	struct event e = {
		.pid = bpf_get_current_pid_tgid() >> 32,
		.cpu = bpf_get_smp_processor_id(),
	};
	bpf_perf_event_output(ctx, &events_auto, BPF_F_CURRENT_CPU, &e, sizeof(e));
	bpf_perf_event_output(ctx, &events_sized, BPF_F_CURRENT_CPU, &e, sizeof(e));
	bpf_perf_event_output(ctx, &events_typed, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
