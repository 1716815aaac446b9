// Corpus: BPF_MAP_TYPE_ARENA (kernel 6.9+) as far as clang 14 can express it.
//
// What clang 14 cannot do: arena *pointers*. Real arena programs mark pointers with
// __attribute__((address_space(1))) (`__arena`) and rely on LLVM 19's addr_space_cast instruction
// (and globals in the ".addr_space.1" section, which libbpf copies into the arena after mmap). LLVM
// 14 has neither, so this object has only what needs no arena pointer: the map definition and the
// bpf_arena_alloc_pages / bpf_arena_free_pages kfuncs called with plain pointers.
// libbpf feature (v1.4+): an ARENA map is created (key 0, value 0, max_entries = pages,
// map_flags must include BPF_F_MMAPABLE, map_extra = user-space address hint, here 0) and then
// mmap()ed by libbpf (at map_extra if non-zero); BTF key/value ids are not passed.
// Kernels: host 6.18 only (6.1/6.12 have no arena: the map create fails; libbpf refuses there).
// A correct loader produces:
//   maps  arena  ARENA key 0 value 0 max_entries 4 flags MMAPABLE map_extra 0
//   progs arena_alloc  SYSCALL, uses arena
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BPF_MAP_TYPE_ARENA_ 33   /* not in Debian 12's <linux/bpf.h> (6.1 uapi) */
#define NUMA_NO_NODE (-1)

struct {
	__uint(type, BPF_MAP_TYPE_ARENA_);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

extern void *bpf_arena_alloc_pages(void *map, void *addr, __u32 page_cnt, int node_id, __u64 flags) __ksym;
extern void bpf_arena_free_pages(void *map, void *ptr, __u32 page_cnt) __ksym;

SEC("syscall")
int arena_alloc(void *ctx)
{
	void *page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);

	if (!page)
		return 1;
	bpf_arena_free_pages(&arena, page, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
