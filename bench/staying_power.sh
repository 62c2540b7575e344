#!/usr/bin/env bash
# Staying power, side by side in one run: resident memory and per-call fold
# time as a month of calls accumulates (examples/staying_power.rs: 1,000,000
# calls a day from 1,000 numbers to a list of 10,000,000 people), and the
# time `dialguard serve` takes to answer after a restart on the log those
# calls left, for this checkout and for another build of dialguard.
#
# Usage: bench/staying_power.sh [CALLS] [RESTART_CALLS] [BASE_DIR]
#   CALLS          calls folded for the memory figures (default 30000000,
#                  checkpoints at 1M, 10M and 30M)
#   RESTART_CALLS  calls written to the log the restart replays (default 10000000)
#   BASE_DIR       another checkout with examples/staying_power.rs, built
#                  into BASE_DIR/target (e.g. a `git worktree` of main), run
#                  beside this one; omitted: this checkout alone
# The two memory runs go side by side, one core each; the restarts one after
# the other on the same log. About 25 minutes at the defaults on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-30000000}
restart_calls=${2:-10000000}
base=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

checkpoints=$(python3 -c "
c = $calls
print(','.join(str(x) for x in sorted({min(c, 1_000_000), min(c, 10_000_000), c})))")

build() { # build DIR
  (cd "$1" && CARGO_TARGET_DIR="$1/target" cargo build --quiet --release -p dialguard --bin dialguard --example staying_power)
}
build "$PWD"
[ -n "$base" ] && build "$base"

echo "== $(nproc) cores, $(date -u +%FT%TZ); memory after each checkpoint (JSON lines)"
target/release/examples/staying_power --calls "$calls" --checkpoints "$checkpoints" > "$work/this.jsonl" &
this=$!
if [ -n "$base" ]; then
  "$base/target/release/examples/staying_power" --calls "$calls" --checkpoints "$checkpoints" > "$work/base.jsonl" &
  wait $!
fi
wait $this
echo "-- this checkout"; cat "$work/this.jsonl"
[ -n "$base" ] && { echo "-- $base"; cat "$work/base.jsonl"; }

echo "== restart: $restart_calls calls in a SQLite log, then dialguard serve until it listens"
target/release/examples/staying_power --calls "$restart_calls" --checkpoints "$restart_calls" --db "$work/log.db" > /dev/null
ls -l "$work/log.db" | awk '{ printf "log: %.1f GB\n", $5 / 1e9 }'

restart() { # restart BINARY LABEL
  local started out pid rss
  out="$work/serve.out"
  : > "$out"
  started=$(date +%s.%N)
  "$1" --db "$work/log.db" serve --listen 127.0.0.1:0 > "$out" 2> "$work/serve.err" &
  pid=$!
  until grep -q listening "$out" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.05
  done
  rss=$(awk '/VmRSS/ { print $2 / 1024 }' "/proc/$pid/status")
  python3 -c "print('{\"binary\": \"$2\", \"restart_s\": %.2f, \"rss_mb\": %.0f}' % ($(date +%s.%N) - $started, $rss))"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}
restart target/release/dialguard this
[ -n "$base" ] && restart "$base/target/release/dialguard" base
true
