// Corpus: fentry and fexit alone (fentry.bpf.o without fmod_ret and fentry.s).
//
// libbpf feature: attach_btf_id = vmlinux BTF id of FUNC bpf_fentry_test1 (BPF_TRACE_FENTRY and
// BPF_TRACE_FEXIT). fentry.bpf.o also has fmod_ret and fentry.s on bpf_modify_return_test, which
// need that function on the kernel's error-injection list: Debian's 6.1 and 6.12 kernels refuse
// those ("bpf_modify_return_test() is not modifiable", "... is not sleepable"), libbpf too, so that
// object is refused there; this one shows fentry/fexit themselves load.
// Kernels: 6.1/6.12 VMs load it. The host 6.18 refuses it (EPERM: no trampolines to kernel
// functions; libbpf too).
// A correct loader produces:
//   maps  fentry_plain_hits  ARRAY key 4 value 8 max_entries 2
//   progs plain_entry  TRACING fentry (attach type 24), attach_btf FUNC bpf_fentry_test1 in vmlinux
//         plain_exit   TRACING fexit (25), same target
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} fentry_plain_hits SEC(".maps");

static __always_inline void hit(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&fentry_plain_hits, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("fentry/bpf_fentry_test1")
int BPF_PROG(plain_entry, int a)
{
	hit(0);
	return 0;
}

SEC("fexit/bpf_fentry_test1")
int BPF_PROG(plain_exit, int a, int ret)
{
	hit(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
