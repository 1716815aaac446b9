// Corpus: statically initialised BPF_MAP_TYPE_PROG_ARRAY (`.values = { [1] = &prog_x }`), tail calls.
//
// libbpf feature (v1.0+): a PROG_ARRAY with __array(values, int (void *)) and an initialiser gets
// its slots filled with the programs' fds after all programs are loaded (init_prog_array_slots);
// the programs named in the initialiser are ordinary programs of the object (here SEC "socket").
// Slots without an initialiser stay empty. key/value size 4/4, BTF key/value ids not passed.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  jmp_table  PROG_ARRAY key 4 value 4 max_entries 4; slots {1: tail_x, 3: tail_y}
//   progs entry      SOCKET_FILTER, tail-calls jmp_table[skb->len & 3], uses jmp_table
//         tail_x     SOCKET_FILTER, returns 11
//         tail_y     SOCKET_FILTER, returns 22
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int tail_x(struct __sk_buff *skb)
{
	return 11;
}

SEC("socket")
int tail_y(struct __sk_buff *skb)
{
	return 22;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = { [1] = (void *)&tail_x, [3] = (void *)&tail_y },
};

SEC("socket")
int entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, skb->len & 3);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
