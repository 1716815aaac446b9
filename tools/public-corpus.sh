#!/usr/bin/env bash
# Measure libbpf on a broad public corpus available offline: the Linux 6.12 BPF selftests' programs
# (tools/testing/selftests/bpf/progs) and the seed tutorial's objects (/work/shared/seed, its C
# extracted from the markdown). Compiled with this machine's clang into .cache/public-corpus (not
# committed), then each object goes through tools/libbpf-oracle.sh (load only, never attach).
#
#   tools/public-corpus.sh [--sample N] [--jobs J] [--list OUT.txt]
#
#   --sample N  measure at most N selftest sources: every k-th of the sorted list (deterministic);
#               default 0 = all. The tutorial objects are always measured.
#   --jobs J    parallel compiles/oracle runs (default: nproc).
#   --list F    write the names of the objects libbpf loads to F (default
#               bpf/corpus/public-loaded-host-$(uname -r | cut -d. -f1,2).txt), one per line, so a
#               loader can later be measured on exactly those.
# Prints: sources, compiled, failed to compile (clang 14 cannot build much of 6.12's selftests:
# newer builtins, BTF tags, arena address spaces, ...), loaded by libbpf, refused by libbpf with the
# top reasons. Per-object oracle JSON stays in .cache/public-corpus/oracle/.
#
# Inputs: $LINUX_SOURCE_TARBALL (default /work/ksrc/x/usr/src/linux-source-6.12.tar.xz), the running
# kernel's BTF (/sys/kernel/btf/vmlinux -> vmlinux.h), the libbpf headers the oracle's bpftool build
# generated (.cache/oracle-bpftool/libbpf/include: libbpf 1.5 with bpf_helper_defs.h).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache/public-corpus"
sample=0
jobs="$(nproc)"
list="$root/bpf/corpus/public-loaded-host-$(uname -r | cut -d. -f1,2).txt"
while [ $# -gt 0 ]; do
  case "$1" in
    --sample) sample="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --list) list="$2"; shift 2 ;;
    *) echo "usage: $0 [--sample N] [--jobs J] [--list OUT.txt]" >&2; exit 2 ;;
  esac
done
CLANG="${CLANG:-clang}"
tarball="${LINUX_SOURCE_TARBALL:-/work/ksrc/x/usr/src/linux-source-6.12.tar.xz}"
T0=$(date +%s)
log() { echo "[public-corpus $(( $(date +%s) - T0 ))s] $*" >&2; }

# ---- inputs --------------------------------------------------------------------------------
bpftool="$("$root/tools/libbpf-oracle.sh" --bpftool | head -1)"
inc="$root/.cache/oracle-bpftool/libbpf/include"
[ -f "$inc/bpf/bpf_helper_defs.h" ] || { echo "public-corpus: no $inc (the oracle's bpftool build makes it)" >&2; exit 2; }
src="$cache/src/linux-source-6.12"
if [ ! -d "$src/tools/testing/selftests/bpf/progs" ]; then
  [ -f "$tarball" ] || { echo "public-corpus: no $tarball" >&2; exit 2; }
  log "extracting tools/ from $tarball"
  mkdir -p "$cache/src"
  top="$(tar -tJf "$tarball" | head -1 | cut -d/ -f1)"
  tar -xJf "$tarball" -C "$cache/src" "$top/tools" "$top/include/uapi"
  [ "$top" = linux-source-6.12 ] || mv "$cache/src/$top" "$src"
fi
sel="$src/tools/testing/selftests/bpf"
mkdir -p "$cache/obj" "$cache/oracle" "$cache/cc-errors" "$cache/tutorial"
[ -s "$cache/vmlinux.h" ] || "$bpftool" btf dump file /sys/kernel/btf/vmlinux format c >"$cache/vmlinux.h"

