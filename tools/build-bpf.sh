#!/usr/bin/env bash
# Builds every bpf/*.bpf.c and bpf/fixtures/*.bpf.c into the .bpf.o next to it.
#   tools/build-bpf.sh          rebuild the committed objects
#   tools/build-bpf.sh --check  build into a temp dir; exit 1 naming each committed .o that differs
#
# The output must be byte-identical from any checkout directory, because the objects are committed and
# --check compares them: each file is compiled from inside its own directory with a relative name,
# -fdebug-prefix-map rewrites whatever absolute path is left, and DWARF is stripped (it carries the
# compile directory). .BTF/.BTF.ext are not debug sections, so `llvm-strip --strip-debug` keeps them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=build
case "${1:-}" in
  --check) mode=check ;;
  '') ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

CLANG="${CLANG:-clang}"
STRIP="${LLVM_STRIP:-llvm-strip}"
for tool in "$CLANG" "$STRIP"; do
  command -v "$tool" >/dev/null || { echo "build-bpf: $tool not found (apt install clang llvm libbpf-dev linux-libc-dev)" >&2; exit 2; }
done

# <linux/bpf.h> includes <asm/types.h>, which lives in the multiarch include dir; -target bpf does
# not search it. The asm/types.h it finds is the same on every 64-bit Linux arch.
multiarch_inc="/usr/include/$(uname -m)-linux-gnu"
case "$(uname -m)" in aarch64) multiarch_inc=/usr/include/aarch64-linux-gnu ;; esac
[ -d "$multiarch_inc" ] || { echo "build-bpf: $multiarch_inc missing (apt install linux-libc-dev)" >&2; exit 2; }

# -mcpu=v3: 32-bit jumps and ALU32 give shorter code; every kernel we support (5.x+) runs v3.
CFLAGS=(-O2 -g -target bpf -mcpu=v3 -Wall -Werror -idirafter "$multiarch_inc" -I"$root/bpf")

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

status=0
shopt -s nullglob
for src in "$root"/bpf/*.bpf.c "$root"/bpf/fixtures/*.bpf.c "$root"/bpf/corpus/*.bpf.c; do
  dir="$(dirname "$src")"
  base="$(basename "$src" .c)"
  rel="${src#"$root"/}"
  built="$tmp/$base.$(echo "$rel" | tr / _).o"
  (
    cd "$dir"
    "$CLANG" "${CFLAGS[@]}" -fdebug-prefix-map="$dir"=. -fdebug-prefix-map="$root"=. \
      -c "$base.c" -o "$built"
  ) || { echo "build-bpf: failed to compile $rel" >&2; exit 1; }
  "$STRIP" --strip-debug "$built"
  committed="$dir/$base.o"
  if [ "$mode" = check ]; then
    if ! cmp -s "$built" "$committed"; then
      echo "build-bpf: ${committed#"$root"/} differs from what $rel builds to (run npm run build:bpf)" >&2
      status=1
    fi
  else
    cp "$built" "$committed"
    echo "built ${committed#"$root"/}"
  fi
done
exit "$status"
