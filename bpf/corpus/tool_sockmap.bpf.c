// Corpus (combined, like the sockops tutorial and this project's own accelerator): sockops + sk_msg
// + a SOCKHASH pinned by name + a prog array of tc programs initialised statically + .data.
//
// libbpf features: sockops / sk_msg / tc sections; SOCKHASH declared with BTF key/value types
// (libbpf clears the BTF ids for SOCKMAP/SOCKHASH when creating it); LIBBPF_PIN_BY_NAME; static
// PROG_ARRAY init; .data (MMAPABLE) initial contents; a zero-initialised global goes to .bss.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces:
//   maps  sock_ops_map   SOCKHASH key 20 value 4 max_entries 65535, pinned at /sys/fs/bpf/sock_ops_map
//         tc_jumps       PROG_ARRAY key 4 value 4 max_entries 2; slots {0: tc_pass, 1: tc_drop}
//         tool_soc.data  ARRAY 1 x 4, MMAPABLE (enabled = 1)
//         tool_soc.bss   ARRAY 1 x 4, MMAPABLE (redirects, zero-initialised)
//   progs on_sockops SOCK_OPS; on_msg SK_MSG; tc_entry, tc_pass, tc_drop SCHED_CLS
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct sock_key {
	__u32 sip;
	__u32 dip;
	__u32 sport;
	__u32 dport;
	__u32 family;
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65535);
	__type(key, struct sock_key);
	__type(value, int);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sock_ops_map SEC(".maps");

__u32 redirects = 0;
__u32 enabled = 1;

SEC("sockops")
int on_sockops(struct bpf_sock_ops *skops)
{
	struct sock_key key = {
		.sip = skops->local_ip4,
		.dip = skops->remote_ip4,
		.sport = skops->local_port,
		.dport = bpf_ntohl(skops->remote_port),
		.family = skops->family,
	};

	if (!enabled || skops->family != 2 /* AF_INET */)
		return 1;
	if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		bpf_sock_hash_update(skops, &sock_ops_map, &key, BPF_NOEXIST);
	return 1;
}

SEC("sk_msg")
int on_msg(struct sk_msg_md *msg)
{
	struct sock_key key = {
		.sip = msg->remote_ip4,
		.dip = msg->local_ip4,
		.dport = msg->local_port,
		.sport = bpf_ntohl(msg->remote_port),
		.family = msg->family,
	};

	if (msg->family != 2)
		return SK_PASS;
	if (bpf_msg_redirect_hash(msg, &sock_ops_map, &key, BPF_F_INGRESS) == SK_PASS)
		__sync_fetch_and_add(&redirects, 1);
	return SK_PASS;
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return 0;
}

SEC("tc")
int tc_drop(struct __sk_buff *skb)
{
	return 2;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} tc_jumps SEC(".maps") = {
	.values = { [0] = (void *)&tc_pass, [1] = (void *)&tc_drop },
};

SEC("tc")
int tc_entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &tc_jumps, skb->mark & 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
