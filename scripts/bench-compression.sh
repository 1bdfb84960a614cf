#!/usr/bin/env bash
# permessage-deflate on against off, in one run (docs/BENCHMARKS.md): the same release gateway,
# the load connections offering permessage-deflate (as browsers do) or not, alternating, each run a
# fresh gateway. Scenarios: closed loop with 1,000 connections, 1,000 x 50/s and 10,000 x 5/s;
# 256-byte padded events (the standard scenarios) and 2 KiB agent_update-like fleets.
# Usage: scripts/bench-compression.sh [build dir, default .build/release] [rounds, default 2]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-.build/release}
rounds=${2:-2}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
results=$(mktemp)
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -f "$results"' EXIT

run() {
  local label=$1 compression=$2
  shift 2
  local flags=()
  [ "$compression" = on ] && flags=(--compression)
  local record
  record=$("$build/hiveops-bench" --spawn-gateway "$build/hiveops-gateway" --redis-url "redis://127.0.0.1:$port" --json \
    --duration 15 "${flags[@]}" "$@" 2>/dev/null | tail -1)
  printf '%s\t%s\t%s\n' "$label" "$compression" "$record" >>"$results"
}

for round in $(seq "$rounds"); do
  for shape in "padding 256" "fleet 2048"; do
    set -- $shape
    for compression in off on; do
      run "closed loop, 1,000 connections, $1 $2 B" "$compression" --connections 1000 --rate 0 --payload-shape "$1" --payload-bytes "$2"
      run "1,000 x 50/s, $1 $2 B" "$compression" --connections 1000 --rate 50 --payload-shape "$1" --payload-bytes "$2"
      run "10,000 x 5/s, $1 $2 B" "$compression" --connections 10000 --rate 5 --payload-shape "$1" --payload-bytes "$2"
    done
  done
  echo "round $round done" >&2
done

python3 - "$results" <<'PY'
import collections, json, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, compression, record = line.rstrip("\n").split("\t", 2)
    rows[(label, compression)].append(json.loads(record))
print("| scenario | compression | runs | delivered frames/s | p50 ms | p99 ms | gateway CPU µs per delivered frame | lost |")
print("|---|---|---|---|---|---|---|---|")
def joined(records, value):
    return " / ".join(value(record) for record in records)
def cpu(record):
    spent = record["gateway_after_run"]["cpu_seconds"] - record["gateway_after_connect"]["cpu_seconds"]
    return f"{spent / max(1, record['delivered']) * 1e6:.2f}"
for (label, compression), records in rows.items():
    rate = sum(record["delivered_per_second"] for record in records) / len(records)
    p50 = joined(records, lambda record: f"{record['latency']['p50_ms']:.1f}")
    p99 = joined(records, lambda record: f"{record['latency']['p99_ms']:.1f}")
    lost = sum(record["lost"] for record in records)
    print(f"| {label} | {compression} | {len(records)} | {rate:,.0f} | {p50} | {p99} | {joined(records, cpu)} | {lost} |")
PY
