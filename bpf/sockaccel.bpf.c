// SPDX-License-Identifier: GPL-2.0
/*
 * sockaccel: same-host TCP acceleration with sockops + sk_msg.
 *
 * The sockops program puts both ends of every loopback TCP connection into
 * the SOCKHASH `sock_hash`; the sk_msg program (attached to that map) hands
 * each sendmsg() straight to the peer socket's receive queue, skipping the
 * TCP/IP stack and lo.
 *
 * Built without vmlinux.h and without CO-RE: only UAPI context structs, whose
 * field accesses the kernel rewrites itself. No map needs BTF key/value ids.
 *
 * ---- Userspace contract (the TypeScript side mirrors these) ----
 *
 * struct sa_key, 48 bytes, no padding; key of `sock_hash` and `passed`.
 * It always describes a socket from its own point of view:
 *   off  0  __u64 netns        bpf_get_netns_cookie(): equal 4-tuples in
 *                              different network namespaces never meet
 *   off  8  __u32 local_ip[4]  network byte order; IPv4 a.b.c.d is stored as
 *                              ::ffff:a.b.c.d so an AF_INET client and an
 *                              AF_INET6 dual-stack server build equal keys
 *   off 24  __u32 remote_ip[4] same encoding
 *   off 40  __u32 local_port   host byte order
 *   off 44  __u32 remote_port  host byte order
 * There is deliberately no address family in the key (see above).
 *
 * struct sa_counters, 96 bytes: value of `counters` (PERCPU_ARRAY, one
 * entry, key 0); all fields __u64 at the byte offsets noted below; userspace
 * sums each field over all possible CPUs. New fields are only ever appended.
 * "msgs" count verdict runs: one large sendmsg() may run the verdict for
 * several chunks; the byte counts add up to what was sent.
 *
 * Maps (names are the pin names):
 *   sock_hash  SOCKHASH  key 48 value 8 (socket cookie)  max 65535
 *   passed     HASH      key 48 value 8 (ktime of mark)  max 131070, NO_PREALLOC
 *   counters   PERCPU_ARRAY key 4 value 96               max 1
 * .rodata: trace_enabled (__u32 at offset 0), set by the loader before load.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET  2
#define AF_INET6 10
#define E2BIG    7

struct sa_key {
	__u64 netns;
	__u32 local_ip[4];
	__u32 remote_ip[4];
	__u32 local_port;
	__u32 remote_port;
};

struct sa_counters {
	__u64 sockets_inserted;    /*  0 sockets put into sock_hash */
	__u64 insert_failed_full;  /*  8 sock_hash full (-E2BIG) */
	__u64 insert_failed_other; /* 16 any other insert error */
	__u64 redirected_msgs;     /* 24 sk_msg verdicts redirected to the peer */
	__u64 redirected_bytes;    /* 32 sum of msg->size of those */
	__u64 passed_msgs;         /* 40 verdicts left to TCP (miss or mark) */
	__u64 passed_bytes;        /* 48 sum of msg->size of those */
	__u64 lookup_misses;       /* 56 peer not in sock_hash at a send */
	__u64 mark_failed;         /* 64 could not store the `passed` mark */
	__u64 skipped_early_data;  /* 72 not inserted: had already sent payload
				    *    at ESTABLISHED (TCP Fast Open) */
	__u64 stale_marks;         /* 80 old `passed` mark found at insert */
	__u64 marks_cleared;       /* 88 `passed` marks removed at TCP_CLOSE */
};                                 /* 96 bytes */

#define SOCK_HASH_MAX 65535

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SOCK_HASH_MAX);
	__type(key, struct sa_key);
	__type(value, __u64);	/* 8: a userspace lookup returns the socket cookie */
} sock_hash SEC(".maps");

/*
 * Directions that must stay on TCP: key = the SENDER's own key, value = the
 * bpf_ktime_get_ns() of the mark (for debugging; a mark whose key is no
 * longer in sock_hash is stale and userspace may delete it).
 * Only a socket that is in sock_hash runs sk_msg, so live marks <= live
 * sock_hash entries; twice the size leaves room for marks leaked while the
 * sockops program was detached. NO_PREALLOC keeps an idle map small.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SOCK_HASH_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sa_key);
	__type(value, __u64);
} passed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_counters);
} counters SEC(".maps");

/* Set by the loader before load; .rodata is frozen, so with 0 the verifier
 * sees a constant and removes every trace branch. */
const volatile __u32 trace_enabled = 0;

char LICENSE[] SEC("license") = "GPL";

/* Atomic add: sockops runs in softirq and may interrupt an sk_msg run on the
 * same CPU in the middle of a plain read-modify-write. `c` is evaluated once:
 * COUNT(get_counters(), ...) must not look the map up twice: older kernels
 * (6.1, 6.12) do not know the second lookup is non-NULL and refuse the load. */
