// Corpus: BPF_MAP_TYPE_RINGBUF and BPF_MAP_TYPE_USER_RINGBUF sizing.
//
// libbpf feature: ring buffers are created with max_entries rounded *up* to a power-of-2 multiple
// of the page size (adjust_ringbuf_sz(): 10000 -> 16384 with 4 KiB pages; an already valid size is
// kept; 0 stays 0 so the kernel reports it). key/value size are 0.
// Kernels: RINGBUF 5.8+, USER_RINGBUF 6.1+: loads on the host 6.18, 6.1 and 6.12.
// A correct loader produces:
//   maps  rb_exact  RINGBUF       key 0 value 0 max_entries 16384 (as written), flags 0
//         rb_round  RINGBUF       key 0 value 0 max_entries 16384 (written 10000)
//         urb       USER_RINGBUF  key 0 value 0 max_entries 8192  (written 5000)
//   progs on_getppid  TRACEPOINT (tp/syscalls/sys_enter_getppid): reserve/submit, output, user ringbuf drain
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} rb_exact SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 10000);
} rb_round SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 5000);
} urb SEC(".maps");

struct event {
	__u64 pid_tgid;
	__u64 ts;
};

static long drain_cb(struct bpf_dynptr *dynptr, void *ctx)
{
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb_exact, sizeof(*e), 0);
	struct event copy;

	if (e) {
		e->pid_tgid = bpf_get_current_pid_tgid();
		e->ts = bpf_ktime_get_ns();
		bpf_ringbuf_submit(e, 0);
	}
	copy.pid_tgid = bpf_get_current_pid_tgid();
	copy.ts = 0;
	bpf_ringbuf_output(&rb_round, &copy, sizeof(copy), BPF_RB_NO_WAKEUP);
	bpf_user_ringbuf_drain(&urb, drain_cb, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
