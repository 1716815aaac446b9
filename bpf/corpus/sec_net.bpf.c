// Corpus: networking and cgroup section names libbpf knows that every supported kernel has.
//
// libbpf feature: the program type, expected attach type and flags come from the section name,
// matched against libbpf's section table (libbpf.c section_defs: exact names, "name+" = name or
// name/extras, "?" prefix = autoload off). Nothing here is attached; names in the section after the
// '/' are only used by libbpf's auto-attach. libbpf loads all-or-nothing: one section the kernel
// refuses makes the whole object fail, hence one object per kernel generation.
// Kernels: all (host 6.18, 6.1, 6.12).
// A correct loader produces (no maps), one program per section, named after it; each
// program is trivial (returns a value the verifier accepts for its type):
//   SEC "socket"                  s_socket               SOCKET_FILTER
//   SEC "sk_reuseport"            s_reuseport            SK_REUSEPORT / BPF_SK_REUSEPORT_SELECT
//   SEC "sk_reuseport/migrate"    s_reuseport_migrate    SK_REUSEPORT / BPF_SK_REUSEPORT_SELECT_OR_MIGRATE
//   SEC "tc"                      s_tc                   SCHED_CLS (legacy tc)
//   SEC "classifier"              s_classifier           SCHED_CLS (legacy name)
//   SEC "action"                  s_action               SCHED_ACT
//   SEC "xdp"                     s_xdp                  XDP / BPF_XDP
//   SEC "xdp.frags"               s_xdp_frags            XDP / BPF_XDP + BPF_F_XDP_HAS_FRAGS
//   SEC "xdp/devmap"              s_xdp_devmap           XDP / BPF_XDP_DEVMAP
//   SEC "xdp/cpumap"              s_xdp_cpumap           XDP / BPF_XDP_CPUMAP
//   SEC "xdp.frags/devmap"        s_xdp_frags_devmap     XDP / BPF_XDP_DEVMAP + HAS_FRAGS
//   SEC "xdp.frags/cpumap"        s_xdp_frags_cpumap     XDP / BPF_XDP_CPUMAP + HAS_FRAGS
//   SEC "lwt_in"                  s_lwt_in               LWT_IN
//   SEC "lwt_out"                 s_lwt_out              LWT_OUT
//   SEC "lwt_xmit"                s_lwt_xmit             LWT_XMIT
//   SEC "lwt_seg6local"           s_lwt_seg6local        LWT_SEG6LOCAL
//   SEC "sockops"                 s_sockops              SOCK_OPS / BPF_CGROUP_SOCK_OPS
//   SEC "sk_skb"                  s_sk_skb               SK_SKB (no attach type)
//   SEC "sk_skb/stream_parser"    s_stream_parser        SK_SKB / BPF_SK_SKB_STREAM_PARSER
//   SEC "sk_skb/stream_verdict"   s_stream_verdict       SK_SKB / BPF_SK_SKB_STREAM_VERDICT
//   SEC "sk_skb/verdict"          s_skb_verdict          SK_SKB / BPF_SK_SKB_VERDICT
//   SEC "sk_msg"                  s_sk_msg               SK_MSG / BPF_SK_MSG_VERDICT
//   SEC "flow_dissector"          s_flow_dissector       FLOW_DISSECTOR
//   SEC "cgroup_skb/ingress"      s_cgskb_ingress        CGROUP_SKB / BPF_CGROUP_INET_INGRESS
//   SEC "cgroup_skb/egress"       s_cgskb_egress         CGROUP_SKB / BPF_CGROUP_INET_EGRESS
//   SEC "cgroup/skb"              s_cg_skb               CGROUP_SKB (no attach type)
//   SEC "cgroup/sock_create"      s_sock_create          CGROUP_SOCK / BPF_CGROUP_INET_SOCK_CREATE
//   SEC "cgroup/sock_release"     s_sock_release         CGROUP_SOCK / BPF_CGROUP_INET_SOCK_RELEASE
//   SEC "cgroup/sock"             s_sock                 CGROUP_SOCK / BPF_CGROUP_INET_SOCK_CREATE
//   SEC "cgroup/post_bind4"       s_post_bind4           CGROUP_SOCK / BPF_CGROUP_INET4_POST_BIND
//   SEC "cgroup/post_bind6"       s_post_bind6           CGROUP_SOCK / BPF_CGROUP_INET6_POST_BIND
//   SEC "cgroup/bind4"            s_bind4                CGROUP_SOCK_ADDR / BPF_CGROUP_INET4_BIND
//   SEC "cgroup/bind6"            s_bind6                CGROUP_SOCK_ADDR / BPF_CGROUP_INET6_BIND
//   SEC "cgroup/connect4"         s_connect4             CGROUP_SOCK_ADDR / BPF_CGROUP_INET4_CONNECT
//   SEC "cgroup/connect6"         s_connect6             CGROUP_SOCK_ADDR / BPF_CGROUP_INET6_CONNECT
//   SEC "cgroup/sendmsg4"         s_sendmsg4             CGROUP_SOCK_ADDR / BPF_CGROUP_UDP4_SENDMSG
//   SEC "cgroup/sendmsg6"         s_sendmsg6             CGROUP_SOCK_ADDR / BPF_CGROUP_UDP6_SENDMSG
//   SEC "cgroup/recvmsg4"         s_recvmsg4             CGROUP_SOCK_ADDR / BPF_CGROUP_UDP4_RECVMSG
//   SEC "cgroup/recvmsg6"         s_recvmsg6             CGROUP_SOCK_ADDR / BPF_CGROUP_UDP6_RECVMSG
//   SEC "cgroup/getpeername4"     s_getpeername4         CGROUP_SOCK_ADDR / BPF_CGROUP_INET4_GETPEERNAME
//   SEC "cgroup/getsockname6"     s_getsockname6         CGROUP_SOCK_ADDR / BPF_CGROUP_INET6_GETSOCKNAME
//   SEC "cgroup/sysctl"           s_sysctl               CGROUP_SYSCTL / BPF_CGROUP_SYSCTL
//   SEC "cgroup/getsockopt"       s_getsockopt           CGROUP_SOCKOPT / BPF_CGROUP_GETSOCKOPT
//   SEC "cgroup/setsockopt"       s_setsockopt           CGROUP_SOCKOPT / BPF_CGROUP_SETSOCKOPT
//   SEC "cgroup/dev"              s_dev                  CGROUP_DEVICE / BPF_CGROUP_DEVICE
//   SEC "sk_lookup"               s_sk_lookup            SK_LOOKUP / BPF_SK_LOOKUP
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SK_PASS 1

