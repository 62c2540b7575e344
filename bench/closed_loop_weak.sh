#!/usr/bin/env bash
# The closed loop's weak cells at more seeds: severities 0.5, 0.67, 0.75 and
# 1 (seeds 1-6; 1-3 for 0.67) and engine draws 1, 2 and 9 (seeds 1-3), each a
# `dialguard simulate --frontier` campaign. Prints one line a cell (engine,
# conversations, label-days, numbers ever labeled, ratio to the best fixed
# cap as clean, that cap), then the geometric mean of the ratios, the
# median, the worst, the cells below 1.0 and the numbers ever labeled in all.
#
# Usage: bench/closed_loop_weak.sh [DIALGUARD_BIN]   (about 2 minutes)
set -euo pipefail
bin=${1:-${DIALGUARD_BIN:-$(dirname "$0")/../target/release/dialguard}}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out="$dir/cells.txt"
cell() {
  "$bin" simulate --db "$dir/g.db" --frontier --format json "$@" 2>/dev/null | python3 -c "
import json, sys
f = json.load(sys.stdin)
g = f['guard']
ratio = None if f['ratio'] is None else round(f['ratio'], 3)
print('${*// /_}', g['conversations'], g['label_days'], g['numbers_ever_labeled'], ratio, (f['best'] or {}).get('cap'))
" | tee -a "$out"
}
for severity in 0.5 0.67 0.75 1; do
  for seed in 1 2 3 4 5 6; do
    if [ "$severity" = 0.67 ] && [ "$seed" -gt 3 ]; then continue; fi
    cell --severity "$severity" --seed "$seed"
  done
done
for draw in 1 2 9; do
  for seed in 1 2 3; do
    cell --engines random --engine-seed "$draw" --seed "$seed"
  done
done
python3 - "$out" <<'PY'
import math, sys
rows = [line.split() for line in open(sys.argv[1])]
ratios = sorted(float(r[-2]) for r in rows if r[-2] != "None")
print(f"cells {len(rows)}, with a ratio {len(ratios)}; geometric mean {math.exp(sum(map(math.log, ratios)) / len(ratios)):.3f}, "
      f"median {ratios[len(ratios) // 2]:.3f}, worst {ratios[0]:.3f}, below 1.0: {sum(r < 1 for r in ratios)}; "
      f"numbers ever labeled, all cells: {sum(int(r[-3]) for r in rows)}")
PY
