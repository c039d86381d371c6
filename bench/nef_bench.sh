#!/usr/bin/env bash
# NEF simulator benchmarks (issues "Foundation" and "Online learning"): runs the reference
# models with the CLI and prints each result next to the Nengo 4.1 reference measured on a
# machine of our kind (numbers from the issues; Nengo is not installable here).
# Usage: bench/nef_bench.sh [build-dir]   (best of 3 runs each; run on an idle machine)
set -euo pipefail
B=${1:-build}
M="$B/myelin"
[ -x "$M" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

best() {  # best (minimum) of 3 runs of a command printing one JSON line; echoes that line
  local best_line="" best_v=""
  for _ in 1 2 3; do
    line=$("$@" | tail -n 1)
    v=$(python3 -c "import json,sys; m=json.loads(sys.argv[1]); print(m.get('us_per_step', m.get('run_s')))" "$line")
    if [ -z "$best_v" ] || python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$v" "$best_v"; then
      best_v=$v; best_line=$line
    fi
  done
  echo "$best_line"
}

report() {  # name json nengo_build_s nengo_us_per_step
  python3 - "$@" <<'PY'
import json, sys
name, line, nb, nu = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
m = json.loads(line)
b = f"({float(nb)/m['build_s']:5.1f}x Nengo {nb} s)" if nb != "-" else "(no Nengo reference)"
print(f"{name:24s} build {m['build_s']:7.3f} s {b}   "
      f"step {m['us_per_step']:9.1f} us ({nu/m['us_per_step']:6.1f}x Nengo {nu} us)")
PY
}

report "chain 10 1000 8 1" "$(best "$M" bench chain 10 1000 8 1)" 1.4 322
report "chain 50 2000 16 0.5" "$(best "$M" bench chain 50 2000 16 0.5)" 26.6 3800
report "stream 1024 1" "$(best "$M" bench stream 1024 1)" - 35700

for d in pes pavlovian; do
  line=$(best "$M" demo "$d" --out /tmp/myelin-bench-out)
  python3 - "$d" "$line" <<'PY'
import json, sys
d, m = sys.argv[1], json.loads(sys.argv[2])
lo, hi = {"pes": (0.7, 1.0), "pavlovian": (2.2, 3.2)}[d]
print(f"demo {d:10s}             build {m['build_s']:7.3f} s   run {m['run_s']*1e3:7.1f} ms "
      f"({lo/m['run_s']:.0f}-{hi/m['run_s']:.0f}x Nengo {lo}-{hi} s)")
PY
done
