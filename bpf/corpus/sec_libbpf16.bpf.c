// Corpus: section names newer than the oracle's libbpf 1.5 (uprobe.session: libbpf 1.6, kernel 6.13).
//
// libbpf feature: "uprobe.session" -> KPROBE / BPF_TRACE_UPROBE_SESSION (libbpf 1.6+). libbpf 1.5 (the
// oracle built from Linux 6.12) does not know the name and refuses the object; libbpf 1.6+ (the
// contract's 1.8) loads it on kernels 6.13+ (the host 6.18); 6.1 and 6.12 refuse it (no such attach type).
// A correct (libbpf 1.8-like) loader produces on the host:
//   progs s_uprobe_session  KPROBE (expected attach type BPF_TRACE_UPROBE_SESSION)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("uprobe.session")
int s_uprobe_session(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
