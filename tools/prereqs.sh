#!/usr/bin/env bash
# What the tests need, from tools/prerequisites.txt; run by `npm test` (its pretest) and by .ci/run.
#   tools/prereqs.sh          every tool there: exit 0 at once (no apt, no dpkg: PATH and file lookups).
#                             Something missing: as root with apt-get, install its packages; otherwise
#                             print the one command to run and exit 1, before any test has run.
#   tools/prereqs.sh --check  never install: name what is missing and exit 1 (also SOCKACCEL_NO_INSTALL=1).
set -euo pipefail

here="${BASH_SOURCE[0]%/*}"; [ "$here" = "${BASH_SOURCE[0]}" ] && here=.
list="$here/prerequisites.txt"
install=1
case "${1:-}" in
  --check) install=0 ;;
  '') ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
[ "${SOCKACCEL_NO_INSTALL:-}" = 1 ] && install=0

# An absolute path that exists, or a command on PATH under its name or a versioned NAME-NN.
have() {
  case "$1" in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 || compgen -c "$1-" | grep -qx -- "$1-[0-9][0-9]*" ;;
  esac
}

# Packages with at least one tool missing, and the tools, as "tool (package)".
missing() {
  packages=() tools=()
  local line pkg provides tool gone
  while IFS= read -r line; do
    line="${line%%#*}"
    read -r pkg provides <<<"$line" || true
    [ -n "${pkg:-}" ] || continue
    gone=0
    for tool in $provides; do
      if ! have "$tool"; then tools+=("$tool ($pkg)"); gone=1; fi
    done
    [ $gone = 0 ] || packages+=("$pkg")
  done <"$list"
}

missing
[ ${#packages[@]} -eq 0 ] && exit 0

say() { echo "prerequisites: $*" >&2; }
joined="${tools[*]/%/,}"
say "missing: ${joined%,}"
if [ $install = 1 ] && [ $EUID -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing ${packages[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${packages[@]}" >/dev/null
  missing
  if [ ${#packages[@]} -gt 0 ]; then
    say "still missing after apt-get install: ${tools[*]} (is it on PATH? PATH=$PATH)"
    exit 1
  fi
  exit 0
fi
why="not root"
[ $EUID -eq 0 ] && why="no apt-get here (these are Debian/Ubuntu package names)"
[ $install = 0 ] && why="not installing (--check or SOCKACCEL_NO_INSTALL=1)"
say "$why; to install them, run:"
echo "  sudo apt-get install -y ${packages[*]}" >&2
exit 1
