// Corpus: global data: .data, .bss, .rodata and custom .data.NAME / .rodata.NAME / .bss.NAME sections.
//
// libbpf feature: each global-data ELF section becomes one internal ARRAY map (key 4, value = section
// size, max_entries 1, initial contents = the section bytes, .bss zero):
//   - names: .data/.rodata/.bss -> "<obj name, cut so the whole fits 15 chars>.data" etc (here
//     "globals.data"); a custom section keeps its own name (".data.foo"); pins turn '.' into '_'.
//   - flags: BPF_F_MMAPABLE only if the section holds at least one *non-static* variable
//     (map_is_mmapable(): the skeleton exposes globals only); .rodata (and .rodata.*) also get
//     BPF_F_RDONLY_PROG and are frozen after being filled. `const` without volatile is also .rodata.
//   - .data.statics below holds only a static: no BPF_F_MMAPABLE.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  globals.data     ARRAY 1 x 12  flags MMAPABLE             contents counter=100, hidden=42
//         globals.bss      ARRAY 1 x 8   flags MMAPABLE             zero
//         globals.rodata   ARRAY 1 x 20  flags MMAPABLE|RDONLY_PROG frozen; magic=0x1234, table={1,2,3,4}
//         .data.foo        ARRAY 1 x 4   flags MMAPABLE             foo_val=7
//         .rodata.bar      ARRAY 1 x 4   flags MMAPABLE|RDONLY_PROG frozen; bar_val=9
//         .bss.baz         ARRAY 1 x 8   flags MMAPABLE             zero
//         .data.statics    ARRAY 1 x 4   flags 0 (only a static var) st=3
//         globals_out      ARRAY key 4 value 8 max_entries 8
//   progs read_all  SOCKET_FILTER, uses all of them
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 counter = 100;                                   // .data
static volatile __u32 hidden = 42;                     // .data, static
__u64 runs;                                            // .bss
const volatile __u32 magic = 0x1234;                   // .rodata
const __u32 table[4] = { 1, 2, 3, 4 };                 // .rodata, const without volatile
__u32 foo_val SEC(".data.foo") = 7;                    // .data.foo
const volatile __u32 bar_val SEC(".rodata.bar") = 9;   // .rodata.bar
__u64 baz SEC(".bss.baz");                             // .bss.baz
static volatile __u32 st SEC(".data.statics") = 3;     // .data.statics, static only

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} globals_out SEC(".maps");

static __always_inline void put(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&globals_out, &slot, &value, BPF_ANY);
}

SEC("socket")
int read_all(struct __sk_buff *skb)
{
	counter++;
	runs++;
	baz++;
	put(0, counter + hidden);
	put(1, runs + baz);
	put(2, magic);
	put(3, table[skb->len & 3]);
	put(4, foo_val);
	put(5, bar_val);
	put(6, st);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
