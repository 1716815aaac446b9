// Corpus (combined, as real tools do): USDT probes through libbpf's <bpf/usdt.bpf.h>, with uprobes.
//
// libbpf features: SEC "usdt" / "usdt/PATH:PROVIDER:NAME" -> KPROBE (libbpf attaches it as a uprobe
// and fills the spec maps at attach time; at load nothing is resolved). libbpf 1.5 sets the
// expected attach type BPF_TRACE_UPROBE_MULTI on usdt programs when the kernel has uprobe-multi
// links (6.6+: host, 6.12), 0 otherwise (6.1): a kernel-dependent choice made at load. usdt.bpf.h brings two maps
// and a weak kconfig extern: __bpf_usdt_specs (ARRAY, 256 x struct __bpf_usdt_spec),
// __bpf_usdt_ip_to_spec_id (HASH, 1024 entries, long -> u32), and
// `extern const _Bool LINUX_HAS_BPF_COOKIE __kconfig __weak` (libbpf: kernel supports bpf_get_attach_cookie).
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  __bpf_usdt_specs         ARRAY key 4 value 208 max_entries 256
//         __bpf_usdt_ip_to_spec_id HASH  key 8 value 4   max_entries 1024
//         tool_us.kconfig          ARRAY 1 x 1, RDONLY_PROG|MMAPABLE, frozen (LINUX_HAS_BPF_COOKIE = 1)
//         tool_usd.bss             ARRAY 1 x 16, MMAPABLE
//   progs on_usdt, on_usdt_path     KPROBE (usdt; expected attach type as above)
//         on_uprobe, on_uretprobe   KPROBE (uprobe/uretprobe with a path:function)
#define __TARGET_ARCH_x86
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

__u64 usdt_hits;
__u64 last_arg;

SEC("usdt")
int BPF_USDT(on_usdt, long arg0)
{
	usdt_hits++;
	last_arg = arg0;
	return 0;
}

SEC("usdt/libc.so.6:libc:setjmp")
int BPF_USDT(on_usdt_path, void *env, int val)
{
	usdt_hits++;
	return 0;
}

SEC("uprobe//bin/true:main")
int BPF_KPROBE(on_uprobe)
{
	usdt_hits++;
	return 0;
}

SEC("uretprobe//bin/true:main")
int BPF_KRETPROBE(on_uretprobe, int ret)
{
	last_arg = ret;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
