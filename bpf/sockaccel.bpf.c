// SPDX-License-Identifier: GPL-2.0
/*
 * sockaccel: same-host TCP acceleration with sockops + sk_msg, safe first.
 *
 * The sock_ops program decides, when a loopback TCP connection reaches
 * ESTABLISHED, whether its two sockets go into the SOCKHASH `sock_hash`;
 * the sk_msg program (attached to that map) then hands each sendmsg()
 * straight to the peer socket's receive queue. A socket is only ever
 * inserted at ESTABLISHED, before its application can send: a direction
 * never switches from TCP to the redirect, and taking a socket out of the
 * map (which frees unread redirected data) is done only when provably
 * nothing is unread (the half-close rescue below).
 *
 * Why a decision at all (measured on 6.18, see docs/performance.md):
 * - splice(2) readers never see redirected data (tcp_splice_read reads only
 *   sk_receive_queue): total, silent loss;
 * - a BLOCKING reader of a socket in the map gets -EAGAIN from any wake-up
 *   without data (the ACK of its own FIN after shutdown(SHUT_WR); every
 *   signal it takes during the read), whatever the verdict;
 * - streams of small writes run at 0.4-0.7x of plain TCP when redirected,
 *   and 0.6-0.9x when merely in the map; request/response gains 1.6x,
 *   streams of >= 16 KiB writes 1.2-1.5x.
 *
 * The decision is learned per SERVICE (network namespace, server address,
 * server port), from earlier connections of that service, which ran on
 * plain TCP and were observed meanwhile:
 * - tp_btf sock_send_length / sock_recv_length (or, on kernels without
 *   them, fexit tcp_sendmsg / inet_recvmsg / inet6_recvmsg): write sizes, turns (a write
 *   after a read), blocking reads (MSG_DONTWAIT absent), reads after our
 *   own half-close, MSG_WAITALL, SO_RCVLOWAT;
 * - syscalls:sys_enter/exit_splice + tp_btf tcp_rcv_space_adjust: a
 *   splice read of a tracked socket;
 * - tp_btf signal_deliver: processes that take handled signals.
 * A service is accelerated once an observed connection showed request/
 * response or >= 16 KiB writes, and none showed a splice reader on both
 * sides, a blocking reader exposed to spurious wake-ups, or a stream of
 * small writes (per-service score). A side whose reader splices gets its
 * incoming direction marked "stays on TCP" from the first byte.
 *
 * ---- Userspace contract (src/accel mirrors these) ----
 *
 * struct sa_key, 48 bytes, no padding; key of `sock_hash` and `passed`.
 * It always describes a socket from its own point of view:
 *   off  0  __u64 netns        bpf_get_netns_cookie()
 *   off  8  __u32 local_ip[4]  network byte order; IPv4 a.b.c.d is stored as
 *                              ::ffff:a.b.c.d (an AF_INET client and an
 *                              AF_INET6 dual-stack server build equal keys)
 *   off 24  __u32 remote_ip[4] same encoding
 *   off 40  __u32 local_port   host byte order
 *   off 44  __u32 remote_port  host byte order
 *
 * struct sa_svc, 32 bytes: key of `services`: netns (u64 @0), server ip
 * (@8, as above), server port (u32 @24, host order), pad (u32 @28, 0).
 *
 * struct sa_profile, 32 bytes, value of `services`:
 *   @0  __u32 flags   SVC_* below (sticky for the install's lifetime)
 *   @4  __s32 score   > 0: accelerate (when no flag forbids it)
 *   @8  __u32 good    observed sides with request/response or bulk writes
 *   @12 __u32 small   observed sides with a stream of small writes
 *   @16 __u32 seen    observed sides folded
 *   @20 __u32 accel   connections (sockets) inserted so far
 *   @24 __u64 updated bpf_ktime_get_ns() of the last change
 *
 * struct sa_config, value of `config` (ARRAY, 1 entry, written by
 * userspace at any time): mode (u32 @0: 0 learn, 1 all), draining (u32 @4:
 * 1 = insert nothing new), trace (u32 @8), port_filter (u32 @12: 0 none,
 * 1 only ports with rule INCLUDE), bulk_bytes (u32 @16, 32768),
 * small_writes (u32 @20, 64), sample_writes (u32 @24, 2048).
 * `port_rules` (HASH u32 port -> u32 rule: 1 include, 2 exclude).
 *
 * struct sa_counters, value of `counters` (PERCPU_ARRAY, one entry);
 * __u64 fields at the byte offsets noted; userspace sums over all possible
 * CPUs. New fields are only ever appended.
 *
 * Maps (names are the pin names): sock_hash SOCKHASH (key 48, value 8,
 * max 65535), passed HASH (key 48, value 8, 2x, NO_PREALLOC), counters,
 * services LRU_HASH (16384), conns SK_STORAGE (struct sa_conn, per socket),
 * config ARRAY, port_rules HASH (1024), signal_tgids LRU_HASH (4096),
 * in_splice LRU_HASH (4096).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define AF_INET		2
#define AF_INET6	10
#define E2BIG		7
#define O_NONBLOCK	04000
#define MSG_DONTWAIT	0x40
#define MSG_WAITALL	0x100
/* tcp_states.h */
#define TCP_FIN_WAIT1	4
#define TCP_FIN_WAIT2	5
#define TCP_CLOSING	11

