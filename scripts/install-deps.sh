#!/usr/bin/env bash
# Installs the Debian packages indafoto-syncd needs to build, test and demo.
# Idempotent: skips apt entirely when everything is already installed.
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config
  libboost-dev libboost-system-dev libsqlite3-dev sqlite3 rapidjson-dev
  libsodium-dev libspdlog-dev catch2 libssl-dev libsystemd-dev
  syncthing systemd openssl python3 python3-yaml dpkg-dev file curl procps
  systemd-container debootstrap
)
# The fuzz targets (scripts/fuzz.sh, run by the tests) need clang and its
# libFuzzer runtime; building the package does not (the Dockerfile's
# builder does without them).
FUZZ_PACKAGES=(clang libclang-rt-dev)
PACKAGES+=("${FUZZ_PACKAGES[@]}")
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
