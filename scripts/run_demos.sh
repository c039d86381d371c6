#!/usr/bin/env bash
# The README's main command: installs dependencies, builds, runs every chapter demo.
# Figures, metrics.json and probes.npz go to ./out (or the directory given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --data
scripts/build.sh
build/myelin demo all --out "${1:-out}"
echo "Figures and metrics are in ${1:-out}/"