/* ---- Kernel types, only the fields we read (CO-RE relocates them) ---- */
struct file___sa {
	unsigned int f_flags;
} __attribute__((preserve_access_index));

struct sock___sa;

struct socket___sa {
	struct file___sa *file;
	struct sock___sa *sk;
} __attribute__((preserve_access_index));

struct sock_common___sa {
	unsigned char skc_state;
} __attribute__((preserve_access_index));

struct sock___sa {
	struct sock_common___sa __sk_common;
	struct socket___sa *sk_socket;
	void *sk_user_data;
	int sk_rcvlowat;
} __attribute__((preserve_access_index));

struct list_head___sa {
	struct list_head___sa *next;
} __attribute__((preserve_access_index));

struct refcount_struct___sa {
	struct {
		int counter;
	} refs;
} __attribute__((preserve_access_index));

struct sk_psock___sa {
	struct list_head___sa ingress_msg;
	struct refcount_struct___sa refcnt;
} __attribute__((preserve_access_index));

struct sigaction___sa {
	void *sa_handler;
} __attribute__((preserve_access_index));

struct k_sigaction___sa {
	struct sigaction___sa sa;
} __attribute__((preserve_access_index));

/* sk_user_data carries flag bits in its low bits (SK_USER_DATA_*). */
#define SK_USER_DATA_PTRMASK (~7UL)

/* ---- Userspace contract types ---- */
struct sa_key {
	__u64 netns;
	__u32 local_ip[4];
	__u32 remote_ip[4];
	__u32 local_port;
	__u32 remote_port;
};

struct sa_svc {
	__u64 netns;
	__u32 ip[4];
	__u32 port;
	__u32 pad;
};

/* Sticky per-service flags: what an observed connection showed. */
#define SVC_SPLICE_SRV	(1 << 0)	/* the server reads with splice */
#define SVC_SPLICE_CLI	(1 << 1)	/* a client reads with splice */
#define SVC_BLOCK_SRV	(1 << 2)	/* the server blocks in reads exposed to EAGAIN */
#define SVC_BLOCK_CLI	(1 << 3)	/* a client blocks in reads exposed to EAGAIN */
#define SVC_SEMANTICS	(1 << 4)	/* MSG_WAITALL / SO_RCVLOWAT readers (short reads under redirect) */

struct sa_profile {
	__u32 flags;
	__s32 score;
	__u32 good;
	__u32 small;
	__u32 seen;
	__u32 accel;
	__u64 updated;
};

struct sa_config {
	__u32 mode;
	__u32 draining;
	__u32 trace;
	__u32 port_filter;
	__u32 bulk_bytes;
	__u32 small_writes;
	__u32 sample_writes;
	__u32 reserved;
};

#define MODE_LEARN	0
#define MODE_ALL	1
#define RULE_INCLUDE	1
#define RULE_EXCLUDE	2

/* Per-socket state (SK_STORAGE): what we decided and what we saw. */
#define CONN_TRACKED	(1 << 0)	/* the accelerator decided about this socket */
#define CONN_INSERTED	(1 << 1)	/* in sock_hash */
#define CONN_OBSERVE	(1 << 2)	/* on TCP, being observed for its service */
#define CONN_SERVER	(1 << 3)	/* the passive side */
#define CONN_EXCLUDED	(1 << 4)	/* its cgroup is excluded (set by sockaccel_exclude) */
#define CONN_FOLDED	(1 << 5)	/* its observations went into the profile */
#define SEEN_SPLICE	(1 << 8)
#define SEEN_BLOCKING	(1 << 9)	/* a blocking read */
#define SEEN_HALFCLOSED	(1 << 10)	/* we sent FIN (FIN_WAIT1) */
#define SEEN_RISK	(1 << 11)	/* a blocking read after our FIN, or by a process taking signals */
#define SEEN_SEMANTICS	(1 << 12)	/* MSG_WAITALL / SO_RCVLOWAT */
#define SEEN_RESCUED	(1 << 13)	/* a rescue acted on this socket */
#define LAST_READ	1
#define LAST_WRITE	2