# The tutorial's sources: each "```c" block right after a line naming a file.
python3 - "$cache/tutorial" /work/shared/seed/*.md <<'PY' || true
import re, sys, os
out = sys.argv[1]
for md in sys.argv[2:]:
    lines = open(md).read().splitlines()
    for i, l in enumerate(lines):
        if l.strip() == "```c":
            name = next((lines[j].strip() for j in range(i - 1, max(i - 4, -1), -1) if lines[j].strip()), "")
            if re.fullmatch(r"[\w.-]+\.(bpf\.c|h)", name):
                end = lines.index("```", i + 1)
                open(os.path.join(out, name), "w").write("\n".join(lines[i + 1:end]) + "\n")
PY
cp "$cache/vmlinux.h" "$cache/tutorial/vmlinux.h"

# ---- which sources -------------------------------------------------------------------------
mapfile -t all < <(cd "$sel/progs" && ls *.c | LC_ALL=C sort)
if [ "$sample" -gt 0 ] && [ "$sample" -lt "${#all[@]}" ]; then
  picked=()
  for ((i = 0; i < sample; i++)); do picked+=("${all[$(( i * ${#all[@]} / sample ))]}"); done
else
  picked=("${all[@]}")
fi
log "${#picked[@]} of ${#all[@]} selftest sources, $(ls "$cache/tutorial"/*.bpf.c 2>/dev/null | wc -l) tutorial sources"

# ---- compile -------------------------------------------------------------------------------
# The selftests Makefile's BPF flags (CLANG_CFLAGS + BPF_CFLAGS), minus -Werror, for x86-64.
# BPF_NO_KFUNC_PROTOTYPES: a vmlinux.h from a newer kernel (6.18) declares kfuncs whose prototypes
# changed since 6.12 (e.g. bpf_path_d_path's const); the selftests declare their own.
CFLAGS=(-g -O2 -target bpf -mcpu=v3 -mlittle-endian -D__TARGET_ARCH_x86 -DBPF_NO_KFUNC_PROTOTYPES -std=gnu11
  -fno-strict-aliasing -Wno-compare-distinct-pointer-types -Wno-error
  -I"$cache" -I"$sel" -I"$sel/progs" -I"$inc" -I"$src/tools/include/uapi" -I"$src/tools/include"
  -idirafter /usr/include/x86_64-linux-gnu -idirafter /usr/include)
export CLANG cache sel
compile() { # $1 = selftest source name or tutorial:NAME
  local name="$1" dir out base
  case "$name" in
    tutorial:*) base="${name#tutorial:}"; dir="$cache/tutorial"; out="$cache/obj/tutorial-${base%.c}.o" ;;
    *) base="$name"; dir="$sel/progs"; out="$cache/obj/${base%.c}.bpf.o" ;;
  esac
  [ -s "$out" ] && return 0
  if ! (cd "$dir" && timeout 120 "$CLANG" "${CFLAGS[@]}" -c "$base" -o "$out.tmp") >"$cache/cc-errors/${out##*/}.txt" 2>&1; then
    rm -f "$out.tmp"; return 0
  fi
  mv "$out.tmp" "$out"; rm -f "$cache/cc-errors/${out##*/}.txt"
}
export -f compile
export CFLAGS_STR="${CFLAGS[*]}"
srcs=("${picked[@]}")
for t in "$cache/tutorial"/*.bpf.c; do [ -f "$t" ] && srcs+=("tutorial:${t##*/}"); done
log "compiling ${#srcs[@]} sources with $("$CLANG" --version | head -1) ($jobs jobs)"
printf '%s\n' "${srcs[@]}" | xargs -P "$jobs" -I{} bash -c 'CFLAGS=($CFLAGS_STR); compile "$1"' _ {}

objs=()
nfail=0
for s in "${srcs[@]}"; do
  case "$s" in tutorial:*) o="tutorial-${s#tutorial:}"; o="${o%.c}.o" ;; *) o="${s%.c}.bpf.o" ;; esac
  if [ -s "$cache/obj/$o" ]; then objs+=("$o"); else nfail=$((nfail + 1)); fi
done
log "compiled ${#objs[@]}, failed $nfail"

