#!/usr/bin/env bash
# Builds every bpf/*.bpf.c and bpf/fixtures/*.bpf.c into the .bpf.o next to it.
#   tools/build-bpf.sh          rebuild the committed objects, and record the compiler in bpf/BUILT_WITH
#   tools/build-bpf.sh --check  build into a temp dir with the compiler bpf/BUILT_WITH names; exit 1
#                               naming each committed .o that differs. Exit 3 (skipped, with the reason)
#                               when this machine has no clang of that version: another version's
#                               output differs byte for byte, which says nothing about the sources.
# Exit 2: usage, or a tool or header missing (named with the package to install).
#
# clang: $CLANG, else `clang`, else the highest `clang-NN` on PATH; llvm-strip: $LLVM_STRIP, else
# `llvm-strip-NN` of the same LLVM major version, else `llvm-strip`.
#
# The output must be byte-identical from any checkout directory, because the objects are committed and
# --check compares them: each file is compiled from inside its own directory with a relative name,
# -fdebug-prefix-map rewrites whatever absolute path is left, and DWARF is stripped (it carries the
# compile directory). .BTF/.BTF.ext are not debug sections, so `llvm-strip --strip-debug` keeps them.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
record="$root/bpf/BUILT_WITH"
mode=build
case "${1:-}" in
  --check) mode=check ;;
  '') ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
PACKAGES="clang llvm libbpf-dev linux-libc-dev"
missing() { echo "build-bpf: $1 not found (apt install $2; all of it: apt install $PACKAGES)" >&2; exit 2; }

# The highest NAME-NN command on PATH (clang-19 over clang-14), or nothing.
highest() { compgen -c "$1-" | grep -x -- "$1-[0-9][0-9]*" | sort -V | tail -n 1 || true; }
# "14.0.6" from "Debian clang version 14.0.6" (or "Ubuntu clang version 14.0.0-1ubuntu1").
version_of() { "$1" --version 2>/dev/null | head -n 1 | grep -oE 'version [0-9]+(\.[0-9]+)*' | cut -d' ' -f2 || true; }
# Every clang on PATH: clang, clang-NN.
all_clangs() { { command -v clang >/dev/null 2>&1 && echo clang; compgen -c clang- | grep -x -- 'clang-[0-9][0-9]*' | sort -Vr; } | awk '!seen[$0]++' || true; }

