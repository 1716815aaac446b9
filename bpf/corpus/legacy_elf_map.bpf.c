// Corpus: iproute2's legacy `maps` records, struct bpf_elf_map (9 x u32 = 36 bytes), with pinning.
//
// libbpf feature: none: libbpf v1.0+ refuses any SEC("maps") object ("legacy map definitions in
// 'maps' section are not supported by libbpf v1.0+").
// iproute2 (tc) semantics, which a loader that accepts these records must follow:
//   layout  type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx
//   pinning PIN_NONE 0: not pinned; PIN_OBJECT_NS 1: /sys/fs/bpf/tc/<object hash>/<name>;
//           PIN_GLOBAL_NS 2: /sys/fs/bpf/tc/globals/<name> (reused if it exists).
//   id / inner_id / inner_idx: iproute2's map-in-map wiring (0 here).
// Kernels: refused by libbpf everywhere.
// A loader that reads it produces:
//   maps  tc_global   HASH  key 4 value 8 max_entries 128, pinning PIN_GLOBAL_NS (2)
//         tc_object   ARRAY key 4 value 4 max_entries 2,   pinning PIN_OBJECT_NS (1)
//         tc_private  ARRAY key 4 value 4 max_entries 2,   pinning PIN_NONE
//   progs tc_prog  SCHED_CLS (SEC "classifier", iproute2's default), uses all three
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

#define PIN_NONE 0
#define PIN_OBJECT_NS 1
#define PIN_GLOBAL_NS 2

struct bpf_elf_map tc_global SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = 4,
	.size_value = 8,
	.max_elem = 128,
	.pinning = PIN_GLOBAL_NS,
};

struct bpf_elf_map tc_object SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 2,
	.pinning = PIN_OBJECT_NS,
};

struct bpf_elf_map tc_private SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = 4,
	.size_value = 4,
	.max_elem = 2,
	.pinning = PIN_NONE,
};

SEC("classifier")
int tc_prog(struct __sk_buff *skb)
{
	__u32 k = 0;

	if (bpf_map_lookup_elem(&tc_global, &k) || bpf_map_lookup_elem(&tc_object, &k))
		return 1;
	return bpf_map_lookup_elem(&tc_private, &k) != 0;
}

char LICENSE[] SEC("license") = "GPL";
