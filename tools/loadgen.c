// SPDX-License-Identifier: MIT
/*
 * loadgen: the load generator of `sockaccel-ffi bench` (src/bench), one for all transports so
 * that they are measured alike. Built by the bench with the system C compiler into a cache dir.
 *
 *   loadgen stream   tcp|unix SIZE SECONDS         one direction, write()s of SIZE bytes
 *   loadgen pingpong tcp|unix SIZE SECONDS MAXITER ping-pong of SIZE bytes, per-round-trip times
 *
 * One process: it makes the connection (TCP: 127.0.0.1, port $LOADGEN_PORT or an ephemeral one,
 * accept; unix: a socketpair), then forks. A fixed port keeps the runs of one size one "service"
 * for sockaccel's learning policy, as the connections of a real server are. Both ends therefore live in the cgroup the process was started in,
 * which is how the bench puts the accelerated peers in its temporary cgroup.
 *   stream:   the child writes SIZE-byte buffers for SECONDS, then closes; the parent reads with a
 *             128 KiB buffer (LOADGEN_RECV_BUF) until EOF and reports bytes / (first byte .. EOF).
 *   pingpong: the child echoes; the parent writes SIZE bytes, reads SIZE back, and records the
 *             round trip (CLOCK_MONOTONIC), for SECONDS or MAXITER round trips, whichever first.
 * Prints one JSON object on stdout. Every loop is bounded: by time, by count, and by alarm().
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Reader buffer: iperf3's default. It matters for sockaccel, whose reader holds the socket lock
 * (which the redirecting sender needs) while it copies: see docs/performance.md. */
static long RECV_BUF = 128 * 1024;

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A connected pair: fds[0] for the parent, fds[1] for the child. */
static void connect_pair(const char *transport, int nodelay, int fds[2])
{
	if (strcmp(transport, "unix") == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
			die("socketpair");
		return;
	}
	if (strcmp(transport, "tcp") != 0) {
		fprintf(stderr, "loadgen: transport must be tcp or unix, not %s\n", transport);
		exit(2);
	}
	int one = 1;
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		die("socket");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	const char *port = getenv("LOADGEN_PORT");
	if (port) {
		long p = atol(port);
		if (p < 1 || p > 65535) {
			fprintf(stderr, "loadgen: bad LOADGEN_PORT %s\n", port);
			exit(2);
		}
		a.sin_port = htons((uint16_t)p);
		/* The previous run's connection may still be in TIME_WAIT on this port. */
		if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
			die("SO_REUSEADDR");
	}
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&a, &al))
		die("bind/listen");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		die("socket");
	if (connect(c, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	int s = accept(ls, NULL, NULL);
	if (s < 0)
		die("accept");
	close(ls);
	if (nodelay) {
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	fds[0] = s;
	fds[1] = c;
}

/* Read exactly n bytes; 0 on EOF. */
static int read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			return 0;
		got += (size_t)r;
	}
	return 1;
}

static void write_full(int fd, const char *buf, size_t n)
{
	size_t put = 0;

	while (put < n) {
		ssize_t w = write(fd, buf + put, n - put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		put += (size_t)w;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: loadgen stream|pingpong tcp|unix SIZE SECONDS [MAXITER]\n");
		return 2;
	}
	const char *mode = argv[1], *transport = argv[2];
	long size = atol(argv[3]);
	double seconds = atof(argv[4]);
	long maxiter = argc > 5 ? atol(argv[5]) : 1000000;
	int pingpong = strcmp(mode, "pingpong") == 0;

	if (!pingpong && strcmp(mode, "stream") != 0) {
		fprintf(stderr, "loadgen: mode must be stream or pingpong\n");
		return 2;
	}
	if (size <= 0 || size > (64l << 20) || !(seconds > 0) || seconds > 3600 || maxiter <= 0 || maxiter > 100000000) {
		fprintf(stderr, "loadgen: bad SIZE, SECONDS or MAXITER\n");
		return 2;
	}
	if (getenv("LOADGEN_RECV_BUF"))
		RECV_BUF = atol(getenv("LOADGEN_RECV_BUF"));
	if (RECV_BUF < 1 || RECV_BUF > (64l << 20)) {
		fprintf(stderr, "loadgen: bad LOADGEN_RECV_BUF\n");
		return 2;
	}
	/* Safety net: never outlive the run by much, whatever happens. */
	alarm((unsigned)seconds + 10);
	signal(SIGPIPE, SIG_IGN);

	int fds[2];
	connect_pair(transport, pingpong, fds);
	char *buf = malloc(size > RECV_BUF ? (size_t)size : RECV_BUF);
	if (!buf)
		die("malloc");
	memset(buf, 'x', size > RECV_BUF ? (size_t)size : RECV_BUF);

	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(fds[0]);
		int fd = fds[1];
		if (pingpong) {
			while (read_full(fd, buf, (size_t)size))
				write_full(fd, buf, (size_t)size);
		} else {
			uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
			long n = 0;
			/* Check the clock every 64 writes: cheap, and still bounded in time. */
			for (;;) {
				write_full(fd, buf, (size_t)size);
				if ((++n & 63) == 0 && now_ns() >= end)
					break;
			}
		}
		close(fd);
		_exit(0);
	}
	close(fds[1]);
	int fd = fds[0];

	if (pingpong) {
		uint64_t *rtt = malloc(sizeof(*rtt) * (size_t)maxiter);
		if (!rtt)
			die("malloc");
		uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9), sum = 0;
		long n = 0;
		while (n < maxiter) {
			uint64_t t0 = now_ns();
			write_full(fd, buf, (size_t)size);
			if (!read_full(fd, buf, (size_t)size)) {
				fprintf(stderr, "loadgen: echo peer closed early\n");
				return 1;
			}
			uint64_t t1 = now_ns();
			rtt[n++] = t1 - t0;
			sum += t1 - t0;
			if (t1 >= end)
				break;
		}
		shutdown(fd, SHUT_WR);
		qsort(rtt, (size_t)n, sizeof(*rtt), cmp_u64);
		printf("{\"mode\":\"pingpong\",\"transport\":\"%s\",\"size\":%ld,\"iterations\":%ld,"
		       "\"p50Us\":%.3f,\"p99Us\":%.3f,\"minUs\":%.3f,\"meanUs\":%.3f}\n",
		       transport, size, n, rtt[n / 2] / 1e3, rtt[(size_t)((n - 1) * 0.99)] / 1e3,
		       rtt[0] / 1e3, (double)sum / n / 1e3);
	} else {
		uint64_t bytes = 0, reads = 0, first = 0, last = 0, first_bytes = 0;
		for (;;) {
			ssize_t r = read(fd, buf, RECV_BUF);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				die("read");
			if (r == 0)
				break;
			last = now_ns();
			if (!bytes) {
				first = last;
				first_bytes = (uint64_t)r;
			}
			bytes += (uint64_t)r;
			reads++;
		}
		/* The first read's bytes arrived before `first`: leave them out of the rate. */
		double secs = (last - first) / 1e9;
		printf("{\"mode\":\"stream\",\"transport\":\"%s\",\"size\":%ld,\"bytes\":%llu,\"reads\":%llu,"
		       "\"seconds\":%.6f,\"gbps\":%.4f}\n",
		       transport, size, (unsigned long long)bytes, (unsigned long long)reads, secs,
		       secs > 0 ? (bytes - first_bytes) * 8 / secs / 1e9 : 0.0);
	}
	close(fd);
	int st = 0;
	if (waitpid(child, &st, 0) < 0)
		die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "loadgen: child failed (status %d)\n", st);
		return 1;
	}
	return 0;
}
