#!/usr/bin/env bash
# Installs, from Debian 12's archive, every package vitrine needs to build, run and test.
# Idempotent: it asks apt only for what is missing, and does nothing when all is present.
set -euo pipefail

# Build: compiler, CMake, and the libraries the code links.
BUILD_PACKAGES=(
  build-essential cmake pkg-config
  libpcap-dev libndpi-dev libyaml-cpp-dev prometheus-cpp-dev libgcrypt20-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libxml2-dev libvirt-dev
  libbenchmark-dev libusbguard-dev libudev-dev libumockdev-dev libseccomp-dev
)
# Run: the demo's namespaces and its real servers and clients; qemu-img for disk images;
# libvirtd and QEMU, which run the cabinet's guest.
RUN_PACKAGES=(iproute2 ethtool dnsmasq-base bind9-dnsutils python3 curl procps qemu-utils
  qemu-system-x86 libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients socat)
# Test and benchmark: nDPI's reference reader, capture and traffic tools, frame crafting,
# clang with libFuzzer for the fuzz targets and llvm for their coverage reports, real protocol peers and probes (dcmtk's DICOM
# tools, impacket's SMB server and client, Samba's server and its smbclient and rpcclient, nmap's vulnerability scripts and full port scan,
# hping3's floods, pymodbus's Modbus/TCP server and client), time(1) for the benchmarks' peak memory, umockdev's fake sysfs
# for the USB tests, Prometheus (promtool checks and tests the alert rules; its console page is
# rendered in headless Chromium), rsyslog as the SIEM that receives forwarded events, and
# python3-jsonschema to hold every event to its documented schema.
TEST_PACKAGES=(libndpi-bin tcpdump python3-scapy iperf3 iputils-ping busybox clang libclang-rt-14-dev llvm
  python3-libvirt dcmtk python3-impacket samba smbclient nmap hping3 time umockdev prometheus chromium rsyslog python3-jsonschema python3-pymodbus)

want=("${BUILD_PACKAGES[@]}" "${RUN_PACKAGES[@]}")
if [[ "${1:-}" == "--with-tests" ]]; then want+=("${TEST_PACKAGES[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# netmon's own system user: netmon runs as it once its packet sockets are open (the package's
# postinst creates it the same way).
ensure_netmon_user() {
  getent passwd vitrine-netmon >/dev/null && return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: the system user vitrine-netmon is missing and creating it needs root" >&2
    exit 1
  fi
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group vitrine-netmon
}

if ((${#missing[@]} == 0)); then
  ensure_netmon_user
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
ensure_netmon_user
