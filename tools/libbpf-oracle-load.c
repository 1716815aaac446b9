// Loader half of tools/libbpf-oracle.sh: what `bpftool prog loadall OBJ PROGS pinmaps MAPS` does
// (bpf_object__open_file + bpf_object__load + pin), with the three things bpftool cannot do:
//   - programs with autoload off (SEC("?...")) are skipped when pinning, not an error;
//   - maps libbpf pinned by itself (LIBBPF_PIN_BY_NAME) stay where libbpf pinned them;
//   - freplace programs get their target: --attach-prog PINNED_PROG --attach-func NAME
//     (bpf_program__set_attach_target() on every BPF_PROG_TYPE_EXT program).
// It also writes what libbpf decided but the kernel does not report (program info has no
// expected_attach_type or flags) as JSON to META: per program its section, type, expected attach
// type, the prog_flags libbpf passed to BPF_PROG_LOAD (BPF_F_SLEEPABLE = 16, BPF_F_XDP_HAS_FRAGS =
// 32: seen by wrapping syscall(2), which libbpf calls for bpf(2)) and autoload; per map its libbpf
// name and pin path. Nothing is attached.
//
// Built by tools/libbpf-oracle.sh against the libbpf it builds for its bpftool (static libbpf.a).
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dlfcn.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* What libbpf passed to each successful BPF_PROG_LOAD, by the fd it got back (the program's fd
 * after load; feature probes' fds are closed and reused, later records overwrite them). */
static struct { long fd; __u32 prog_flags, expected_attach_type; } loads[4096];
static int nloads;

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a1, a2, a3, a4, a5, a6, r;
	va_list ap;
	int i;

	va_start(ap, nr);
	a1 = va_arg(ap, long);
	a2 = va_arg(ap, long);
	a3 = va_arg(ap, long);
	a4 = va_arg(ap, long);
	a5 = va_arg(ap, long);
	a6 = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	r = real(nr, a1, a2, a3, a4, a5, a6);
	if (nr == __NR_bpf && a1 == BPF_PROG_LOAD && r >= 0) {
		const union bpf_attr *attr = (const union bpf_attr *)a2;

		for (i = 0; i < nloads && loads[i].fd != r; i++)
			;
		if (i < (int)(sizeof(loads) / sizeof(loads[0]))) {
			loads[i].fd = r;
			loads[i].prog_flags = attr->prog_flags;
			loads[i].expected_attach_type = attr->expected_attach_type;
			if (i == nloads)
				nloads++;
		}
	}
	return r;
}

static int load_rec(int fd)
{
	int i;

	for (i = 0; i < nloads; i++)
		if (loads[i].fd == fd)
			return i;
	return -1;
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	const char *attach_prog = NULL, *attach_func = NULL;
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	char path[4096];
	int i, err, target_fd = -1, first;
	FILE *meta;

	if (argc < 5) {
		fprintf(stderr, "usage: %s OBJ PROGDIR MAPDIR META [--attach-prog PIN --attach-func NAME]\n", argv[0]);
		return 2;
	}
	for (i = 5; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--attach-prog"))
			attach_prog = argv[i + 1];
		else if (!strcmp(argv[i], "--attach-func"))
			attach_func = argv[i + 1];
	}
	libbpf_set_print(print_fn);

	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "Error: failed to open object file\n");
		return 1;
	}
	if (attach_prog) {
		target_fd = bpf_obj_get(attach_prog);
		if (target_fd < 0) {
			fprintf(stderr, "Error: cannot open attach target %s: %s\n", attach_prog, strerror(errno));
			return 1;
		}
		bpf_object__for_each_program(prog, obj) {
			if (bpf_program__type(prog) != BPF_PROG_TYPE_EXT)
				continue;
			err = bpf_program__set_attach_target(prog, target_fd, attach_func);
			if (err) {
				fprintf(stderr, "Error: set_attach_target: %d\n", err);
				return 1;
			}
		}
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "Error: failed to load object file\n");
		return 1;
	}

	meta = fopen(argv[4], "w");
	if (!meta || mkdir(argv[2], 0700) || mkdir(argv[3], 0700)) {
		fprintf(stderr, "Error: cannot create %s / %s / %s: %s\n", argv[2], argv[3], argv[4], strerror(errno));
		return 1;
	}
	fprintf(meta, "{\"programs\": {");
	first = 1;
	bpf_object__for_each_program(prog, obj) {
		const char *eat = libbpf_bpf_attach_type_str(bpf_program__expected_attach_type(prog));
		const char *pt = libbpf_bpf_prog_type_str(bpf_program__type(prog));

		fprintf(meta, "%s\n  ", first ? "" : ",");
		first = 0;
		json_str(meta, bpf_program__name(prog));
		fprintf(meta, ": {\"section\": ");
		json_str(meta, bpf_program__section_name(prog));
		fprintf(meta, ", \"libbpf_type\": ");
		json_str(meta, pt ? pt : "?");
		fprintf(meta, ", \"expected_attach_type\": ");
		json_str(meta, eat ? eat : "?");
		fprintf(meta, ", \"expected_attach_type_id\": %d, \"autoload\": %s",
			bpf_program__expected_attach_type(prog),
			bpf_program__autoload(prog) ? "true" : "false");
		i = bpf_program__fd(prog) >= 0 ? load_rec(bpf_program__fd(prog)) : -1;
		if (i >= 0)
			fprintf(meta, ", \"prog_flags\": %u, \"loaded_expected_attach_type\": %u}",
				loads[i].prog_flags, loads[i].expected_attach_type);
		else
			fprintf(meta, ", \"prog_flags\": null}");
		if (!bpf_program__autoload(prog))
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[2], bpf_program__name(prog));
		err = bpf_program__pin(prog, path);
		if (err) {
			fprintf(stderr, "Error: failed to pin program %s: %d\n", bpf_program__name(prog), err);
			return 1;
		}
	}
	fprintf(meta, "},\n \"maps\": {");
	first = 1;
	bpf_object__for_each_map(map, obj) {
		const char *pin = bpf_map__pin_path(map);
		char *c;

		fprintf(meta, "%s\n  ", first ? "" : ",");
		first = 0;
		json_str(meta, bpf_map__name(map));
		if (bpf_map__fd(map) < 0) { /* autocreate off */
			fprintf(meta, ": {\"created\": false}");
			continue;
		}
		if (!pin || !bpf_map__is_pinned(map)) {
			snprintf(path, sizeof(path), "%s/%s", argv[3], bpf_map__name(map));
			for (c = path + strlen(argv[3]) + 1; *c; c++)
				if (*c == '.')
					*c = '_';   /* bpffs refuses '.', as libbpf's own pinning does */
			err = bpf_map__pin(map, path);
			if (err) {
				fprintf(stderr, "Error: failed to pin map %s: %d\n", bpf_map__name(map), err);
				return 1;
			}
			pin = path;
		}
		fprintf(meta, ": {\"created\": true, \"pin\": ");
		json_str(meta, pin);
		fprintf(meta, "}");
	}
	fprintf(meta, "}}\n");
	fclose(meta);
	/* Exit without bpf_object__close: the pins hold what was loaded; the oracle removes them. */
	return 0;
}
