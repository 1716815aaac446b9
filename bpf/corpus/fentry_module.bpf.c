// Corpus: fentry/fexit on a kernel *module's* function: attach_btf_id in the module's BTF.
//
// libbpf feature: for SEC("fentry/MODULE:FUNC") libbpf looks FUNC up only in the BTF of MODULE
// (/sys/kernel/btf/MODULE, split BTF on vmlinux's) and loads the program with attach_btf_obj_fd =
// that module's BTF object fd and attach_btf_id = the FUNC's id there; for SEC("fexit/FUNC") it
// tries vmlinux first, then every loaded module (load_module_btfs). veth_xmit is the ndo_start_xmit
// of the veth driver: a module on Debian's kernels (the tools/vm guests insmod it), built in on the
// host 6.18 kernel.
// Kernels: 6.1/6.12 VMs load it (trampolines, veth module BTF). The host refuses it: fentry gets
// EPERM there, and "veth:" names a module the host does not have (libbpf: "failed to find kernel BTF
// type ID of 'veth:veth_xmit'").
// A correct loader produces:
//   maps  fentry_module_hits  ARRAY key 4 value 8 max_entries 2
//   progs on_veth_xmit       TRACING fentry, attach_btf {obj: veth, FUNC veth_xmit}
//         on_veth_xmit_exit  TRACING fexit,  attach_btf {obj: veth, FUNC veth_xmit} (found by search)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} fentry_module_hits SEC(".maps");

static __always_inline void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&fentry_module_hits, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("fentry/veth:veth_xmit")
int on_veth_xmit(void *ctx)
{
	bump(0);
	return 0;
}

SEC("fexit/veth_xmit")
int on_veth_xmit_exit(void *ctx)
{
	bump(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
