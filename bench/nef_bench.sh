#!/usr/bin/env bash
# NEF simulator benchmarks (issues "Foundation" and "Online learning"): runs the reference
# models with the CLI and prints each result next to the Nengo 4.1 reference measured on a
# machine of our kind (numbers from the issues; Nengo is not installable here).
# Usage: bench/nef_bench.sh [build-dir]   (best of 3 runs each; run on an idle machine)
# Extra arguments for the chain/stream runs (e.g. --threads 1) go in MYELIN_BENCH_ARGS.
set -euo pipefail
B=${1:-build}
M="$B/myelin"
[ -x "$M" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }

best() {  # 3 runs of a command printing one JSON line; echoes one JSON line holding the
          # minimum of each timing field (build_s, run_s, us_per_step) over the runs
  local lines=()
  for _ in 1 2 3; do lines+=("$("$@" | tail -n 1)"); done
  python3 - "${lines[@]}" <<'PY'
import json, sys
runs = [json.loads(a) for a in sys.argv[1:]]
out = dict(runs[0])
for k in ("build_s", "run_s", "us_per_step"):
    if k in out:
        out[k] = min(r[k] for r in runs)
print(json.dumps(out))
PY
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

A=${MYELIN_BENCH_ARGS:-}
# shellcheck disable=SC2086
report "chain 10 1000 8 1" "$(best "$M" bench chain 10 1000 8 1 $A)" 1.4 322
# shellcheck disable=SC2086
report "chain 50 2000 16 0.5" "$(best "$M" bench chain 50 2000 16 0.5 $A)" 26.6 3800
# shellcheck disable=SC2086
report "stream 1024 1" "$(best "$M" bench stream 1024 1 $A)" - 35700

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
