#!/usr/bin/env bash
# Builds a bootable Debian bookworm qcow2 that behaves like a cloud image: it runs real cloud-init
# (NoCloud datasource, i.e. a `cidata` ISO), serves SSH and runs qemu-guest-agent. For the VM tests
# only; nothing is downloaded but Debian packages from the mirror apt already uses.
#
#   build.sh OUT.qcow2 [DEB_CACHE_DIR]
#
# Beside OUT.qcow2 it leaves the guest's kernel and initramfs (OUT.vmlinuz, OUT.initrd.img), for
# direct kernel boot (snapvm.yaml `boot:`).
#
# Needs root (debootstrap chroots) and the packages scripts/setup-host.sh installs. No loop devices or
# mounts: the root filesystem is made from a directory with `mkfs.ext4 -d`, the boot partition is FAT
# written with mtools, and syslinux boots the kernel from it. OUT is written only on success.
set -euo pipefail

out=${1:?usage: build.sh OUT.qcow2 [DEB_CACHE_DIR]}
cache=${2:-}
suite=bookworm
# MiB; the qcow2 is sparse and compressed, so the virtual size costs nothing. Instances may grow it.
disk_mib=1536
boot_mib=64
root_label=snapvm-root

packages=(
  linux-image-cloud-amd64 initramfs-tools systemd-sysv udev dbus
  cloud-init openssh-server sudo ifupdown isc-dhcp-client iproute2 netbase
  # As in Debian's own cloud images; guest-set-time runs hwclock (util-linux-extra) after setting the clock.
  qemu-guest-agent util-linux-extra
  # debootstrap does not resolve virtual packages: python3-cryptography needs python3-cffi-backend-api-*.
  python3-cffi-backend
)

# The mirror of the system's own bookworm entry ("deb URI" lines and deb822 "URIs:" fields), as in
# scripts/setup-host.sh.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | sed -nE 's#^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?://[^ ]*/debian)/?([[:space:]].*)?$#\3#p' \
  | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d "$(dirname "$out")/.cloud-image-build.XXXXXX")
root="$work/root"
cleanup() {
  # debootstrap unmounts what it mounted on exit; make sure, then remove the tree.
  for m in proc sys dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done
  if [ "${SNAPVM_KEEP_BUILD:-}" = 1 ]; then echo "build.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

step() { printf '[%(%T)T] %s\n' -1 "$*" >&2; }

step "debootstrap $suite from $mirror"
cache_args=()
if [ -n "$cache" ]; then mkdir -p "$cache"; cache_args=(--cache-dir="$(realpath "$cache")"); fi
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "${cache_args[@]}" \
  "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2; tail -n 40 "$root/debootstrap/debootstrap.log" >&2 2>/dev/null; exit 1; }

step "configuring the guest"
cat >"$root/etc/fstab" <<FSTAB
LABEL=$root_label / ext4 defaults,errors=remount-ro 0 1
FSTAB
cat >"$root/etc/network/interfaces" <<IFACES
# cloud-init writes the NIC's stanza into interfaces.d/ from the NoCloud network-config.
source /etc/network/interfaces.d/*
auto lo
iface lo inet loopback
IFACES
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
rm -f "$root/etc/hostname"
# Only NoCloud: ds-identify then need not probe for other clouds (each probe costs seconds under TCG).
# C.UTF-8 is built into libc; the default en_US.UTF-8 is not generated and would fail cc_locale.
cat >"$root/etc/cloud/cloud.cfg.d/90-snapvm-test.cfg" <<CFG
datasource_list: [NoCloud, None]
locale: C.UTF-8
CFG
# A fresh machine-id and SSH host keys per VM (cloud-init makes new keys on first boot).
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
# qemu-guest-agent starts when its virtio port appears (org.qemu.guest_agent.0, which snapvm gives every
# instance); its postinst cannot enable it inside debootstrap's chroot, so the device's wants link is made here.
qga_wants="$root/etc/systemd/system/dev-virtio\\x2dports-org.qemu.guest_agent.0.device.wants"
mkdir -p "$qga_wants"
ln -sf /lib/systemd/system/qemu-guest-agent.service "$qga_wants/qemu-guest-agent.service"
[ -x "$root/usr/sbin/qemu-ga" ] || { echo "build.sh: qemu-guest-agent is not installed in the guest" >&2; exit 1; }
# Timers that would compete for the CPU of a TCG guest in the middle of a test.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*

kernel=$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -n1)
initrd=initrd.img-${kernel#vmlinuz-}
[ -f "$root/boot/$initrd" ] || { echo "build.sh: no $initrd in the guest's /boot" >&2; exit 1; }

step "writing the disk"
raw="$work/disk.raw"
truncate -s "${disk_mib}M" "$raw"
boot_start=2048                                   # sectors; 1 MiB aligned
root_start=$((boot_start + boot_mib * 2048))
sfdisk --quiet "$raw" <<PARTS
label: dos
start=$boot_start, size=$((boot_mib * 2048)), type=c, bootable
start=$root_start, type=83
PARTS
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none

# FAT16: 64 MiB is below FAT32's minimum. The "block count mismatch" warning is about the whole file.
mkfs.vfat -F 16 -n SNAPBOOT --offset "$boot_start" "$raw" $((boot_mib * 1024)) >"$work/mkfs.log" 2>&1 || { cat "$work/mkfs.log" >&2; exit 1; }
boot_offset=$((boot_start * 512))
syslinux --offset "$boot_offset" --install "$raw"
cat >"$work/syslinux.cfg" <<SYSLINUX
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND root=LABEL=$root_label rw console=ttyS0,115200
SYSLINUX
export MTOOLS_SKIP_CHECK=1
mcopy -i "$raw@@$boot_offset" "$work/syslinux.cfg" ::/syslinux.cfg
mcopy -i "$raw@@$boot_offset" "$root/boot/$kernel" ::/vmlinuz
mcopy -i "$raw@@$boot_offset" "$root/boot/$initrd" ::/initrd.img

root_mib=$((disk_mib - root_start / 2048))
mkfs.ext4 -q -F -L "$root_label" -E offset=$((root_start * 512)) -d "$root" "$raw" "${root_mib}M"

step "converting to qcow2"
qemu-img convert -c -o compression_type=zstd -f raw -O qcow2 "$raw" "$work/disk.qcow2"
# The boot files first: the qcow2 appearing is what says the build is complete.
cp "$root/boot/$kernel" "${out%.qcow2}.vmlinuz"
cp "$root/boot/$initrd" "${out%.qcow2}.initrd.img"
mv "$work/disk.qcow2" "$out"
step "done: $out"