struct sa_conn {
	struct sa_key key;
	struct sa_svc svc;
	__u32 flags;
	__u32 last;
	__u64 writes;
	__u64 bytes;
	__u64 turns;
};

struct sa_counters {
	__u64 sockets_inserted;    /*   0 sockets put into sock_hash */
	__u64 insert_failed_full;  /*   8 sock_hash full (-E2BIG) */
	__u64 insert_failed_other; /*  16 any other insert error */
	__u64 redirected_msgs;     /*  24 sk_msg verdicts redirected to the peer */
	__u64 redirected_bytes;    /*  32 sum of msg->size of those */
	__u64 passed_msgs;         /*  40 verdicts of inserted sockets left to TCP */
	__u64 passed_bytes;        /*  48 sum of msg->size of those */
	__u64 lookup_misses;       /*  56 peer not in sock_hash at a send */
	__u64 mark_failed;         /*  64 could not store a `passed` mark */
	__u64 skipped_early_data;  /*  72 not inserted: payload before ESTABLISHED (TFO) */
	__u64 stale_marks;         /*  80 old `passed` mark found at insert */
	__u64 marks_cleared;       /*  88 `passed` marks removed at TCP_CLOSE */
	/* Decisions at ESTABLISHED, one per socket: */
	__u64 dec_redirect;        /*  96 inserted: learned good service */
	__u64 dec_forced;          /* 104 inserted: policy "all" */
	__u64 dec_probation;       /* 112 TCP, observed: service not known yet */
	__u64 dec_splice;          /* 120 TCP: both sides read with splice */
	__u64 dec_blocking;        /* 128 TCP: a blocking reader exposed to EAGAIN */
	__u64 dec_small;           /* 136 TCP: the service streams small writes */
	__u64 dec_excluded_port;   /* 144 TCP: port rules */
	__u64 dec_excluded_cgroup; /* 152 TCP: an excluded cgroup */
	__u64 dec_semantics;       /* 160 TCP: MSG_WAITALL / SO_RCVLOWAT readers */
	/* After the decision: */
	__u64 rescued_splice;      /* 168 splice on an inserted socket, nothing unread: peer -> TCP */
	__u64 rescued_halfclose;   /* 176 blocking half-close of an inserted socket, nothing unread: removed */
	__u64 at_risk_splice;      /* 184 splice on an inserted socket with redirected data unread */
	__u64 at_risk_blocking;    /* 192 a blocking read exposed to EAGAIN on an inserted socket */
	__u64 demoted_small;       /* 200 inserted direction of small writes moved to TCP */
	__u64 observed_sides;      /* 208 observations folded into service profiles */
	__u64 splice_dir_marked;   /* 216 directions marked TCP at insert: their reader splices */
};                                 /* 224 bytes */

#define SOCK_HASH_MAX 65535

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SOCK_HASH_MAX);
	__type(key, struct sa_key);
	__type(value, __u64);	/* 8: a userspace lookup returns the socket cookie */
} sock_hash SEC(".maps");

/* Directions that must stay on TCP: key = the SENDER's own key. */
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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sa_svc);
	__type(value, struct sa_profile);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sa_conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} port_rules SEC(".maps");

/* Processes (tgid) seen taking a signal with a handler: bpf_ktime_get_ns() of the last one. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} signal_tgids SEC(".maps");

/* Threads (pid_tgid) inside splice(2) now. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} in_splice SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

/* Atomic add: sock_ops runs in softirq and may interrupt an sk_msg run on
 * the same CPU mid read-modify-write. `c` is evaluated once: older
 * verifiers (6.1, 6.12) refuse a second lookup of the same map. */
#define COUNT(c, field, n) \
	do { struct sa_counters *c_ = (c); if (c_) __sync_fetch_and_add(&c_->field, (n)); } while (0)

static __always_inline struct sa_counters *get_counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline struct sa_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

