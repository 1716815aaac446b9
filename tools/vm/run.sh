#!/usr/bin/env bash
# Run the project's real-kernel tests inside qemu on one of Debian's kernels.
#
#   npm run test:vm -- 6.1 [--only SUITES] [--timeout SECONDS] [--accel tcg|kvm|auto] [--mem MB]
#   npm run test:vm -- 6.12
#
# SUITES (comma list, default kernel,accel): kernel (test/kernel), cli, e2e, accel (= cli,e2e), unit,
# DIR/NAME for one file (kernel/compat), node:/abs/script.js to debug (not under /tmp: the guest's
# /tmp is its own). --timeout bounds the whole VM run (default 3600 s). TCG is the default: nested
# KVM does not boot here; --accel auto tries KVM with a 30 s boot watchdog, then TCG.
#
# - fetches the newest linux-image-6.1.0-*-amd64 / linux-image-6.12.*-amd64 with `apt-get download`
#   into .cache/vm (ignored by git), and busybox-static / qemu-system-x86 with apt if missing;
# - builds a small initramfs: busybox + the kernel's own virtio/9p/overlay/veth/sch_ingress/cls_bpf modules (insmod in
#   dependency order, from each module's modinfo "depends");
# - the guest mounts this machine's / read-only over 9p, overlays a tmpfs, mounts proc, sys, bpffs,
#   cgroup2, tracefs, brings lo up and runs tools/vm/guest.sh (the selected suites, node from the host);
# - the guest's console is streamed to stdout; the exit status comes from a marker line the guest
#   prints; the VM is powered off in every case and killed when the time bound runs out.
set -euo pipefail

main() {
usage() {
  echo "usage: $0 6.1|6.12 [--only kernel,cli,e2e,accel|DIR/NAME|node:SCRIPT] [--timeout SECONDS] [--accel tcg|kvm|auto] [--mem MB]" >&2
  exit 2
}

REPO=$(cd "$(dirname "$0")/../.." && pwd)
SERIES=${1:-}
[ -n "$SERIES" ] || usage
shift
ONLY="kernel,accel"
TIMEOUT=${SOCKACCEL_VM_TIMEOUT:-3600}
ACCEL=${SOCKACCEL_VM_ACCEL:-tcg}
MEM=3072
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=${2:?}; shift 2 ;;
    --only=*) ONLY=${1#--only=}; shift ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    --timeout=*) TIMEOUT=${1#--timeout=}; shift ;;
    --accel) ACCEL=${2:?}; shift 2 ;;
    --accel=*) ACCEL=${1#--accel=}; shift ;;
    --mem) MEM=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
case "$SERIES" in
  6.1) PATTERN='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
  6.12) PATTERN='^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64$' ;;
  *) echo "unknown kernel series '$SERIES' (known: 6.1, 6.12)" >&2; exit 2 ;;
esac
case "$ONLY" in *[!A-Za-z0-9_./:,-]*) usage ;; esac

CACHE="$REPO/.cache/vm"
mkdir -p "$CACHE/debs"
log() { echo "[vm] $*" >&2; }
T0=$(date +%s)

