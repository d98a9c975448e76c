#!/usr/bin/env bash
# Installs the host packages snapvm needs on Debian bookworm. Idempotent: safe to run again.
# Runs as root, or escalates with sudo when it is there. What it installs and why: docs/internals.md.
#
# QEMU 10 comes from bookworm-backports (bookworm's own 7.2 lacks mapped-ram). It is installed with
# `-t bookworm-backports` so that its dependencies (qemu-system-common, qemu-system-data, seabios, ...)
# come from backports too; naming `qemu-system-x86/bookworm-backports` alone leaves them on 7.2 and apt
# refuses on a fresh machine. Every other package is installed from bookworm in a separate step, so
# nothing else on the host is upgraded to backports.
set -euo pipefail

say() { echo "setup-host: $*"; }
die() { echo "setup-host: $*" >&2; exit 1; }

# Node.js and npm first: everything after the host packages needs them, and a distro Node is too old.
node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}
node_ok || die "Node.js >= 20.19 is required (found: $(node --version 2>/dev/null || echo none)); install it from https://nodejs.org or NodeSource, then run this again."
command -v npm >/dev/null 2>&1 || die "npm is required (it ships with Node.js from nodejs.org or NodeSource); install it, then run this again."

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  as_root() { sudo "$@"; }
else
  die "needs root to install packages: run it as root, or install sudo."
fi

# From bookworm-backports, with -t (see above).
qemu_pkgs=(qemu-system-x86 qemu-utils)
# From bookworm. What each is for: docs/internals.md, "What the set-up installs".
host_pkgs=(
  busybox-static zstd xorriso e2fsprogs xfsprogs util-linux procps
  openssh-client debootstrap fdisk dosfstools mtools syslinux syslinux-common librsvg2-bin
  age # age: interop test of snapshot bundle encryption
  chromium # the dashboard's browser tests (test/vm/ui.test.ts, playwright-core)
  bash-completion # what `snapvm completion bash` builds on; its e2e test drives a real bash
  openssh-server # for scripts/test-hosts.sh: each test host runs its own sshd
  iproute2 # for scripts/test-hosts.sh: network namespaces and the veth pair
  # Ceph radosgw: the real S3 server of the tests (scripts/s3-server.sh)
  radosgw ceph-mon ceph-osd ceph-common curl
)

qemu_ok() {
  command -v qemu-system-x86_64 >/dev/null 2>&1 &&
    qemu-system-x86_64 --version | head -n1 | grep -Eq 'version (1[0-9]|[2-9][0-9])\.'
}
installed() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
  done
}
# apt configured to simulate (../shared/tools/fresh-host-check.sh does that): nothing gets installed.
simulating() {
  local sim=
  eval "$(apt-config shell sim APT::Get::Simulate/b 2>/dev/null)"
  [ "$sim" = true ]
}

if installed "${qemu_pkgs[@]}" "${host_pkgs[@]}" && qemu_ok; then
  say "packages already installed ($(qemu-system-x86_64 --version | head -n1))"
  exit 0
fi

# bookworm-backports from the same mirror as the system's own bookworm entry. Only real entries count
# ("deb URI" lines and deb822 "URIs:" fields), not comments.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | sed -nE 's#^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?://[^ ]*/debian)/?([[:space:]].*)?$#\3#p' \
  | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb $mirror bookworm-backports main" | as_root tee /etc/apt/sources.list.d/snapvm-bookworm-backports.list >/dev/null
  say "added bookworm-backports ($mirror)"
fi

export DEBIAN_FRONTEND=noninteractive
# Third-party sources on some hosts are unreachable; only Debian's matter here.
as_root apt-get update -o Acquire::Retries=3 || say "apt-get update reported errors; continuing"
apt_install() { as_root apt-get install -y --no-install-recommends -o Acquire::Retries=3 "$@"; }
apt_install "${host_pkgs[@]}"
apt_install -t bookworm-backports "${qemu_pkgs[@]}"

if simulating; then
  say "apt only simulated the install (fresh-host check): QEMU's version not checked"
  exit 0
fi
qemu_ok || die "QEMU >= 10 is required, got: $(qemu-system-x86_64 --version 2>/dev/null | head -n1 || echo none)"
say "$(qemu-system-x86_64 --version | head -n1)"
