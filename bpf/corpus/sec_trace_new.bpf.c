// Corpus: tracing section names for newer kernels (uprobe.multi, kprobe.session).
//
// libbpf feature: the program type, expected attach type and flags come from the section name,
// matched against libbpf's section table (libbpf.c section_defs: exact names, "name+" = name or
// name/extras, "?" prefix = autoload off). Nothing here is attached; names in the section after the
// '/' are only used by libbpf's auto-attach. libbpf loads all-or-nothing: one section the kernel
// refuses makes the whole object fail, hence one object per kernel generation.
// Kernels: host 6.18 and 6.12 load it; 6.1 refuses it (uprobe.multi is 6.6+, kprobe.session 6.10+).
// A correct loader produces (no maps), one program per section, named after it; each
// program is trivial (returns a value the verifier accepts for its type):
//   SEC "uprobe.multi"                  s_uprobe_multi         KPROBE / BPF_TRACE_UPROBE_MULTI (6.6+)
//   SEC "uretprobe.multi"               s_uretprobe_multi      KPROBE / BPF_TRACE_UPROBE_MULTI
//   SEC "uprobe.multi.s"                s_uprobe_multi_s       KPROBE / BPF_TRACE_UPROBE_MULTI + BPF_F_SLEEPABLE
//   SEC "kprobe.session/do_nanosleep"   s_kprobe_session       KPROBE / BPF_TRACE_KPROBE_SESSION (6.10+)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("uprobe.multi")
int s_uprobe_multi(void *ctx)
{
	return 0;
}

SEC("uretprobe.multi")
int s_uretprobe_multi(void *ctx)
{
	return 0;
}

SEC("uprobe.multi.s")
int s_uprobe_multi_s(void *ctx)
{
	return 0;
}

SEC("kprobe.session/do_nanosleep")
int s_kprobe_session(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
