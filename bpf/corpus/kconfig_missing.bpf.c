// Corpus: a strong (non-__weak) `.kconfig` extern the kernel config does not have.
//
// libbpf feature: refusal. libbpf fails the load with "extern (kcfg) 'CONFIG_...': value not found
// / -ESRCH" style errors (it cannot be resolved and is not weak). CONFIG_BPF_SYSCALL resolves fine.
// Kernels: refused everywhere (the option does not exist in any kernel).
// A correct loader refuses it, naming the extern CONFIG_SOCKACCEL_NO_SUCH_OPTION.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

extern bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_SOCKACCEL_NO_SUCH_OPTION __kconfig;

SEC("socket")
int read_missing(struct __sk_buff *skb)
{
	return CONFIG_BPF_SYSCALL + CONFIG_SOCKACCEL_NO_SUCH_OPTION;
}

char LICENSE[] SEC("license") = "GPL";