/*
 * Fill *k from a bpf_sock_ops or sk_msg_md (same field names; a macro
 * because the kernel only rewrites loads made directly from the context
 * pointer). Every field is loaded unconditionally and the family picked
 * afterwards: loads inside the if/else let clang merge them into one load
 * through a computed ctx pointer, which the verifier rejects. Ports,
 * verified on 6.18 (x86_64): local_port is host order; remote_port holds
 * the 16-bit big-endian port in its upper half on little-endian, so
 * bpf_ntohl() yields the host-order port on either endianness.
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

static __always_inline void peer_of(const struct sa_key *self, struct sa_key *peer)
{
	peer->netns = self->netns;
	__builtin_memcpy(peer->local_ip, self->remote_ip, sizeof(peer->local_ip));
	__builtin_memcpy(peer->remote_ip, self->local_ip, sizeof(peer->remote_ip));
	peer->local_port = self->remote_port;
	peer->remote_port = self->local_port;
}

/* Mark the direction whose sender has key `sender` as "stays on TCP". */
static __always_inline void mark_passed(const struct sa_key *sender, struct sa_counters *c)
{
	__u64 now = bpf_ktime_get_ns();

	if (bpf_map_update_elem(&passed, sender, &now, BPF_ANY))
		COUNT(c, mark_failed, 1);
}

/*
 * One "sockaccel: <what> <arg> [local]:port > [remote]:port netns N" line
 * when config.trace is set. bpf_trace_printk takes at most 3 args, so the
 * line is formatted with bpf_snprintf (5.13+) first. A macro so that each
 * format is one literal in .rodata.
 */
#define TRACE_KEY(cfg, what, arg, k) do {				\
	char __line[160];						\
	/* once: each lookup is a separate maybe-NULL value for 6.1's verifier */ \
	struct sa_config *__cfg = (cfg);				\
	if (__cfg && __cfg->trace) {					\
		BPF_SNPRINTF(__line, sizeof(__line), "sockaccel: " what	\
			     " %ld [%pI6]:%u > [%pI6]:%u netns %llu",	\
			     (long)(arg), (k)->local_ip, (k)->local_port, \
			     (k)->remote_ip, (k)->remote_port, (k)->netns); \
		bpf_printk("%s", __line);				\
	}								\
} while (0)

/* ---- The profile of a service ---- */

static __always_inline struct sa_profile *get_profile(const struct sa_svc *svc, int create)
{
	struct sa_profile *p = bpf_map_lookup_elem(&services, svc);
	struct sa_profile fresh = {};

	if (p || !create)
		return p;
	fresh.updated = bpf_ktime_get_ns();
	bpf_map_update_elem(&services, svc, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&services, svc);
}

enum verdict { V_REDIRECT, V_PROBATION, V_SPLICE, V_BLOCKING, V_SMALL, V_SEMANTICS };

static __always_inline enum verdict verdict_of(const struct sa_profile *p)
{
	if (!p)
		return V_PROBATION;
	if ((p->flags & (SVC_SPLICE_SRV | SVC_SPLICE_CLI)) == (SVC_SPLICE_SRV | SVC_SPLICE_CLI))
		return V_SPLICE;
	if (p->flags & (SVC_BLOCK_SRV | SVC_BLOCK_CLI))
		return V_BLOCKING;
	if (p->flags & SVC_SEMANTICS)
		return V_SEMANTICS;
	if (p->score > 0)
		return V_REDIRECT;
	return p->small ? V_SMALL : V_PROBATION;
}

/*
 * What one socket's observation says about its side of the service:
 *  +1 request/response (a write after a read in >= 1/4 of its writes) or
 *     bulk (>= bulk_bytes per write on average);
 *  -4 a stream of small writes (>= small_writes writes, neither of those);
 *   0 too little to tell.
 */
static __always_inline void fold(struct sa_conn *s, struct sa_config *cfg, struct sa_counters *c)
{
	struct sa_profile *p;
	__u32 bulk = cfg && cfg->bulk_bytes ? cfg->bulk_bytes : 32768;
	__u32 smallw = cfg && cfg->small_writes ? cfg->small_writes : 64;
	__u32 flags = 0;
	__s32 delta = 0;

	if (s->flags & CONN_FOLDED)
		return;
	s->flags |= CONN_FOLDED;
	p = get_profile(&s->svc, 1);
	if (!p)
		return;
	if (s->flags & SEEN_SPLICE)
		flags |= (s->flags & CONN_SERVER) ? SVC_SPLICE_SRV : SVC_SPLICE_CLI;
	if ((s->flags & SEEN_BLOCKING) && (s->flags & SEEN_RISK))
		flags |= (s->flags & CONN_SERVER) ? SVC_BLOCK_SRV : SVC_BLOCK_CLI;
	if ((s->flags & SEEN_BLOCKING) && (s->flags & SEEN_SEMANTICS))
		flags |= SVC_SEMANTICS;
	if (s->writes >= 2 && s->turns * 4 >= s->writes)
		delta = 1;
	else if (s->writes && s->bytes >= s->writes * bulk)
		delta = 1;
	else if (s->writes >= smallw)
		delta = -4;
	if (flags)
		__sync_fetch_and_or(&p->flags, flags);
	if (delta > 0) {
		__sync_fetch_and_add(&p->good, 1);
		if (p->score < 8)
			__sync_fetch_and_add(&p->score, 1);
	} else if (delta < 0) {
		__sync_fetch_and_add(&p->small, 1);
		if (p->score > -8)
			__sync_fetch_and_add(&p->score, -4);
	}
	__sync_fetch_and_add(&p->seen, 1);
	p->updated = bpf_ktime_get_ns();
	COUNT(c, observed_sides, 1);
}

