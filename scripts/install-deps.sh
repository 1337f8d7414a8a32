#!/usr/bin/env bash
# Installs the Debian packages indafoto-syncd needs.
#
#   scripts/install-deps.sh          # build, test and demo (the test command)
#   scripts/install-deps.sh --demo   # only what the demo needs: build it, Syncthing
#
# Idempotent: skips apt entirely when everything is already installed. The
# Docker test installs Docker and Compose itself (tests/docker_compose_test.sh).
set -euo pipefail
# Building indafoto-syncd and running the demo (two Syncthings on loopback).
DEMO_PACKAGES=(
  build-essential cmake pkg-config
  libboost-dev libboost-system-dev libsqlite3-dev sqlite3 rapidjson-dev
  libsodium-dev libspdlog-dev catch2 libssl-dev libsystemd-dev
  syncthing
)
# The tests on top: packaging, the service test (Debian root under
# systemd-nspawn), the Syncthing matrix and the Docker test (apt-get download
# of Debian 13's packages, debootstrap), and the fuzz targets
# (scripts/fuzz.sh: clang and its libFuzzer runtime; building the package
# does not need them, and the Dockerfile's builder does without them).
FUZZ_PACKAGES=(clang libclang-rt-dev)
TEST_PACKAGES=(
  systemd openssl python3 python3-yaml dpkg-dev file curl procps
  systemd-container debootstrap debian-archive-keyring
  "${FUZZ_PACKAGES[@]}"
)
case "${1:-}" in
  --demo) PACKAGES=("${DEMO_PACKAGES[@]}") ;;
  "") PACKAGES=("${DEMO_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *) echo "usage: $0 [--demo]" >&2; exit 2 ;;
esac
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
