#!/usr/bin/env bash
# Installs the host packages snapvm needs on Debian bookworm. Idempotent: safe to run again.
# QEMU 10 comes from bookworm-backports (bookworm's own 7.2 lacks mapped-ram), see docs/internals.md.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

need_pkgs=(qemu-system-x86 qemu-utils busybox-static zstd xorriso kmod cpio dpkg-dev e2fsprogs xfsprogs util-linux procps openssh-client debootstrap fdisk dosfstools mtools syslinux syslinux-common librsvg2-bin)

qemu_ok() {
  command -v qemu-system-x86_64 >/dev/null 2>&1 &&
    qemu-system-x86_64 --version | head -n1 | grep -Eq 'version (1[0-9]|[2-9][0-9])\.'
}
all_installed() {
  local p
  for p in "${need_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
  done
  qemu_ok
}

if all_installed; then
  echo "setup-host: packages already installed"
  exit 0
fi

# Use the same mirror as the system's own bookworm entry for backports.
# Only real entries count ("deb URI" lines and deb822 "URIs:" fields), not comments.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | sed -nE 's#^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?://[^ ]*/debian)/?([[:space:]].*)?$#\3#p' \
  | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
bp=/etc/apt/sources.list.d/snapvm-bookworm-backports.list
if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb $mirror bookworm-backports main" | $SUDO tee "$bp" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
# Third-party sources on some hosts are unreachable; only Debian's matter here.
$SUDO apt-get update -o Acquire::Retries=3 || echo "setup-host: apt-get update reported errors; continuing"
$SUDO apt-get install -y --no-install-recommends "${need_pkgs[@]}" \
  qemu-system-x86/bookworm-backports qemu-utils/bookworm-backports
qemu_ok || { echo "setup-host: QEMU >= 10 is required, got: $(qemu-system-x86_64 --version | head -n1)" >&2; exit 1; }
echo "setup-host: $(qemu-system-x86_64 --version | head -n1)"
