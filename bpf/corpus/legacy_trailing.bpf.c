// Corpus: a legacy `maps` record with trailing non-zero bytes no known layout explains.
//
// Each record is 10 x u32 (40 bytes): the 9 fields of iproute2's struct bpf_elf_map followed by a
// non-zero word (0xdeadbeef). Nothing defines that word.
// libbpf feature: none: libbpf v1.0+ refuses any SEC("maps") object. cilium/ebpf refuses a legacy
// definition whose bytes past the fields it knows are non-zero; a loader that accepts legacy maps
// should refuse this one too, naming the map (odd_map) and the non-zero trailing bytes.
// Kernels: refused by libbpf everywhere.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct odd_map_def {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
	__u32 unknown;
};

struct odd_map_def odd_map SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 1,
	.unknown = 0xdeadbeef,
};

SEC("socket")
int odd_prog(struct __sk_buff *skb)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&odd_map, &k) != 0;
}

char LICENSE[] SEC("license") = "GPL";