# ---- host tools ------------------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || log "apt-get update failed: using apt's current lists"
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx insmod && dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- the kernel package ----------------------------------------------------------------------
PKG=$(apt-cache pkgnames linux-image-6 | grep -E "$PATTERN" | sort -V | tail -1 || true)
[ -n "$PKG" ] || { echo "no package matching $PATTERN in apt's lists" >&2; exit 2; }
DEB=$(ls "$CACHE/debs/${PKG}_"*.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$DEB" ]; then
  log "downloading $PKG"
  (cd "$CACHE/debs" && apt-get download -o APT::Sandbox::User=root "$PKG" >/dev/null)
  DEB=$(ls "$CACHE/debs/${PKG}_"*.deb | sort -V | tail -1)
fi
KDIR="$CACHE/kernels/$PKG"
if [ ! -f "$KDIR/.done" ]; then
  log "unpacking $(basename "$DEB")"
  rm -rf "$KDIR"
  mkdir -p "$KDIR"
  dpkg-deb -x "$DEB" "$KDIR"
  touch "$KDIR/.done"
fi
KVER=$(ls "$KDIR/lib/modules")
VMLINUZ="$KDIR/boot/vmlinuz-$KVER"
MODDIR="$KDIR/lib/modules/$KVER"

# ---- initramfs -------------------------------------------------------------------------------
# Modules (and what they depend on) in load order. The package has no modules.dep (depmod runs at
# install), so read each module's own "depends=" from its .modinfo.
ko_cat() {
  case "$1" in
    *.ko.xz) xz -dc "$1" ;;
    *.ko.zst) zstd -qdc "$1" ;;
    *.ko.gz) gzip -dc "$1" ;;
    *) cat "$1" ;;
  esac
}
declare -A KO_PATH=()
while read -r f; do
  n=$(basename "$f"); n=${n%%.ko*}; KO_PATH[${n//-/_}]=$f
done < <(find "$MODDIR/kernel" -name '*.ko*')
resolve_modules() {
  local seen="" order=()
  visit() {
    local name=${1//-/_} path deps d
    case " $seen " in *" $name "*) return 0 ;; esac
    seen="$seen $name"
    path=${KO_PATH[$name]:-}
    [ -n "$path" ] || return 0 # built in
    deps=$(ko_cat "$path" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -1 | tr ',' ' ')
    for d in $deps; do visit "$d"; done
    order+=("$path")
  }
  for m in "$@"; do visit "$m"; done
  printf '%s\n' "${order[@]}"
}
MODULES=(virtio_pci virtio_console 9pnet_virtio 9p overlay veth sch_ingress cls_bpf)
# Per run ($$): two runs at once (other checkouts sharing this cache) must not rewrite each other's
# initramfs or console log.
RUN_ID=$KVER.$$
IRD="$CACHE/initramfs/$RUN_ID"
QPID=
TPID=
# Whatever happens to this script (error, Ctrl-C, CI's kill): the VM does not outlive it, and this
# run's initramfs (directory and image) goes with it.
trap '[ -z "$QPID" ] || kill "$QPID" 2>/dev/null; [ -z "$TPID" ] || kill "$TPID" 2>/dev/null; rm -rf "$IRD" "$CACHE/initramfs-$RUN_ID.gz"' EXIT
trap 'exit 130' INT TERM
rm -rf "$IRD"
mkdir -p "$IRD"/{bin,modules,proc,sys,dev,newroot,lower,rw}
cp /bin/busybox "$IRD/bin/busybox"
: > "$IRD/modules/order"
while read -r path; do
  [ -n "$path" ] || continue
  base=$(basename "$path"); base=${base%%.ko*}.ko
  ko_cat "$path" > "$IRD/modules/$base"
  echo "$base" >> "$IRD/modules/order"
done < <(resolve_modules "${MODULES[@]}")

cat > "$IRD/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "[guest] $(cat /proc/version)"
for m in $(cat /modules/order); do
  insmod /modules/$m || echo "[guest] insmod $m failed"
done
finish() {
  echo "SOCKACCEL_VM_RESULT status=$1"
  sync
  poweroff -f
  echo o > /proc/sysrq-trigger
  sleep 5
}
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose host /lower; then
  echo "[guest] cannot mount the host's root over 9p"
  finish 3
fi
mount -t tmpfs -o size=1536m,mode=0755 rw /rw
mkdir -p /rw/upper /rw/work
if ! mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot; then
  echo "[guest] overlay failed"
  finish 3
fi
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs shm /newroot/dev/shm
# No tmpfs on /tmp: the overlay makes it writable already, and a checkout may live under /tmp (CI's).
mount -t tmpfs run /newroot/run
mount -t bpf bpf /newroot/sys/fs/bpf
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup
mount -t tracefs tracefs /newroot/sys/kernel/tracing
mount -t debugfs debugfs /newroot/sys/kernel/debug 2>/dev/null
ip link set lo up
hostname sockaccel-vm
set -- $(cat /proc/cmdline)
for a in "$@"; do case "$a" in sockaccel.repo=*) REPO=${a#*=} ;; sockaccel.only=*) ONLY=${a#*=} ;; esac; done
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
  SOCKACCEL_VM=1 LANG=C.UTF-8 \
  chroot /newroot /bin/bash "$REPO/tools/vm/guest.sh" "$REPO" "$ONLY" < /dev/console
finish $?
INIT
chmod +x "$IRD/init"
(cd "$IRD" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$CACHE/initramfs-$RUN_ID.gz")
rm -rf "$IRD"

# ---- build on the host (the guest only reads) --------------------------------------------------
[ -d "$REPO/node_modules" ] || (cd "$REPO" && npm ci)
log "building dist (tsc and the bundles)"
(cd "$REPO" && npm run build >/dev/null)

# ---- boot --------------------------------------------------------------------------------------
LOG="$CACHE/console-$RUN_ID.log"
find "$CACHE" -maxdepth 1 -name "console-*.log" -mtime +1 -delete 2>/dev/null || true
result() { tr -d '\r' < "$LOG" | sed -n 's/^SOCKACCEL_VM_RESULT status=\([0-9]*\).*/\1/p' | tail -1; }
# run_qemu ACCEL LIMIT BOOT_LIMIT: the VM, killed after LIMIT s in all, or after BOOT_LIMIT s when the
# guest has not started the tests by then (a hung boot). The console is streamed to stdout.
run_qemu() {
  local accel=$1 limit=$2 boot_limit=$3 cpu rc waited=0
  if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi
  log "booting $KVER ($accel, ${MEM} MB, 2 vCPUs, time bound ${limit}s, suites: $ONLY)"
  : > "$LOG"
  timeout --kill-after=15 "$limit" qemu-system-x86_64 \
    -accel "$accel" -cpu "$cpu" -smp 2 -m "$MEM" \
    -kernel "$VMLINUZ" -initrd "$CACHE/initramfs-$RUN_ID.gz" \
    -append "console=ttyS0 quiet panic=-1 oops=panic sockaccel.repo=$REPO sockaccel.only=$ONLY" \
    -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
    -nic none -display none -no-user-config -nodefaults -serial stdio -monitor none -no-reboot \
    < /dev/null > "$LOG" 2>&1 &
  QPID=$!
  tail -n +1 -f --pid="$QPID" "$LOG" &
  TPID=$!
  while kill -0 "$QPID" 2>/dev/null; do
    if [ "$waited" -ge "$boot_limit" ] && ! grep -q '^\[guest\] node' "$LOG"; then
      log "the guest did not start the tests within ${boot_limit}s: killing it"
      kill "$QPID" 2>/dev/null
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rc=0
  wait "$QPID" || rc=$?
  QPID=
  wait "$TPID" 2>/dev/null || true
  TPID=
  return "$rc"
}

status=
rc=0
if [ "$ACCEL" = auto ] || [ "$ACCEL" = kvm ]; then
  if [ -w /dev/kvm ]; then
    run_qemu kvm "$TIMEOUT" 30 || true
    status=$(result)
    [ -n "$status" ] || [ "$ACCEL" = kvm ] || log "no result with kvm: falling back to tcg"
  else
    log "/dev/kvm is not usable"
  fi
fi
if [ -z "$status" ] && [ "$ACCEL" != kvm ]; then
  run_qemu tcg "$TIMEOUT" 180 || rc=$?
  status=$(result)
fi
if [ -z "$status" ]; then
  log "the VM stopped without a result (exit $rc): timed out (${TIMEOUT}s) or failed to boot"
  status=124
fi
log "kernel $KVER: tests exited $status after $(( $(date +%s) - T0 ))s (console log: $LOG)"
exit "$status"
}
main "$@"