if [ "$mode" = check ]; then
  [ -f "$record" ] || { echo "build-bpf: ${record#"$root"/} is missing: nothing says which compiler built the committed objects (run npm run build:bpf)" >&2; exit 1; }
  want="$(sed -n 's/^clang-version: //p' "$record")"
  [ -n "$want" ] || { echo "build-bpf: ${record#"$root"/} has no clang-version line (run npm run build:bpf)" >&2; exit 1; }
  if [ -n "${CLANG:-}" ]; then candidates="$CLANG"; else candidates="$(all_clangs)"; fi
  [ -n "$candidates" ] || missing clang clang
  CLANG=
  have=()
  for c in $candidates; do
    command -v "$c" >/dev/null 2>&1 || continue
    v="$(version_of "$c")"
    have+=("$c $v")
    if [ "$v" = "$want" ]; then CLANG="$c"; break; fi
  done
  if [ -z "$CLANG" ]; then
    [ ${#have[@]} -gt 0 ] || missing "${candidates%% *}" clang
    joined="$(printf '%s, ' "${have[@]}")"
    echo "skipped: committed objects were built with clang $want; this machine has ${joined%, } (install clang $want, or run npm run build:bpf to rebuild them with this one)"
    exit 3
  fi
else
  if [ -z "${CLANG:-}" ]; then
    if command -v clang >/dev/null 2>&1; then CLANG=clang; else CLANG="$(highest clang)"; fi
  fi
  [ -n "$CLANG" ] && command -v "$CLANG" >/dev/null 2>&1 || missing "${CLANG:-clang}" clang
fi
clang_version="$(version_of "$CLANG")"
[ -n "$clang_version" ] || { echo "build-bpf: cannot tell the version of $CLANG ($("$CLANG" --version 2>&1 | head -n 1))" >&2; exit 2; }
if [ -z "${LLVM_STRIP:-}" ]; then
  for s in "llvm-strip-${clang_version%%.*}" llvm-strip; do
    if command -v "$s" >/dev/null 2>&1; then LLVM_STRIP="$s"; break; fi
  done
fi
[ -n "${LLVM_STRIP:-}" ] && command -v "$LLVM_STRIP" >/dev/null 2>&1 || missing "${LLVM_STRIP:-llvm-strip}" llvm
STRIP="$LLVM_STRIP"

# <linux/bpf.h> includes <asm/types.h>, which lives in the multiarch include dir; -target bpf does
# not search it. The asm/types.h it finds is the same on every 64-bit Linux arch.
multiarch_inc="/usr/include/$(uname -m)-linux-gnu"
case "$(uname -m)" in aarch64) multiarch_inc=/usr/include/aarch64-linux-gnu ;; esac
[ -d "$multiarch_inc" ] && [ -f /usr/include/linux/bpf.h ] || missing "$multiarch_inc, /usr/include/linux/bpf.h" linux-libc-dev
[ -f /usr/include/bpf/bpf_helpers.h ] || missing /usr/include/bpf/bpf_helpers.h libbpf-dev

# -mcpu=v3: 32-bit jumps and ALU32 give shorter code; every kernel we support (5.x+) runs v3.
CFLAGS=(-O2 -g -target bpf -mcpu=v3 -Wall -Werror -idirafter "$multiarch_inc" -I"$root/bpf")
# How bpf/BUILT_WITH writes them: without this machine's paths.
flags="$(printf '%s ' "${CFLAGS[@]}" -fdebug-prefix-map='<dir>'=. -fdebug-prefix-map='<repo>'=.)"
flags="${flags//"$multiarch_inc"/<multiarch include dir>}"
flags="${flags//"$root"/<repo>}"
flags="${flags% }; then $(basename "$STRIP" | sed 's/-[0-9]*$//') --strip-debug"

status=0
if [ "$mode" = check ]; then
  recorded="$(sed -n 's/^flags: //p' "$record")"
  if [ "$recorded" != "$flags" ]; then
    echo "build-bpf: ${record#"$root"/} records the flags \"$recorded\", this script uses \"$flags\" (run npm run build:bpf)" >&2
    status=1
  fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

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
  ) || { echo "build-bpf: failed to compile $rel with $CLANG ($clang_version)" >&2; exit 1; }
  "$STRIP" --strip-debug "$built"
  committed="$dir/$base.o"
  if [ "$mode" = check ]; then
    if ! cmp -s "$built" "$committed"; then
      echo "build-bpf: ${committed#"$root"/} differs from what $rel builds to with $CLANG ($clang_version) (run npm run build:bpf)" >&2
      status=1
    fi
  else
    cp "$built" "$committed"
    echo "built ${committed#"$root"/}"
  fi
done

if [ "$mode" = build ]; then
  cat >"$record" <<EOF
# The compiler that built the committed bpf/*.bpf.o and bpf/fixtures/*.bpf.o, written by
# tools/build-bpf.sh (npm run build:bpf). \`tools/build-bpf.sh --check\` rebuilds them with a clang
# of this version (clang, or clang-NN on PATH) and compares byte for byte; it skips without one.
clang: $("$CLANG" --version | head -n 1)
clang-version: $clang_version
llvm-strip: $("$STRIP" --version | grep -m 1 -i 'llvm version' || true)
flags: $flags
EOF
  echo "recorded $CLANG ($clang_version) in ${record#"$root"/}"
else
  [ $status = 0 ] && echo "build-bpf: the committed objects are what clang $clang_version ($CLANG) builds from their sources"
fi
exit "$status"
