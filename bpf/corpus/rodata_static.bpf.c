// Corpus: a .rodata that holds only static data (bpf_printk's format strings), no `const volatile`.
//
// libbpf feature: the .rodata map is still created and filled (RDONLY_PROG, frozen), but without
// BPF_F_MMAPABLE, because none of its variables is global (map_is_mmapable()). Format strings
// passed to bpf_printk are `static const char ___fmt[]` block-scope statics.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  rodata_s.rodata  ARRAY key 4, value = sizeof both format strings, max_entries 1,
//                          flags RDONLY_PROG (0x80) only, frozen, contents = the two strings
//   progs say_hello  SOCKET_FILTER, uses rodata_s.rodata
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int say_hello(struct __sk_buff *skb)
{
	bpf_printk("hello %u", skb->len);
	bpf_printk("bye");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
