#!/usr/bin/env bash
# HTTP throughput of `dialguard serve`, side by side in one run, on a pool of
# 1,000 numbers with the event clock (the decide script moves time one
# simulated second every 200 requests, from 10:00 New York time):
#   1. wrk on GET /healthz: the baseline, the HTTP stack alone;
#   2. wrk on POST /v1/decide, same threads and connections: decisions/s as
#      a share of /healthz, and p99 latency. Twice:
#        roomy     bench/http/roomy.toml: caps far above the traffic, so
#                  nearly every decision is an allow (the reservation path);
#        defaults  the shipped caps: the pool is soon exhausted and nearly
#                  every decision is a pool_exhausted denial;
#   3. POST /v1/calls, 20 batches of 10,000 calls: durable rows/s (each answer
#      comes after its batch's commit).
# Needs wrk (apt-get install -y wrk) and python3. Server and wrk share the
# machine's cores, as they do on one box in production.
#
# Usage: bench/http.sh [SECONDS] [CONNECTIONS]   (default 10 s, 64 connections)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

cargo build --quiet --release -p dialguard
work=$(mktemp -d)
server=
stop() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=
}
trap 'stop; rm -rf "$work"' EXIT

start() { # start NAME [CONFIG]
  local config=()
  [ -n "${2:-}" ] && config=(--config "$2")
  target/release/dialguard --db "$work/$1.db" serve --listen 127.0.0.1:0 --clock event "${config[@]}" \
    > "$work/$1.out" 2> "$work/$1.err" &
  server=$!
  for _ in $(seq 100); do grep -q listening "$work/$1.out" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's|dialguard listening on http://||p' "$work/$1.out")
  [ -n "$addr" ] || { cat "$work/$1.err" >&2; exit 1; }
  python3 bench/http/setup.py "$addr" register 1000 > /dev/null
}

rate() { sed -n 's/^Requests\/sec: *//p' "$1"; }
p99() { awk '$1 == "99%" { print $2 }' "$1"; }

scenario() { # scenario NAME [CONFIG]
  start "$@"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://$addr/healthz" > "$work/$1.healthz"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s bench/http/decide.lua "http://$addr" > "$work/$1.decide"
  local h d
  h=$(rate "$work/$1.healthz")
  d=$(rate "$work/$1.decide")
  echo "-- $1"
  echo "healthz: $h req/s, p99 $(p99 "$work/$1.healthz")"
  echo "decide:  $d req/s, p99 $(p99 "$work/$1.decide")"
  grep -hE 'Non-2xx|Socket errors' "$work/$1.decide" "$work/$1.healthz" || true
  awk -v d="$d" -v h="$h" 'BEGIN { printf "decide / healthz = %.2f (target >= 0.70)\n", d / h }'
  curl -s "http://$addr/metrics" | grep -E '^dialguard_(decisions|denials)_total' | grep -v ' 0$' | sed 's/^/  /'
}

echo "== $(nproc) cores, $(date -u +%FT%TZ), wrk -t2 -c$connections -d${seconds}s, 1000 numbers"
scenario roomy bench/http/roomy.toml
echo "-- batch ingest"
python3 bench/http/setup.py "$addr" ingest 20 10000
stop
scenario defaults