/* ---- Reading a socket's kernel state ---- */

/* Is the socket's redirected queue (psock->ingress_msg) empty, and nobody else holding the psock
 * (an in-flight redirect, a blocked reader)? Only then may it leave the map without losing data. */
static __always_inline int psock_idle(struct sock___sa *sk)
{
	struct sk_psock___sa *psock;
	struct list_head___sa *next = 0;
	unsigned long ud = 0;
	int refs = 0;

	if (bpf_probe_read_kernel(&ud, sizeof(ud), &sk->sk_user_data))
		return 0;
	psock = (struct sk_psock___sa *)(ud & SK_USER_DATA_PTRMASK);
	if (!psock)
		return 1;
	if (bpf_probe_read_kernel(&next, sizeof(next), &psock->ingress_msg.next))
		return 0;
	if (bpf_probe_read_kernel(&refs, sizeof(refs), &psock->refcnt.refs.counter))
		return 0;
	return next == &psock->ingress_msg && refs <= 1;
}

/* Is anybody reading it in blocking mode (the file lacks O_NONBLOCK)? 0 for orphaned sockets. */
static __always_inline int blocking_file(struct sock___sa *sk)
{
	struct socket___sa *sock = sk->sk_socket;
	struct file___sa *file;

	if (!sock)
		return 0;
	file = sock->file;
	if (!file)
		return 0;
	return !(file->f_flags & O_NONBLOCK);
}

/* ---- sock_ops: the decision at ESTABLISHED, observation of states, the half-close rescue ---- */

static __always_inline void service_of(const struct sa_key *k, int server, struct sa_svc *svc)
{
	svc->netns = k->netns;
	if (server) {
		__builtin_memcpy(svc->ip, k->local_ip, sizeof(svc->ip));
		svc->port = k->local_port;
	} else {
		__builtin_memcpy(svc->ip, k->remote_ip, sizeof(svc->ip));
		svc->port = k->remote_port;
	}
	svc->pad = 0;
}

