// Corpus: fentry / fexit / fmod_ret / fentry.s (BPF trampolines).
//
// libbpf feature: SEC "fentry/FUNC" -> TRACING + BPF_TRACE_FENTRY, "fexit/FUNC" -> BPF_TRACE_FEXIT,
// "fmod_ret/FUNC" -> BPF_MODIFY_RETURN, "fentry.s/FUNC" -> BPF_TRACE_FENTRY + BPF_F_SLEEPABLE;
// attach_btf_id = vmlinux BTF id of the FUNC named FUNC (searched in vmlinux, then in modules: a
// module function gets attach_btf_obj_fd = the module BTF's fd).
// Targets are the kernel's own BPF test functions (net/bpf/test_run.c, present on all three):
// bpf_fentry_test1(int) and bpf_modify_return_test(int, int *) (error-injectable, so fmod_ret and
// sleepable fentry may attach to it).
// Kernels: host 6.18 refuses TRACING (EPERM, libbpf too); 6.1 and 6.12 load all four.
// A correct loader produces:
//   progs fentry_test1   TRACING, attach_btf FUNC bpf_fentry_test1 (vmlinux)
//         fexit_test1    TRACING, attach_btf FUNC bpf_fentry_test1
//         fmodret_test   TRACING, attach_btf FUNC bpf_modify_return_test
//         fentry_sleepy  TRACING (sleepable), attach_btf FUNC bpf_modify_return_test
//   maps  fentry_hits    ARRAY key 4 value 8 max_entries 4
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} fentry_hits SEC(".maps");

static __always_inline void hit(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&fentry_hits, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("fentry/bpf_fentry_test1")
int BPF_PROG(fentry_test1, int a)
{
	hit(0);
	return 0;
}

SEC("fexit/bpf_fentry_test1")
int BPF_PROG(fexit_test1, int a, int ret)
{
	hit(1);
	return 0;
}

SEC("fmod_ret/bpf_modify_return_test")
int BPF_PROG(fmodret_test, int a, int *b, int ret)
{
	hit(2);
	return 0;
}

SEC("fentry.s/bpf_modify_return_test")
int BPF_PROG(fentry_sleepy, int a, int *b)
{
	hit(3);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