SEC("socket")
int s_socket(struct __sk_buff *ctx)
{
	return 0;
}

SEC("sk_reuseport")
int s_reuseport(struct sk_reuseport_md *ctx)
{
	return SK_PASS;
}

SEC("sk_reuseport/migrate")
int s_reuseport_migrate(struct sk_reuseport_md *ctx)
{
	return SK_PASS;
}

SEC("tc")
int s_tc(struct __sk_buff *ctx)
{
	return 0;
}

SEC("classifier")
int s_classifier(struct __sk_buff *ctx)
{
	return 0;
}

SEC("action")
int s_action(struct __sk_buff *ctx)
{
	return 0;
}

SEC("xdp")
int s_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp.frags")
int s_xdp_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp/devmap")
int s_xdp_devmap(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp/cpumap")
int s_xdp_cpumap(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp.frags/devmap")
int s_xdp_frags_devmap(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp.frags/cpumap")
int s_xdp_frags_cpumap(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("lwt_in")
int s_lwt_in(struct __sk_buff *ctx)
{
	return BPF_OK;
}

SEC("lwt_out")
int s_lwt_out(struct __sk_buff *ctx)
{
	return BPF_OK;
}

SEC("lwt_xmit")
int s_lwt_xmit(struct __sk_buff *ctx)
{
	return BPF_OK;
}

SEC("lwt_seg6local")
int s_lwt_seg6local(struct __sk_buff *ctx)
{
	return BPF_OK;
}

SEC("sockops")
int s_sockops(struct bpf_sock_ops *ctx)
{
	return 1;
}

SEC("sk_skb")
int s_sk_skb(struct __sk_buff *ctx)
{
	return SK_PASS;
}

SEC("sk_skb/stream_parser")
int s_stream_parser(struct __sk_buff *ctx)
{
	return 0;
}

SEC("sk_skb/stream_verdict")
int s_stream_verdict(struct __sk_buff *ctx)
{
	return SK_PASS;
}

SEC("sk_skb/verdict")
int s_skb_verdict(struct __sk_buff *ctx)
{
	return SK_PASS;
}

SEC("sk_msg")
int s_sk_msg(struct sk_msg_md *ctx)
{
	return SK_PASS;
}

SEC("flow_dissector")
int s_flow_dissector(struct __sk_buff *ctx)
{
	return BPF_OK;
}

SEC("cgroup_skb/ingress")
int s_cgskb_ingress(struct __sk_buff *ctx)
{
	return 1;
}

SEC("cgroup_skb/egress")
int s_cgskb_egress(struct __sk_buff *ctx)
{
	return 1;
}

SEC("cgroup/skb")
int s_cg_skb(struct __sk_buff *ctx)
{
	return 1;
}

SEC("cgroup/sock_create")
int s_sock_create(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/sock_release")
int s_sock_release(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/sock")
int s_sock(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/post_bind4")
int s_post_bind4(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/post_bind6")
int s_post_bind6(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/bind4")
int s_bind4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/bind6")
int s_bind6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/connect4")
int s_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/connect6")
int s_connect6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg4")
int s_sendmsg4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg6")
int s_sendmsg6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/recvmsg4")
int s_recvmsg4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/recvmsg6")
int s_recvmsg6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/getpeername4")
int s_getpeername4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/getsockname6")
int s_getsockname6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sysctl")
int s_sysctl(struct bpf_sysctl *ctx)
{
	return 1;
}

SEC("cgroup/getsockopt")
int s_getsockopt(struct bpf_sockopt *ctx)
{
	return 1;
}

SEC("cgroup/setsockopt")
int s_setsockopt(struct bpf_sockopt *ctx)
{
	return 1;
}

SEC("cgroup/dev")
int s_dev(struct bpf_cgroup_dev_ctx *ctx)
{
	return 1;
}

SEC("sk_lookup")
int s_sk_lookup(struct bpf_sk_lookup *ctx)
{
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