#define COUNT(c, field, n) \
	do { struct sa_counters *c_ = (c); if (c_) __sync_fetch_and_add(&c_->field, (n)); } while (0)

static __always_inline struct sa_counters *get_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/*
 * Fill *k from a bpf_sock_ops or sk_msg_md (same field names; a macro because
 * the kernel only rewrites loads made directly from the context pointer).
 * Every field is loaded unconditionally and the family picked afterwards:
 * loads inside the if/else let clang merge them into one load through a
 * computed ctx pointer, which the verifier rejects ("dereference of modified
 * ctx ptr"). Reading the ip6 fields of an AF_INET socket is harmless.
 * Ports, verified on 6.18 (x86_64) for both context types:
 *   local_port  is the port in host order;
 *   remote_port holds the 16-bit big-endian port in its upper half on
 *               little-endian (lower half on big-endian), so bpf_ntohl()
 *               yields the host-order port on either.
 * Evaluates to 0 for families other than AF_INET/AF_INET6.
 */
#define FILL_KEY(ctx, k) ({						\
	__u32 __fam = (ctx)->family;					\
	__u32 __l4 = (ctx)->local_ip4, __r4 = (ctx)->remote_ip4;	\
	__u32 __l6[4], __r6[4];						\
	int __i;							\
	for (__i = 0; __i < 4; __i++) {					\
		__l6[__i] = (ctx)->local_ip6[__i];			\
		__r6[__i] = (ctx)->remote_ip6[__i];			\
	}								\
	barrier();							\
	if (__fam == AF_INET) {						\
		(k)->local_ip[2] = bpf_htonl(0xffff);			\
		(k)->local_ip[3] = __l4;				\
		(k)->remote_ip[2] = bpf_htonl(0xffff);			\
		(k)->remote_ip[3] = __r4;				\
	} else {							\
		__builtin_memcpy((k)->local_ip, __l6, sizeof(__l6));	\
		__builtin_memcpy((k)->remote_ip, __r6, sizeof(__r6));	\
	}								\
	(k)->local_port = (ctx)->local_port;				\
	(k)->remote_port = bpf_ntohl((ctx)->remote_port);		\
	(k)->netns = bpf_get_netns_cookie(ctx);				\
	__fam == AF_INET || __fam == AF_INET6;				\
})

/* 127.0.0.0/8 (as ::ffff:127.x.y.z) or ::1 */
static __always_inline int is_loopback(const __u32 ip[4])
{
	if (ip[0] || ip[1])
		return 0;
	if (ip[2] == bpf_htonl(0xffff))
		return (bpf_ntohl(ip[3]) >> 24) == 127;
	return ip[2] == 0 && ip[3] == bpf_htonl(1);
}

/*
 * One "sockaccel: <what> <err> [local]:port > [remote]:port netns N" line.
 * bpf_trace_printk takes at most 3 args, so the line is first formatted
 * with bpf_snprintf (5.13+, up to 12 args). 6.18 accepts %pI6c but
 * prints the full form anyway, so plain %pI6 is used. A macro so that
 * each format is one literal in .rodata (a string passed as an argument
 * would land in .rodata.str1.1, one more section for the loader).
 */
#define TRACE_KEY(what, err, k) do {					\
	char __line[160];						\
	if (trace_enabled) {						\
		BPF_SNPRINTF(__line, sizeof(__line), "sockaccel: " what	\
			     " %ld [%pI6]:%u > [%pI6]:%u netns %llu",	\
			     (long)(err), (k)->local_ip, (k)->local_port, \
			     (k)->remote_ip, (k)->remote_port, (k)->netns); \
		bpf_printk("%s", __line);				\
	}								\
} while (0)

