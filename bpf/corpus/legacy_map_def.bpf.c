// Corpus: the legacy `maps` section with libbpf's old struct bpf_map_def (5 x u32 = 20 bytes).
//
// libbpf feature: none any more. libbpf v1.0+ refuses the object at open: "elf: legacy map
// definitions in 'maps' section are not supported by libbpf v1.0+". (libbpf 0.x, iproute2 and
// cilium/ebpf read it: type, key_size, value_size, max_entries, map_flags.)
// Kernels: refused by libbpf everywhere. What the project's loader does with it is its own choice
// (it reads legacy maps; see bpf/fixtures/legacy_maps.bpf.c); the oracle only says "libbpf refuses".
// A loader that reads it produces:
//   maps  old_array  ARRAY key 4 value 8 max_entries 4
//         old_hash   HASH  key 4 value 4 max_entries 16 flags NO_PREALLOC
//   progs old_prog   SOCKET_FILTER, uses both
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def old_array SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 4,
};

struct bpf_map_def old_hash SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 16,
	.map_flags = BPF_F_NO_PREALLOC,
};

SEC("socket")
int old_prog(struct __sk_buff *skb)
{
	__u32 k = 0;

	if (bpf_map_lookup_elem(&old_array, &k))
		return 1;
	return bpf_map_lookup_elem(&old_hash, &k) != 0;
}

char LICENSE[] SEC("license") = "GPL";
