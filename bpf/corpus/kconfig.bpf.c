// Corpus: `.kconfig` externs (extern ... __kconfig).
//
// libbpf feature: every extern in the .kconfig section becomes a slot of one internal ARRAY map
// "<obj>.kconfig" (1 entry, value = the DATASEC's size, flags BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
// frozen after filling). libbpf fills it from:
//   - LINUX_KERNEL_VERSION: KERNEL_VERSION(a,b,c) parsed from uname -r (Ubuntu: /proc/version_signature);
//     so on Debian's 6.1.0-N-amd64 it is 6.1.0 (0x060100), whatever the real sublevel is;
//   - LINUX_HAS_SYSCALL_WRAPPER (libbpf probe: is there a __<arch>_sys_bpf symbol in kallsyms);
//   - CONFIG_*: /boot/config-$(uname -r), else /proc/config.gz. bool: y=1 n=0; tristate
//     (enum libbpf_tristate): y=1 m=2 n=0; integers: decimal or 0x hex, range-checked against the
//     extern's size; char[N]: the quoted string, truncated to N-1 bytes with a warning.
//   - a missing CONFIG_* that is __weak reads as 0; a missing strong one fails the open/load
//     (see kconfig_missing.bpf.c).
// Kernels: all (the program is a socket filter). The map *contents* are kernel-specific: the
// committed expectation holds the host's values.
// A correct loader produces:
//   maps  kconfig.kconfig  ARRAY key 4, value = .kconfig DATASEC size, max_entries 1,
//                          flags RDONLY_PROG|MMAPABLE (0x480), frozen, contents = the values above
//         kconfig_out      ARRAY key 4 value 8 max_entries 8, empty
//   progs read_kconfig     SOCKET_FILTER, uses both maps
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h> // enum libbpf_tristate

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_SYSCALL_WRAPPER __kconfig __weak;
extern bool CONFIG_BPF_SYSCALL __kconfig;            // bool, y
extern enum libbpf_tristate CONFIG_VETH __kconfig;   // tristate: y on the host, m on Debian
extern int CONFIG_HZ __kconfig;                      // int (250 on the host and Debian)
extern unsigned long long CONFIG_PHYSICAL_START __kconfig; // hex (0x1000000)
extern char CONFIG_DEFAULT_TCP_CONG[8] __kconfig;    // string ("bbr" host, "cubic" Debian)
extern char CONFIG_DEFAULT_HOSTNAME[4] __kconfig;    // string "(none)" truncated to "(no"
extern int CONFIG_SOCKACCEL_NO_SUCH_OPTION __kconfig __weak; // missing, weak: 0

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} kconfig_out SEC(".maps");

static __always_inline void put(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&kconfig_out, &slot, &value, BPF_ANY);
}

SEC("socket")
int read_kconfig(struct __sk_buff *skb)
{
	put(0, LINUX_KERNEL_VERSION);
	put(1, CONFIG_BPF_SYSCALL);
	put(2, CONFIG_VETH);
	put(3, CONFIG_HZ);
	put(4, CONFIG_PHYSICAL_START);
	put(5, CONFIG_DEFAULT_TCP_CONG[0] | CONFIG_DEFAULT_HOSTNAME[0] << 8);
	put(6, CONFIG_SOCKACCEL_NO_SUCH_OPTION);
	put(7, LINUX_HAS_SYSCALL_WRAPPER);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