static __always_inline void on_established(struct bpf_sock_ops *skops)
{
	struct sa_counters *c = get_counters();
	struct sa_key key = {};
	long err;

	if (!FILL_KEY(skops, &key) ||
	    !is_loopback(key.local_ip) || !is_loopback(key.remote_ip))
		return;

	/*
	 * TCP Fast Open: payload sent in the SYN went through TCP before this
	 * socket could be in the map. If it were inserted, its later sends could
	 * be redirected past that payload, so a socket that has already SENT
	 * payload is left out: its sends stay on TCP, and the peer's sends to it
	 * miss and get marked. Measured on 6.18: a TFO client reads
	 * data_segs_out 1, bytes_acked 1 + payload here; a plain active open
	 * 0 and 1 (the SYN); a passive open 0 and 0.
	 * A socket that has only RECEIVED payload (TCP_DEFER_ACCEPT server:
	 * data_segs_in 1 here) is inserted on purpose: that payload was sent
	 * either by a peer that is in the map, whose sk_msg missed and marked
	 * its direction, or by a peer left out by this very check. Either way
	 * the peer's direction stays on TCP, and this socket's own replies can
	 * be accelerated (the big direction for deferred-accept web servers).
	 */
	if (skops->data_segs_out || skops->bytes_acked > 1) {
		COUNT(c, skipped_early_data, 1);
		TRACE_KEY("skip-early-data", 0, &key);
		return;
	}

	/* Only this socket's sk_msg writes its mark and that cannot run before
	 * the insert below, so a mark present now belongs to an earlier
	 * connection with the same key whose close we did not see. */
	if (bpf_map_delete_elem(&passed, &key) == 0)
		COUNT(c, stale_marks, 1);

	err = bpf_sock_hash_update(skops, &sock_hash, &key, BPF_NOEXIST);
	if (err) {
		if (err == -E2BIG)
			COUNT(c, insert_failed_full, 1);
		else
			COUNT(c, insert_failed_other, 1);
		TRACE_KEY("insert-failed", err, &key);
		return;
	}
	COUNT(c, sockets_inserted, 1);
	/* Ask for BPF_SOCK_OPS_STATE_CB so the mark can be dropped at close. */
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					 BPF_SOCK_OPS_STATE_CB_FLAG);
	TRACE_KEY("insert", 0, &key);
}

static __always_inline void on_close(struct bpf_sock_ops *skops)
{
	struct sa_key key = {};

	/* The kernel removes the socket from sock_hash by itself; the mark is
	 * ours to remove, or a later connection reusing the 4-tuple would
	 * inherit it (harmless, cleared at insert, but it holds a slot). */
	if (FILL_KEY(skops, &key) && bpf_map_delete_elem(&passed, &key) == 0)
		COUNT(get_counters(), marks_cleared, 1);
}

SEC("sockops")
int sockaccel_sockops(struct bpf_sock_ops *skops)
{
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		on_established(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == BPF_TCP_CLOSE)
			on_close(skops);
		break;
	}
	return 1;
}

/*
 * Ordering rule: the bytes of one direction go either all through the
 * redirect or all through TCP. tcp_bpf_recvmsg() drains the redirected
 * (psock) queue before the normal receive queue, so TCP bytes still unread
 * when redirected ones arrive would be delivered after them.
 *
 * A socket is inserted at ESTABLISHED, before its application can send, so
 * every byte it sends passes through here. The first time the peer is
 * missing (peer not yet ESTABLISHED, TCP_DEFER_ACCEPT, peer outside the
 * cgroup, map full, ...) that message goes to TCP and the direction is
 * marked in `passed`; from then on it stays on TCP even once the peer shows
 * up. Sends on one socket are serialised by the socket lock, so check and
 * mark cannot race with each other. Never return SK_DROP: the application
 * would see EACCES.
 * On 6.18 loopback the passive socket is normally inserted before the
 * client's connect() returns (no misses in iperf3 runs); with
 * TCP_DEFER_ACCEPT the first send always misses, and without the mark the
 * server read that stream reordered from its first byte.
 */
SEC("sk_msg")
int sockaccel_msg(struct sk_msg_md *msg)
{
	struct sa_counters *c = get_counters();
	struct sa_key self = {}, peer;
	__u64 size = msg->size;
	__u64 now;

	if (!FILL_KEY(msg, &self) || bpf_map_lookup_elem(&passed, &self))
		goto pass;

	peer.netns = self.netns;
	__builtin_memcpy(peer.local_ip, self.remote_ip, sizeof(peer.local_ip));
	__builtin_memcpy(peer.remote_ip, self.local_ip, sizeof(peer.remote_ip));
	peer.local_port = self.remote_port;
	peer.remote_port = self.local_port;

	if (bpf_msg_redirect_hash(msg, &sock_hash, &peer, BPF_F_INGRESS) == SK_PASS) {
		COUNT(c, redirected_msgs, 1);
		COUNT(c, redirected_bytes, size);
		return SK_PASS;
	}

	COUNT(c, lookup_misses, 1);
	now = bpf_ktime_get_ns();
	/* If the mark cannot be stored (should not happen, see map size), this
	 * message still goes to TCP; a later one might be redirected, so the
	 * counter is the signal that ordering was not guaranteed. */
	if (bpf_map_update_elem(&passed, &self, &now, BPF_ANY))
		COUNT(c, mark_failed, 1);
	TRACE_KEY("miss", 0, &self);
pass:
	COUNT(c, passed_msgs, 1);
	COUNT(c, passed_bytes, size);
	return SK_PASS;
}
