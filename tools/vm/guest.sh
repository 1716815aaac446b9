#!/bin/bash
# Inside the VM (run by the initramfs' init, chrooted into the overlay of the host's /):
# run the selected suites with the host's node and report one status.
#   guest.sh REPO SUITES   (SUITES: comma list of kernel, cli, e2e, accel = cli + e2e, unit,
#                          DIR/NAME for one file dist/test/DIR/NAME.test.js, node:SCRIPT to debug)
REPO=$1
ONLY=$2
cd "$REPO" || exit 3
export SOCKACCEL_VM=1
echo "[guest] node $(node --version), kernel $(uname -r), suites: $ONLY"
suites=()
for s in ${ONLY//,/ }; do
  case "$s" in
    kernel) suites+=(kernel) ;;
    cli) suites+=(cli) ;;
    e2e) suites+=(e2e) ;;
    accel) suites+=(cli e2e) ;;
    unit) suites+=(unit) ;;
    */*) suites+=("$s") ;; # one file: kernel/btf → dist/test/kernel/btf.test.js
    node:*) suites+=("$s") ;; # a script, for debugging: node:/tmp/x.mjs
    *) echo "[guest] unknown suite $s"; exit 2 ;;
  esac
done
status=0
summary=()
for s in "${suites[@]}"; do
  echo "[guest] ===== suite $s (dist/test/$s) ====="
  t0=$(date +%s)
  case "$s" in
    node:*) node "${s#node:}" ;;
    */*) node node_modules/uvu/bin.js "dist/test/${s%/*}" "^${s##*/}\.test\.js\$" ;;
    *) node node_modules/uvu/bin.js "dist/test/$s" '\.test\.js$' ;;
  esac
  rc=$?
  dt=$(( $(date +%s) - t0 ))
  if [ $rc -eq 0 ]; then summary+=("$s: pass (${dt}s)"); else summary+=("$s: FAIL exit $rc (${dt}s)"); status=1; fi
done
echo "[guest] ===== summary on $(uname -r) ====="
for l in "${summary[@]}"; do echo "[guest] $l"; done
exit $status
