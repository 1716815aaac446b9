// Corpus: networking section names for newer kernels (tcx, netkit, netfilter, unix sock_addr).
//
// libbpf feature: the program type, expected attach type and flags come from the section name,
// matched against libbpf's section table (libbpf.c section_defs: exact names, "name+" = name or
// name/extras, "?" prefix = autoload off). Nothing here is attached; names in the section after the
// '/' are only used by libbpf's auto-attach. libbpf loads all-or-nothing: one section the kernel
// refuses makes the whole object fail, hence one object per kernel generation.
// Kernels: host 6.18 and 6.12 load it; 6.1 refuses it (tcx/netkit/netfilter/unix attach types are 6.4-6.7).
// A correct loader produces (no maps), one program per section, named after it; each
// program is trivial (returns a value the verifier accepts for its type):
//   SEC "tcx/ingress"               s_tcx_ingress          SCHED_CLS / BPF_TCX_INGRESS (6.6+)
//   SEC "tcx/egress"                s_tcx_egress           SCHED_CLS / BPF_TCX_EGRESS (6.6+)
//   SEC "tc/ingress"                s_tc_ingress           SCHED_CLS / BPF_TCX_INGRESS (libbpf 1.3+ alias of tcx/ingress; libbpf 1.1: plain SCHED_CLS)
//   SEC "tc/egress"                 s_tc_egress            SCHED_CLS / BPF_TCX_EGRESS (alias, as above)
//   SEC "netkit/primary"            s_netkit_primary       SCHED_CLS / BPF_NETKIT_PRIMARY (6.7+)
//   SEC "netkit/peer"               s_netkit_peer          SCHED_CLS / BPF_NETKIT_PEER (6.7+)
//   SEC "netfilter"                 s_netfilter            NETFILTER / BPF_NETFILTER (6.4+)
//   SEC "cgroup/connect_unix"       s_connect_unix         CGROUP_SOCK_ADDR / BPF_CGROUP_UNIX_CONNECT (6.7+)
//   SEC "cgroup/sendmsg_unix"       s_sendmsg_unix         CGROUP_SOCK_ADDR / BPF_CGROUP_UNIX_SENDMSG (6.7+)
//   SEC "cgroup/getsockname_unix"   s_getsockname_unix     CGROUP_SOCK_ADDR / BPF_CGROUP_UNIX_GETSOCKNAME (6.7+)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_nf_ctx;

SEC("tcx/ingress")
int s_tcx_ingress(struct __sk_buff *ctx)
{
	return 0;
}

SEC("tcx/egress")
int s_tcx_egress(struct __sk_buff *ctx)
{
	return 0;
}

SEC("tc/ingress")
int s_tc_ingress(struct __sk_buff *ctx)
{
	return 0;
}

SEC("tc/egress")
int s_tc_egress(struct __sk_buff *ctx)
{
	return 0;
}

SEC("netkit/primary")
int s_netkit_primary(struct __sk_buff *ctx)
{
	return 0;
}

SEC("netkit/peer")
int s_netkit_peer(struct __sk_buff *ctx)
{
	return 0;
}

SEC("netfilter")
int s_netfilter(struct bpf_nf_ctx *ctx)
{
	return 1;
}

SEC("cgroup/connect_unix")
int s_connect_unix(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg_unix")
int s_sendmsg_unix(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/getsockname_unix")
int s_getsockname_unix(struct bpf_sock_addr *ctx)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