# ---- libbpf oracle -------------------------------------------------------------------------
log "running the libbpf oracle on ${#objs[@]} objects"
export root cache
printf '%s\n' "${objs[@]}" | xargs -P "$jobs" -I{} bash -c '
  o="$1"; j="$cache/oracle/${o%.o}.json"
  [ -s "$j" ] && exit 0
  timeout 120 "$root/tools/libbpf-oracle.sh" "$cache/obj/$o" "$j.tmp" 2>"$j.stderr" && mv "$j.tmp" "$j" ||
    { echo "{\"object\": \"$o\", \"loaded\": false, \"error\": \"oracle: timeout or failure\"}" >"$j"; rm -f "$j.tmp"; }' _ {}

# ---- report --------------------------------------------------------------------------------
python3 - "$cache" "$list" "$nfail" "${#srcs[@]}" "${objs[@]}" <<'PY'
import json, os, re, sys, collections
cache, listf, nfail, nsrc, objs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
loaded, refused = [], collections.Counter()
examples = {}
def reason(err):
    e = err or ""
    rules = [
        (r"Operation not permitted|permission error", "kernel: EPERM (trampolines: fentry/fexit/fmod_ret/lsm/freplace/struct_ops here)"),
        (r"failed to guess program type|missing BPF prog type", "libbpf: unknown section name"),
        (r"attach program FD is not set|attach_prog_fd", "libbpf: freplace without a target program"),
        (r"extern \(func ksym\) '[^']+': not found", "libbpf: kfunc not in kernel BTF"),
        (r"extern \(var ksym\) '[^']+': not found|failed to find BTF for extern", "libbpf: ksym variable not in kernel BTF"),
        (r"extern .* not resolved|kcfg", "libbpf: extern (kconfig/ksym) unresolved"),
        (r"bpf_testmod", "libbpf: needs the selftests' bpf_testmod module (its BTF types/functions)"),
        (r"failed to find kernel BTF type ID|failed to find BTF ID|cannot find .* in kernel BTF", "libbpf: attach target not in kernel BTF"),
        (r"struct_ops init_kern: .* is not found in kernel BTF", "libbpf: struct_ops type not in kernel BTF"),
        (r"program isn't referenced anywhere", "libbpf: struct_ops program not in any struct_ops map"),
        (r"relo #|CO-RE|core_relo|failed to resolve CO-RE", "libbpf: CO-RE relocation failed"),
        (r"legacy map definitions", "libbpf: legacy 'maps' section"),
        (r"failed to create map|map .*create", "kernel: map creation refused"),
        (r"kfunc|calling kernel function", "kernel: kfunc not allowed here"),
        (r"ldimm64 failed to find the address", "kernel: ksym address not in kallsyms (KALLSYMS_ALL off)"),
        (r"verifier:|BPF program load failed: (Invalid argument|Permission denied)", "kernel: verifier refused the program"),
        (r"BPF program load failed", "kernel: program load failed (other errno)"),
        (r"timeout", "oracle timeout"),
        (r"failed to (open|load) object", "libbpf: other"),
    ]
    for pat, name in rules:
        if re.search(pat, e):
            return name
    return "other: " + (e.splitlines() or [""])[-1][:80]
for o in objs:
    j = os.path.join(cache, "oracle", o[:-2] + ".json")
    try:
        d = json.load(open(j))
    except Exception as ex:
        d = {"loaded": False, "error": f"oracle output unreadable: {ex}"}
    if d.get("loaded"):
        loaded.append(o)
    else:
        r = reason(d.get("error"))
        refused[r] += 1
        examples.setdefault(r, o)
print(f"sources              {nsrc}")
print(f"compiled             {len(objs)}")
print(f"failed to compile    {nfail}")
print(f"loaded by libbpf     {len(loaded)}")
print(f"refused by libbpf    {len(objs) - len(loaded)}")
print("top reasons (count, reason, one example):")
for r, n in refused.most_common(12):
    print(f"  {n:5d}  {r}   e.g. {examples[r]}")
with open(listf, "w") as f:
    f.write("# Public-corpus objects libbpf (tools/libbpf-oracle.sh) loads on this kernel; tools/public-corpus.sh\n")
    for o in sorted(loaded):
        f.write(o + "\n")
print(f"list of loaded objects: {listf}")
PY
log "done"
