#!/usr/bin/env bash
# libbpf as a test oracle: load one BPF object with libbpf (through `bpftool prog loadall`, never
# attaching) and print what libbpf made of it as JSON.
#
#   tools/libbpf-oracle.sh OBJECT.bpf.o [OUT.json]   load, describe, unload; JSON to OUT or stdout
#   tools/libbpf-oracle.sh --bpftool                 print the bpftool and loader it uses (building them)
#   LIBBPF_ORACLE_TARGET=TARGET.bpf.o:PROG:FUNC tools/libbpf-oracle.sh FREPLACE.bpf.o
#                                                    freplace: load TARGET first, aim EXT programs at PROG's FUNC
#
# The JSON (see tools/libbpf-oracle.py): {"loaded": true, programs: [name, type, tag, bytes_xlated,
# maps, attach_btf], maps: [name, type, key/value size, max_entries, flags, map_extra, frozen,
# contents]} or {"loaded": false, "error": "<libbpf's and bpftool's last lines>"}. Exit status 0
# in both cases (libbpf refusing an object is a result); 2 when the oracle itself cannot run.
#
# Which libbpf: Debian 12's bpftool embeds libbpf 1.1, which predates tcx/netkit/netfilter/
# uprobe.multi/arena. So by default the oracle uses a bpftool built from a Linux 6.12 source tree
# (bpftool 7.5, libbpf 1.5), built once into .cache/oracle-bpftool from the tarball named by
# $LINUX_SOURCE_TARBALL (default: the first of /usr/src/linux-source-6.12.tar.xz,
# /work/ksrc/x/usr/src/linux-source-6.12.tar.xz that exists; needs make, gcc, libelf-dev, zlib1g-dev,
# clang). $BPFTOOL overrides all that (e.g. BPFTOOL=/usr/sbin/bpftool for Debian's libbpf 1.1). With
# no tarball and no $BPFTOOL it falls back to `bpftool` on PATH and says so on stderr.
#
# Isolation: the load runs in a private mount namespace on a fresh, empty bpffs mounted over
# /sys/fs/bpf, so the pins (DIR = /sys/fs/bpf/oracle-$$, and whatever libbpf pins by itself for
# `pinning = LIBBPF_PIN_BY_NAME` maps) are invisible to everything else and vanish with the
# namespace; the trap also removes them explicitly, on success and on failure. Nothing is attached:
# `prog loadall` without `autoattach` only loads and pins. Kernel-agnostic: needs root, bpffs,
# unshare (util-linux), python3 — the same on this host and in the tools/vm guests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
self="$root/tools/libbpf-oracle.sh"

oracle_bpftool() {
  if [ -n "${BPFTOOL:-}" ]; then echo "$BPFTOOL"; return; fi
  local built="$root/.cache/oracle-bpftool/bpftool"
  if [ -x "$built" ]; then echo "$built"; return; fi
  local tarball="${LINUX_SOURCE_TARBALL:-}"
  if [ -z "$tarball" ]; then
    for t in /usr/src/linux-source-6.12.tar.xz /work/ksrc/x/usr/src/linux-source-6.12.tar.xz; do
      [ -f "$t" ] && { tarball="$t"; break; }
    done
  fi
  if [ -z "$tarball" ]; then
    echo "libbpf-oracle: no Linux source tarball to build a recent bpftool from; using $(command -v bpftool) ($(bpftool version 2>/dev/null | sed -n 2p))" >&2
    command -v bpftool
    return
  fi
  echo "libbpf-oracle: building bpftool (and its libbpf) from $tarball into .cache/oracle-bpftool" >&2
  local src="$root/.cache/oracle-bpftool/src"
  rm -rf "$src" && mkdir -p "$src"
  local top
  top="$(tar -tJf "$tarball" | head -1 | cut -d/ -f1)"
  tar -xJf "$tarball" -C "$src" "$top/tools" "$top/include/uapi" "$top/kernel/bpf" "$top/scripts" >&2
  make -s -C "$src/$top/tools/bpf/bpftool" -j"$(nproc)" OUTPUT="$root/.cache/oracle-bpftool/" >&2 ||
    { echo "libbpf-oracle: bpftool build failed (needs make gcc libelf-dev zlib1g-dev clang)" >&2; exit 2; }
  rm -rf "$src"
  echo "$built"
}

# The loader: tools/libbpf-oracle-load.c linked with the libbpf.a the bpftool build left in
# .cache/oracle-bpftool (so: the same libbpf as that bpftool). Without it (a $BPFTOOL of your own),
# `bpftool prog loadall` loads, which cannot pin around SEC("?...") programs, pins maps twice for
# LIBBPF_PIN_BY_NAME (worked around) and cannot load freplace programs. LIBBPF_ORACLE_LOADER=bpftool
# forces that path.
oracle_loader() {
  [ "${LIBBPF_ORACLE_LOADER:-}" = bpftool ] && return 0
  local d="$root/.cache/oracle-bpftool"
  [ "$1" = "$d/bpftool" ] && [ -f "$d/libbpf/libbpf.a" ] || return 0
  local bin="$d/libbpf-oracle-load"
  if [ ! -x "$bin" ] || [ "$root/tools/libbpf-oracle-load.c" -nt "$bin" ]; then
    gcc -O1 -Wall -Werror -I"$d/libbpf/include" -o "$bin" "$root/tools/libbpf-oracle-load.c" \
      "$d/libbpf/libbpf.a" -lelf -lz >&2 || { echo "libbpf-oracle: cannot build the loader" >&2; exit 2; }
  fi
  echo "$bin"
}