static __always_inline void on_established(struct bpf_sock_ops *skops, int server)
{
	struct sa_counters *c = get_counters();
	struct sa_config *cfg = get_config();
	struct sa_key key = {};
	struct sa_conn *s;
	struct sa_profile *p;
	struct bpf_sock *sk;
	enum verdict v;
	__u32 *rule;
	long err;

	if (!cfg || cfg->draining)
		return;
	if (!FILL_KEY(skops, &key) || !is_loopback(key.local_ip) || !is_loopback(key.remote_ip))
		return;
	sk = skops->sk;
	if (!sk)
		return;
	s = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!s)
		return;
	__builtin_memcpy(&s->key, &key, sizeof(key));
	service_of(&key, server, &s->svc);
	s->flags |= CONN_TRACKED | (server ? CONN_SERVER : 0);
	/* STATE_CB: marks are cleared and observations folded at close. */
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);

	if (s->flags & CONN_EXCLUDED) {
		COUNT(c, dec_excluded_cgroup, 1);
		TRACE_KEY(cfg, "tcp-excluded-cgroup", 0, &key);
		return;
	}
	rule = bpf_map_lookup_elem(&port_rules, &s->svc.port);
	if ((rule && *rule == RULE_EXCLUDE) || (cfg->port_filter && !(rule && *rule == RULE_INCLUDE))) {
		COUNT(c, dec_excluded_port, 1);
		TRACE_KEY(cfg, "tcp-excluded-port", s->svc.port, &key);
		return;
	}
	/*
	 * TCP Fast Open: payload sent in the SYN went through TCP before this
	 * socket could be in the map; its later sends could be redirected past
	 * it. A socket that has already SENT payload is left out. (A socket
	 * that has only RECEIVED payload, e.g. a TCP_DEFER_ACCEPT server, may be
	 * inserted: the peer's direction missed and is marked.)
	 */
	if (skops->data_segs_out || skops->bytes_acked > 1) {
		COUNT(c, skipped_early_data, 1);
		TRACE_KEY(cfg, "skip-early-data", 0, &key);
		return;
	}

	if (cfg->mode == MODE_ALL) {
		v = V_REDIRECT;
		p = 0;
	} else {
		p = get_profile(&s->svc, 1);
		v = verdict_of(p);
	}
	if (v != V_REDIRECT) {
		/* On plain TCP: observed, so the service's next connections can be decided. */
		s->flags |= CONN_OBSERVE;
		switch (v) {
		case V_SPLICE: COUNT(c, dec_splice, 1); TRACE_KEY(cfg, "tcp-splice-reader", 0, &key); break;
		case V_BLOCKING: COUNT(c, dec_blocking, 1); TRACE_KEY(cfg, "tcp-blocking-reader", 0, &key); break;
		case V_SMALL: COUNT(c, dec_small, 1); TRACE_KEY(cfg, "tcp-small-writes", 0, &key); break;
		case V_SEMANTICS: COUNT(c, dec_semantics, 1); TRACE_KEY(cfg, "tcp-waitall-lowat", 0, &key); break;
		default: COUNT(c, dec_probation, 1); TRACE_KEY(cfg, "tcp-probation", 0, &key); break;
		}
		return;
	}

	/* Only this socket's sk_msg writes its mark and that cannot run before
	 * the insert below: a mark present now is a leftover of an earlier
	 * connection with the same key. */
	if (bpf_map_delete_elem(&passed, &key) == 0)
		COUNT(c, stale_marks, 1);
	/* The peer reads with splice: our direction goes via TCP from its first byte. */
	if (p && (p->flags & (server ? SVC_SPLICE_CLI : SVC_SPLICE_SRV))) {
		mark_passed(&key, c);
		COUNT(c, splice_dir_marked, 1);
	}
	err = bpf_sock_hash_update(skops, &sock_hash, &key, BPF_NOEXIST);
	if (err) {
		if (err == -E2BIG)
			COUNT(c, insert_failed_full, 1);
		else
			COUNT(c, insert_failed_other, 1);
		s->flags |= CONN_OBSERVE;
		TRACE_KEY(cfg, "insert-failed", err, &key);
		return;
	}
	s->flags |= CONN_INSERTED;
	COUNT(c, sockets_inserted, 1);
	if (p) {
		__sync_fetch_and_add(&p->accel, 1);
		COUNT(c, dec_redirect, 1);
		TRACE_KEY(cfg, "redirect", p->score, &key);
	} else {
		COUNT(c, dec_forced, 1);
		TRACE_KEY(cfg, "redirect-forced", 0, &key);
	}
}

/*
 * Our side sent its FIN (shutdown(SHUT_WR) or close). A blocking reader
 * of an inserted socket that now waits for the reply is woken by the ACK
 * of that FIN with no data, and tcp_bpf_recvmsg returns -EAGAIN. If
 * nothing redirected is unread and nobody holds the psock, the socket
 * leaves the map (its reads then go through tcp_recvmsg); the peer's
 * direction is marked first, so its later sends go via TCP, after (never
 * before) the redirected bytes already read. Neither outcome teaches the
 * service anything by itself: only a blocking read after the FIN does
 * (observe_read), since many sockets half-close and never read again.
 */
static __always_inline void on_fin_wait1(struct bpf_sock *bsk, struct sa_conn *s, struct sa_counters *c)
{
	struct sock___sa *sk;
	struct sa_key peer;

	s->flags |= SEEN_HALFCLOSED;
	if (!(s->flags & CONN_INSERTED))
		return;
	sk = (struct sock___sa *)bpf_skc_to_tcp_sock(bsk);
	if (!sk || !blocking_file(sk))
		return;
	peer_of(&s->key, &peer);
	if (!psock_idle(sk)) {
		COUNT(c, at_risk_blocking, 1);
		return;
	}
	mark_passed(&peer, c);
	if (bpf_map_delete_elem(&sock_hash, &s->key) == 0) {
		s->flags &= ~CONN_INSERTED;
		s->flags |= SEEN_RESCUED;
		COUNT(c, rescued_halfclose, 1);
	}
}

static __always_inline void on_close(struct sa_conn *s, struct sa_counters *c)
{
	/* The kernel removes the socket from sock_hash by itself; the mark is ours to remove. */
	if (bpf_map_delete_elem(&passed, &s->key) == 0)
		COUNT(c, marks_cleared, 1);
	if (s->flags & (CONN_OBSERVE | CONN_INSERTED | SEEN_RESCUED))
		fold(s, get_config(), c);
}

