// Corpus: BTF-defined map pinning, `__uint(pinning, LIBBPF_PIN_BY_NAME)`.
//
// libbpf feature: a map with pinning = LIBBPF_PIN_BY_NAME (1) gets pin_path = <pin_root_path>/<map
// name> (pin_root_path defaults to /sys/fs/bpf). At load, if that pin exists libbpf checks it is
// compatible (type, key/value size, max_entries, flags) and reuses it instead of creating a map;
// otherwise it creates the map and pins it there. Maps without `pinning` are not pinned.
// (The oracle runs in a private bpffs, so this pins nothing anybody else sees; it reports the map
// with "pinned_by_libbpf": true.)
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  shared_counts  HASH key 4 value 8 max_entries 64, pinned by the loader at
//                        /sys/fs/bpf/shared_counts (or reused from there)
//         local_counts   HASH key 4 value 8 max_entries 64, not pinned
//   progs count_pkt  SOCKET_FILTER, uses both
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} local_counts SEC(".maps");

SEC("socket")
int count_pkt(struct __sk_buff *skb)
{
	__u32 k = skb->protocol;
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&shared_counts, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&shared_counts, &k, &one, BPF_NOEXIST);
	bpf_map_update_elem(&local_counts, &k, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