if [ "${1:-}" = --bpftool ]; then b="$(oracle_bpftool)"; echo "$b"; oracle_loader "$b"; exit 0; fi
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OBJECT.bpf.o [OUT.json] | --bpftool" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "libbpf-oracle: needs root" >&2; exit 2; }
obj="$(readlink -f "$1")"
[ -f "$obj" ] || { echo "libbpf-oracle: $1: no such file" >&2; exit 2; }

if [ -z "${LIBBPF_ORACLE_INNER:-}" ]; then
  BPFTOOL="$(oracle_bpftool)"
  LOADER="$(oracle_loader "$BPFTOOL")"
  out="${2:-}"
  [ -z "$out" ] || out="$(readlink -f "$out")"
  # A private mount namespace: the bpffs mounted below is ours alone.
  exec unshare --mount --propagation private \
    env LIBBPF_ORACLE_INNER=1 BPFTOOL="$BPFTOOL" LOADER="$LOADER" LIBBPF_ORACLE_OUT="$out" bash "$self" "$obj"
fi

# ---- inside the private mount namespace ----------------------------------------------------
bpffs=/sys/fs/bpf
mount -t bpf bpf "$bpffs" || { echo "libbpf-oracle: cannot mount a private bpffs" >&2; exit 2; }
# Our fresh instance is empty but for the kernel's preloaded maps.debug/progs.debug iterators
# (CONFIG_BPF_PRELOAD puts them in every new bpffs). Anything else means we are looking at somebody's
# real bpffs: stop before creating or removing anything.
preloaded='^(maps\.debug|progs\.debug)$'
if ls -A "$bpffs" | grep -Evq "$preloaded"; then
  echo "libbpf-oracle: $bpffs is not a fresh bpffs, refusing" >&2; exit 2
fi
dir="$bpffs/oracle-$$"
mkdir "$dir"
log="$(mktemp)"
metaf="$(mktemp)"
cleanup() {
  # Everything in this bpffs instance but the preloaded iterators was made by this run, pins libbpf
  # made itself included. Removing the pins drops the last references; unmounting drops the instance.
  ls -A "$bpffs" | grep -Ev "$preloaded" | while read -r e; do rm -rf "${bpffs:?}/$e"; done || true
  umount "$bpffs" 2>/dev/null || true
  rm -f "$log" "$metaf"
}
trap cleanup EXIT

version="$("$BPFTOOL" version 2>/dev/null | sed -n '1p;2p' | paste -sd' ' | sed 's/ using / \/ /')"
rc=0
maps_by_id=()
meta=()
if [ -n "$LOADER" ]; then
  version="$version, loaded by tools/libbpf-oracle-load.c (same libbpf)"
  attach=()
  if [ -n "${LIBBPF_ORACLE_TARGET:-}" ]; then
    # freplace: load the target object first (its programs pinned under DIR/target), then point
    # every EXT program of OBJECT at TARGET_PROG's FUNC.
    IFS=: read -r t_obj t_prog t_func <<<"$LIBBPF_ORACLE_TARGET"
    mkdir "$dir/target"
    "$LOADER" "$t_obj" "$dir/target/progs" "$dir/target/maps" "$metaf" >"$log" 2>&1 ||
      { echo "libbpf-oracle: target $t_obj did not load:" >&2; cat "$log" >&2; exit 2; }
    attach=(--attach-prog "$dir/target/progs/$t_prog" --attach-func "$t_func")
  fi
  "$LOADER" "$obj" "$dir/progs" "$dir/maps" "$metaf" "${attach[@]}" >"$log" 2>&1 || rc=$?
  meta=(--meta "$metaf")
else
  "$BPFTOOL" prog loadall "$obj" "$dir/progs" pinmaps "$dir/maps" >"$log" 2>&1 || rc=$?
  if [ "$rc" != 0 ] && grep -q 'failed to pin all maps' "$log"; then
    # The object loaded, but `pinmaps` cannot pin a map libbpf already pinned by itself
    # (LIBBPF_PIN_BY_NAME), and bpftool then unpins and unloads everything. Load it again without
    # `pinmaps`: the collector finds the maps through the programs' map ids and libbpf's own pins.
    # (Start from an empty bpffs again, so libbpf creates the by-name map afresh, as the first time.)
    ls -A "$bpffs" | grep -Ev "$preloaded" | while read -r e; do rm -rf "${bpffs:?}/$e"; done
    mkdir "$dir"
    rc=0
    "$BPFTOOL" prog loadall "$obj" "$dir/progs" >"$log" 2>&1 || rc=$?
    maps_by_id=(--maps-by-id)
  fi
fi
json="$(python3 "$root/tools/libbpf-oracle.py" --object "$obj" --dir "$dir" --bpffs "$bpffs" \
  --rc "$rc" --log "$log" --bpftool "$BPFTOOL" --oracle "$version" "${maps_by_id[@]}" "${meta[@]}")"
if [ -n "${LIBBPF_ORACLE_OUT:-}" ]; then
  printf '%s\n' "$json" >"$LIBBPF_ORACLE_OUT"
else
  printf '%s\n' "$json"
fi
