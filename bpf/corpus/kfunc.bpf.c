// Corpus: kfunc calls (extern functions in .ksyms), incl. a __weak kfunc the kernel lacks.
//
// libbpf feature: each `extern ... __ksym` *function* is looked up by name as a BTF FUNC in vmlinux
// (then in module BTFs), its prototype checked against the local one; every call to it is
// rewritten to BPF_CALL with src_reg = BPF_PSEUDO_KFUNC_CALL, imm = the kernel BTF id of the FUNC
// and off = 0 for vmlinux (for a module: an index into fd_array holding the module BTF fd).
// A __weak kfunc that does not exist: libbpf keeps the object loadable, the bpf_ksym_exists()
// test reads 0 and the guarded call is dead code (libbpf 1.5 rewrites the call so the verifier
// accepts it; see the oracle's xlated size).
// Kernels: bpf_task_from_pid/bpf_task_release/bpf_rcu_read_lock are 6.2+ kfuncs and callable
// from SYSCALL programs since 6.x: loads on the host 6.18 and 6.12; on 6.1 libbpf refuses it
// ("extern (func ksym) 'bpf_task_from_pid': not found in kernel or module BTFs").
// A correct loader produces:
//   maps  (none)
//   progs kfunc_calls  SYSCALL (SEC "syscall", sleepable)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define bpf_ksym_exists(sym) (!!(sym))

// A complete struct, not a forward declaration: libbpf's prototype check wants the pointee's BTF
// kind to match the kernel's (FWD vs STRUCT is "incompatible"); members do not matter.
struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern int bpf_sockaccel_no_such_kfunc(int x) __ksym __weak;

SEC("syscall")
int kfunc_calls(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	int ret = 0;

	if (t) {
		bpf_task_release(t);
		ret = 1;
	}
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	if (bpf_ksym_exists(bpf_sockaccel_no_such_kfunc))
		ret += bpf_sockaccel_no_such_kfunc(ret);
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
