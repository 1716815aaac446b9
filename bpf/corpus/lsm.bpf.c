// Corpus: BPF LSM programs (SEC "lsm/HOOK", "lsm.s/HOOK", "lsm_cgroup/HOOK").
//
// libbpf feature: lsm/HOOK -> BPF_PROG_TYPE_LSM + BPF_LSM_MAC, attach_btf_id = vmlinux BTF id of
// FUNC "bpf_lsm_HOOK" (libbpf adds the "bpf_lsm_" prefix); lsm.s/ adds BPF_F_SLEEPABLE;
// lsm_cgroup/HOOK -> LSM + BPF_LSM_CGROUP (6.0+).
// Kernels: host 6.18 refuses LSM programs (EPERM, libbpf too; "lsm" program type not available);
// Debian 6.1/6.12 load them (CONFIG_BPF_LSM=y; loading does not need "bpf" in the active LSM list,
// attaching would).
// A correct loader produces:
//   progs check_file_open   LSM, attach_btf FUNC bpf_lsm_file_open
//         check_bprm        LSM (sleepable), attach_btf FUNC bpf_lsm_bprm_committed_creds
//         check_bind        LSM, attach_btf FUNC bpf_lsm_socket_bind (expected attach BPF_LSM_CGROUP)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct file;
struct linux_binprm;
struct socket;
struct sockaddr;

SEC("lsm/file_open")
int BPF_PROG(check_file_open, struct file *file, int ret)
{
	return ret;
}

SEC("lsm.s/bprm_committed_creds")
int BPF_PROG(check_bprm, struct linux_binprm *bprm)
{
	return 0;
}

SEC("lsm_cgroup/socket_bind")
int BPF_PROG(check_bind, struct socket *sock, struct sockaddr *address, int addrlen)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
