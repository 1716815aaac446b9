// Corpus: per-program autoload: SEC("?...") — a program libbpf does not load unless asked.
//
// libbpf feature (v1.0+): a section name starting with '?' sets autoload = false for that program
// (bpf_program__set_autoload(prog, true) turns it back on). bpftool prog loadall keeps the default,
// so `maybe_bad` is not loaded and not pinned; it is deliberately unverifiable (reads past the end
// of its context), so a loader that loads every program refuses the object.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  autoload_hits  ARRAY key 4 value 8 max_entries 1
//   progs always_on  SOCKET_FILTER, uses autoload_hits
//         (maybe_bad: not loaded; if a caller turns autoload on, the verifier refuses it:
//          "invalid bpf_context access")
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} autoload_hits SEC(".maps");

SEC("socket")
int always_on(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&autoload_hits, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("?socket")
int maybe_bad(struct __sk_buff *skb)
{
	return *(volatile __u32 *)((char *)skb + 4096);
}

char LICENSE[] SEC("license") = "GPL";
