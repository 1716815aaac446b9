// Corpus: tracing section names without BTF attach targets.
//
// libbpf feature: the program type, expected attach type and flags come from the section name,
// matched against libbpf's section table (libbpf.c section_defs: exact names, "name+" = name or
// name/extras, "?" prefix = autoload off). Nothing here is attached; names in the section after the
// '/' are only used by libbpf's auto-attach. libbpf loads all-or-nothing: one section the kernel
// refuses makes the whole object fail, hence one object per kernel generation.
// Kernels: all (host 6.18, 6.1, 6.12): kprobe-type programs load without CONFIG_KPROBE_EVENTS (the host has none); only attaching needs it.
// A correct loader produces (no maps), one program per section, named after it; each
// program is trivial (returns a value the verifier accepts for its type):
//   SEC "kprobe/do_nanosleep"               s_kprobe               KPROBE
//   SEC "kretprobe/do_nanosleep"            s_kretprobe            KPROBE
//   SEC "ksyscall/nanosleep"                s_ksyscall             KPROBE (libbpf resolves the syscall's arch prefix only when attaching)
//   SEC "kretsyscall/nanosleep"             s_kretsyscall          KPROBE
//   SEC "uprobe"                            s_uprobe               KPROBE (bare: target given when attaching)
//   SEC "uretprobe"                         s_uretprobe            KPROBE
//   SEC "uprobe//bin/true:main"             s_uprobe_path          KPROBE (path:function in the name, used only when attaching)
//   SEC "uprobe.s"                          s_uprobe_s             KPROBE + BPF_F_SLEEPABLE
//   SEC "uretprobe.s"                       s_uretprobe_s          KPROBE + BPF_F_SLEEPABLE
//   SEC "kprobe.multi/do_nanosleep"         s_kprobe_multi         KPROBE / BPF_TRACE_KPROBE_MULTI (5.18+)
//   SEC "kretprobe.multi/do_nanosleep"      s_kretprobe_multi      KPROBE / BPF_TRACE_KPROBE_MULTI
//   SEC "tp/syscalls/sys_enter_nanosleep"   s_tp                   TRACEPOINT
//   SEC "tracepoint/sched/sched_switch"     s_tracepoint           TRACEPOINT
//   SEC "raw_tp/sys_enter"                  s_raw_tp               RAW_TRACEPOINT
//   SEC "raw_tracepoint/sys_exit"           s_raw_tracepoint       RAW_TRACEPOINT
//   SEC "raw_tp.w/sys_enter"                s_raw_tp_w             RAW_TRACEPOINT_WRITABLE
//   SEC "raw_tracepoint.w/sys_exit"         s_raw_tracepoint_w     RAW_TRACEPOINT_WRITABLE
//   SEC "perf_event"                        s_perf_event           PERF_EVENT
//   SEC "syscall"                           s_syscall              SYSCALL (+ BPF_F_SLEEPABLE)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("kprobe/do_nanosleep")
int s_kprobe(void *ctx)
{
	return 0;
}

SEC("kretprobe/do_nanosleep")
int s_kretprobe(void *ctx)
{
	return 0;
}

SEC("ksyscall/nanosleep")
int s_ksyscall(void *ctx)
{
	return 0;
}

SEC("kretsyscall/nanosleep")
int s_kretsyscall(void *ctx)
{
	return 0;
}

SEC("uprobe")
int s_uprobe(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int s_uretprobe(void *ctx)
{
	return 0;
}

SEC("uprobe//bin/true:main")
int s_uprobe_path(void *ctx)
{
	return 0;
}

SEC("uprobe.s")
int s_uprobe_s(void *ctx)
{
	return 0;
}

SEC("uretprobe.s")
int s_uretprobe_s(void *ctx)
{
	return 0;
}

SEC("kprobe.multi/do_nanosleep")
int s_kprobe_multi(void *ctx)
{
	return 0;
}

SEC("kretprobe.multi/do_nanosleep")
int s_kretprobe_multi(void *ctx)
{
	return 0;
}

SEC("tp/syscalls/sys_enter_nanosleep")
int s_tp(void *ctx)
{
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int s_tracepoint(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_enter")
int s_raw_tp(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int s_raw_tracepoint(void *ctx)
{
	return 0;
}

SEC("raw_tp.w/sys_enter")
int s_raw_tp_w(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint.w/sys_exit")
int s_raw_tracepoint_w(void *ctx)
{
	return 0;
}

SEC("perf_event")
int s_perf_event(void *ctx)
{
	return 0;
}

SEC("syscall")
int s_syscall(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