SEC("sockops")
int sockaccel_sockops(struct bpf_sock_ops *skops)
{
	struct sa_counters *c;
	struct sa_conn *s;
	struct bpf_sock *sk;

	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		on_established(skops, 0);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		on_established(skops, 1);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		sk = skops->sk;
		if (!sk)
			break;
		s = bpf_sk_storage_get(&conns, sk, 0, 0);
		if (!s || !(s->flags & CONN_TRACKED))
			break;
		c = get_counters();
		if (skops->args[1] == BPF_TCP_FIN_WAIT1)
			on_fin_wait1(sk, s, c);
		else if (skops->args[1] == BPF_TCP_CLOSE)
			on_close(s, c);
		break;
	}
	return 1;
}

/* Attached to each excluded cgroup (below an accelerated one): cgroup programs
 * of a child run before its parent's, so the accelerator sees the mark. */
SEC("sockops")
int sockaccel_exclude(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;
	struct sa_conn *s;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	sk = skops->sk;
	if (!sk)
		return 1;
	s = bpf_sk_storage_get(&conns, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (s)
		s->flags |= CONN_EXCLUDED;
	return 1;
}

/* ---- sk_msg: the redirect, for inserted sockets ---- */

/*
 * Ordering rule: the bytes of one direction go either all through the
 * redirect or all through TCP, except for redirect -> TCP, which is
 * order-safe (tcp_bpf_recvmsg drains the redirected queue before the TCP
 * receive queue). A socket is inserted before its application can send,
 * so every byte it sends passes here. The first time the peer is missing
 * (peer not yet ESTABLISHED, TCP_DEFER_ACCEPT, peer not inserted, map full)
 * the message goes to TCP and the direction is marked in `passed` for good.
 * Sends on one socket are serialised by its lock: check and mark cannot
 * race. Never SK_DROP: the application would see EACCES.
 */
SEC("sk_msg")
int sockaccel_msg(struct sk_msg_md *msg)
{
	struct sa_counters *c = get_counters();
	struct sa_config *cfg;
	struct sa_key self = {}, peer;
	struct sa_conn *s;
	__u64 size = msg->size;
	__u32 smallw, bulk, sample;

	if (!FILL_KEY(msg, &self) || bpf_map_lookup_elem(&passed, &self))
		goto pass;

	/* A direction of small writes is moved to TCP once it is clear (order-safe; it stays in the map). */
	s = msg->sk ? bpf_sk_storage_get(&conns, msg->sk, 0, 0) : 0;
	if (s) {
		s->writes++;
		s->bytes += size;
		if (s->last == LAST_READ)
			s->turns++;
		s->last = LAST_WRITE;
		cfg = get_config();
		if (cfg && cfg->mode == MODE_LEARN) {
			smallw = cfg->small_writes ? cfg->small_writes : 64;
			bulk = cfg->bulk_bytes ? cfg->bulk_bytes : 32768;
			sample = cfg->sample_writes ? cfg->sample_writes : 2048;
			if (s->writes == sample && s->turns * 4 < s->writes && s->bytes < s->writes * bulk && s->writes >= smallw) {
				mark_passed(&self, c);
				COUNT(c, demoted_small, 1);
				fold(s, cfg, c);
				goto pass;
			}
		}
	}

	peer_of(&self, &peer);
	if (bpf_msg_redirect_hash(msg, &sock_hash, &peer, BPF_F_INGRESS) == SK_PASS) {
		COUNT(c, redirected_msgs, 1);
		COUNT(c, redirected_bytes, size);
		return SK_PASS;
	}

	COUNT(c, lookup_misses, 1);
	mark_passed(&self, c);
	TRACE_KEY(get_config(), "miss", 0, &self);
pass:
	COUNT(c, passed_msgs, 1);
	COUNT(c, passed_bytes, size);
	return SK_PASS;
}

/* ---- Observers: plain-TCP connections of a service, and reads of inserted ones ---- */

static __always_inline void observe_write(struct sock___sa *sk, int ret)
{
	struct sa_conn *s = bpf_sk_storage_get(&conns, sk, 0, 0);
	struct sa_config *cfg;
	__u32 sample;

	if (!s || !(s->flags & CONN_OBSERVE) || (s->flags & CONN_FOLDED) || ret <= 0)
		return;
	s->writes++;
	s->bytes += ret;
	if (s->last == LAST_READ)
		s->turns++;
	s->last = LAST_WRITE;
	cfg = get_config();
	sample = cfg && cfg->sample_writes ? cfg->sample_writes : 2048;
	/* Enough seen: the service learns now, and this socket costs nothing more. */
	if (s->writes >= sample) {
		fold(s, cfg, get_counters());
		bpf_sk_storage_delete(&conns, sk);
	}
}

static __always_inline void observe_read(struct sock___sa *sk, int ret, int flags)
{
	struct sa_conn *s = bpf_sk_storage_get(&conns, sk, 0, 0);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	unsigned char state;

	if (!s || !(s->flags & CONN_TRACKED))
		return;
	if (ret > 0)
		s->last = LAST_READ;
	if (flags & MSG_DONTWAIT)
		return;
	/* A blocking read: exposed to EAGAIN in the map if a wake-up without data can come. */
	s->flags |= SEEN_BLOCKING;
	if (flags & MSG_WAITALL || sk->sk_rcvlowat > 1)
		s->flags |= SEEN_SEMANTICS;
	state = sk->__sk_common.skc_state;
	if (state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING || (s->flags & SEEN_HALFCLOSED) ||
	    bpf_map_lookup_elem(&signal_tgids, &tgid)) {
		if (!(s->flags & SEEN_RISK) && (s->flags & CONN_INSERTED))
			COUNT(get_counters(), at_risk_blocking, 1);
		s->flags |= SEEN_RISK;
	}
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(obs_send, struct sock___sa *sk, int ret, int flags)
{
	observe_write(sk, ret);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(obs_recv, struct sock___sa *sk, int ret, int flags)
{
	observe_read(sk, ret, flags);
	return 0;
}

/* Kernels without sock_send_length/sock_recv_length (before 6.3) but with BPF trampolines. */
SEC("fexit/tcp_sendmsg")
int BPF_PROG(obs_send_fexit, struct sock___sa *sk, void *msg, __u64 size, int ret)
{
	observe_write(sk, ret);
	return 0;
}

/*
 * Reads: inet(6)_recvmsg, not tcp_recvmsg, which a socket in the map no
 * longer calls (its proto's recvmsg is tcp_bpf_recvmsg): request/response
 * on an inserted socket must still count its turns. Both, because a
 * dual-stack server's sockets are AF_INET6.
 */
static __always_inline void observe_sock_read(struct socket___sa *sock, int flags, int ret)
{
	struct sock___sa *sk = sock ? sock->sk : 0;

	if (sk)
		observe_read(sk, ret, flags);
}

SEC("fexit/inet_recvmsg")
int BPF_PROG(obs_recv_fexit, struct socket___sa *sock, void *msg, __u64 size, int flags, int ret)
{
	observe_sock_read(sock, flags, ret);
	return 0;
}

SEC("fexit/inet6_recvmsg")
int BPF_PROG(obs_recv6_fexit, struct socket___sa *sock, void *msg, __u64 size, int flags, int ret)
{
	observe_sock_read(sock, flags, ret);
	return 0;
}

/*
 * A TCP read inside splice(2): tcp_splice_read -> __tcp_read_sock ->
 * tcp_rcv_space_adjust (also when it finds nothing). On an inserted socket
 * this is the moment to stop redirecting into it: only what TCP delivers
 * is visible to splice. Safe only if nothing redirected is unread yet.
 */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(obs_space, struct sock___sa *sk)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sa_counters *c;
	struct sa_conn *s;
	struct sa_key peer;

	s = bpf_sk_storage_get(&conns, sk, 0, 0);
	if (!s || !(s->flags & CONN_TRACKED) || (s->flags & SEEN_SPLICE) || !bpf_map_lookup_elem(&in_splice, &id))
		return 0;
	s->flags |= SEEN_SPLICE;
	if (!(s->flags & CONN_INSERTED))
		return 0;
	c = get_counters();
	peer_of(&s->key, &peer);
	if (psock_idle(sk)) {
		mark_passed(&peer, c);
		s->flags |= SEEN_RESCUED;
		COUNT(c, rescued_splice, 1);
	} else {
		/* Redirected bytes wait where splice cannot see them; the peer still moves to TCP. */
		mark_passed(&peer, c);
		COUNT(c, at_risk_splice, 1);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_splice")
int obs_splice_enter(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 one = 1;

	bpf_map_update_elem(&in_splice, &id, &one, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_splice")
int obs_splice_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&in_splice, &id);
	return 0;
}

/* A signal delivered to a handler: such a process's blocking reads would see EAGAIN in the map. */
SEC("tp_btf/signal_deliver")
int BPF_PROG(obs_signal, int sig, void *info, struct k_sigaction___sa *ka)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 now;
	unsigned long handler;

	if (!ka)
		return 0;
	handler = (unsigned long)ka->sa.sa_handler;
	/* SIG_DFL 0, SIG_IGN 1: no handler runs. */
	if (handler <= 1)
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&signal_tgids, &tgid, &now, BPF_ANY);
	return 0;
}
