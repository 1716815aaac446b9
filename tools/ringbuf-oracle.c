// The C side of tools/bench-events.ts: the producer every consumer is measured against, and
// libbpf's ring_buffer__poll as the reference consumer. Built by the bench with
//   cc -O2 -o ringbuf-oracle tools/ringbuf-oracle.c -lbpf      (libbpf-dev)
//
//   ringbuf-oracle produce PROG_PIN RATE SECONDS BATCH SIZE
//     Runs the pinned raw_tp program ring_output (bpf/fixtures/events.bpf.c) with BPF_PROG_TEST_RUN,
//     BATCH records of SIZE bytes per run, paced so that RATE records/s are offered (0: flat out),
//     for SECONDS; each record carries bpf_ktime_get_ns() at bytes 16..23. Prints {"offered":N,"runs":R,"seconds":S}.
//   ringbuf-oracle consume MAP_PIN SECONDS
//     Prints "ready", then reads the pinned ring buffer with ring_buffer__poll for SECONDS, timing
//     every record (CLOCK_MONOTONIC). Prints {"events":N,"first_ns":…,"last_ns":…,"gaps":G,
//     "disorder":D,"cpu_ns":C,"latency":{"p50":µs,"p99":µs,"samples":K}}: gaps = sequence numbers never
//     seen (records the producer dropped), disorder = records whose sequence number went backwards,
//     latency = from the program's output to the callback, of every 64th record.
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static int open_pin(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0) {
		fprintf(stderr, "ringbuf-oracle: bpf_obj_get(%s): %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

static int produce(const char *pin, double rate, double seconds, unsigned batch, unsigned size)
{
	/* args: count, size, step, span, flags, stamp (every record carries bpf_ktime_get_ns()). */
	uint64_t ctx[12] = { batch, size, 0, 0, 0, 1 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = sizeof(ctx));
	int fd = open_pin(pin);
	uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9), runs = 0;

	for (;;) {
		uint64_t t = now_ns();

		if (t >= end)
			break;
		if (rate > 0) {
			/* Run k starts at start + k * batch / rate: a steady rate, however long each run takes. */
			uint64_t due = start + (uint64_t)((double)runs * batch / rate * 1e9);

			if (due > t) {
				struct timespec ts = { due / 1000000000ull, due % 1000000000ull };

				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			}
		}
		if (bpf_prog_test_run_opts(fd, &opts)) {
			fprintf(stderr, "ringbuf-oracle: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			return 2;
		}
		runs++;
	}
	printf("{\"offered\":%llu,\"runs\":%llu,\"seconds\":%.6f}\n", (unsigned long long)(runs * batch), (unsigned long long)runs, (now_ns() - start) / 1e9);
	return 0;
}

#define LATENCY_EVERY 64
#define LATENCY_MAX (1u << 20)

struct tally {
	uint64_t events, first_ns, last_ns, gaps, disorder, next_seq;
	/* Output-to-callback latency of every LATENCY_EVERY-th record (by sequence number). */
	uint64_t *latency;
	unsigned latencies;
};

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double percentile(uint64_t *xs, unsigned n, double p)
{
	return n ? xs[(unsigned)((n - 1) * p / 100)] / 1e3 : 0;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct tally *t = ctx;
	uint64_t seq = *(uint64_t *)data;
	uint64_t ts = now_ns();

	if (t->events == 0)
		t->first_ns = ts;
	else if (seq > t->next_seq)
		t->gaps += seq - t->next_seq;
	else if (seq < t->next_seq)
		t->disorder++;
	if (seq % LATENCY_EVERY == 0 && len >= 24 && t->latencies < LATENCY_MAX)
		t->latency[t->latencies++] = ts - *(uint64_t *)((char *)data + 16);
	t->last_ns = ts;
	t->next_seq = seq + 1;
	t->events++;
	return 0;
}

static int consume(const char *pin, double seconds)
{
	uint64_t *latency = calloc(LATENCY_MAX, sizeof(uint64_t));
	struct tally t = { .latency = latency };
	struct ring_buffer *rb = ring_buffer__new(open_pin(pin), on_record, &t, NULL);
	uint64_t end, cpu0;

	if (!rb) {
		fprintf(stderr, "ringbuf-oracle: ring_buffer__new: %s\n", strerror(errno));
		return 2;
	}
	/* Whatever an earlier run left is not ours to count. */
	ring_buffer__consume(rb);
	t = (struct tally){ .latency = latency };
	printf("ready\n");
	fflush(stdout);
	cpu0 = cpu_ns();
	end = now_ns() + (uint64_t)(seconds * 1e9);
	while (now_ns() < end) {
		int err = ring_buffer__poll(rb, 50);

		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "ringbuf-oracle: ring_buffer__poll: %s\n", strerror(-err));
			return 2;
		}
	}
	cpu0 = cpu_ns() - cpu0;
	qsort(t.latency, t.latencies, sizeof(uint64_t), by_value);
	printf("{\"events\":%llu,\"first_ns\":%llu,\"last_ns\":%llu,\"gaps\":%llu,\"disorder\":%llu,\"cpu_ns\":%llu,"
	       "\"latency\":{\"p50\":%.3f,\"p99\":%.3f,\"samples\":%u}}\n",
	       (unsigned long long)t.events, (unsigned long long)t.first_ns, (unsigned long long)t.last_ns,
	       (unsigned long long)t.gaps, (unsigned long long)t.disorder, (unsigned long long)cpu0,
	       percentile(t.latency, t.latencies, 50), percentile(t.latency, t.latencies, 99), t.latencies);
	ring_buffer__free(rb);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "produce"))
		return produce(argv[2], atof(argv[3]), atof(argv[4]), atoi(argv[5]), atoi(argv[6]));
	if (argc == 4 && !strcmp(argv[1], "consume"))
		return consume(argv[2], atof(argv[3]));
	fprintf(stderr, "usage: %s produce PROG_PIN RATE SECONDS BATCH SIZE | consume MAP_PIN SECONDS\n", argv[0]);
	return 2;
}
