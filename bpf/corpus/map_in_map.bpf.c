// Corpus: statically initialised map-in-map slots (`__array(values, ...)` with initialisers).
//
// libbpf feature: the __array(values, struct inner_def) member gives the inner map template (libbpf
// creates a throw-away inner map from it to pass as inner_map_fd, then closes it); the initialiser
// `.values = { [0] = &inner_a, [2] = &inner_b }` is a set of relocations in .rel.maps, one per slot,
// and after creating all maps libbpf writes fd(inner) into slot i of the outer map
// (init_map_in_map_slots). Slots without an initialiser stay empty. For HASH_OF_MAPS the slot index
// is the u32 key. Outer maps are created with BTF key/value ids 0 (libbpf clears them for *_OF_MAPS).
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  inner_a     ARRAY key 4 value 8 max_entries 4
//         inner_b     ARRAY key 4 value 8 max_entries 4
//         inner_c     ARRAY key 4 value 8 max_entries 4 (in no slot)
//         outer_arr   ARRAY_OF_MAPS key 4 value 4 max_entries 4;  slots {0: inner_a, 2: inner_b}
//         outer_hash  HASH_OF_MAPS  key 4 value 4 max_entries 8;  slots {1: inner_b, 5: inner_a}
//         outer_empty ARRAY_OF_MAPS key 4 value 4 max_entries 2;  no slots
//   progs lookup_outer SOCKET_FILTER, uses outer_arr, outer_hash, outer_empty
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner_def inner_a SEC(".maps");
struct inner_def inner_b SEC(".maps");
struct inner_def inner_c SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer_arr SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer_hash SEC(".maps") = {
	.values = { [1] = &inner_b, [5] = &inner_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer_empty SEC(".maps");

static __always_inline __u64 first(void *outer, __u32 slot)
{
	__u32 zero = 0;
	void *inner = bpf_map_lookup_elem(outer, &slot);
	__u64 *v;

	if (!inner)
		return 0;
	v = bpf_map_lookup_elem(inner, &zero);
	return v ? *v : 0;
}

SEC("socket")
int lookup_outer(struct __sk_buff *skb)
{
	return first(&outer_arr, 0) + first(&outer_hash, 1) + first(&outer_empty, 0);
}

char LICENSE[] SEC("license") = "GPL";
