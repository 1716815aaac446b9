// A small program for the uprobe tests: waits for a line on stdin (so the probes can be attached to
// its pid first), then calls target_add(i) for i < N and target_mul(i) for i < M, and getpid() P
// times, and prints the sum of target_add's results. Built with -O0 so the calls stay calls.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) long target_add(long x) { return x + 1000; }
__attribute__((noinline)) long target_mul(long x) { return x * 3; }

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0, m = argc > 2 ? atol(argv[2]) : 0, p = argc > 3 ? atol(argv[3]) : 0;
	char line[16];
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin))
		return 2;
	long sum = 0;
	for (long i = 0; i < n; i++)
		sum += target_add(i);
	for (long i = 0; i < m; i++)
		sum += target_mul(i);
	for (long i = 0; i < p; i++)
		getpid();
	printf("%ld\n", sum);
	return 0;
}
