#!/usr/bin/env bash
# The history and recovery (issue 16), in one run (docs/BENCHMARKS.md):
#  1. live fan-out, history on against off (--history-size 0), the same release gateway on Redis,
#     alternating, each run a fresh gateway: closed loop over 1,000 connections (throughput) and
#     1,000 x 50/s (latency); the ratio on/off of each figure;
#  2. 1,000 clients recovering 1,000 events at once: from a single node's memory, from a Redis
#     node's memory, and from Redis itself (a gateway started after the events);
#  3. the memory of a full history: 1,000 events of ~256 B on each of the six topics, one node.
# Usage: scripts/bench-history.sh [build dir, default .build/release] [rounds, default 2]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-.build/release}
rounds=${2:-2}
. scripts/bench-lib.sh
start_redis
results=$(mktemp)
gateway_pid=
cleanup() {
  [ -n "$gateway_pid" ] && kill "$gateway_pid" 2>/dev/null || true
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  rm -f "$results"
}
trap cleanup EXIT

# Starts a gateway in the background on a free port: sets gateway_pid and gateway_port.
start_gateway() {
  gateway_port=$(free_port)
  "$build/hiveops-gateway" --port "$gateway_port" "$@" 2>/dev/null &
  gateway_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$gateway_port/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "the gateway did not start" >&2
  exit 1
}
stop_gateway() {
  kill "$gateway_pid"
  wait "$gateway_pid" 2>/dev/null || true
  gateway_pid=
}

echo "== 1. live fan-out, history on against off ($rounds rounds)" >&2
live() {
  local label=$1 history=$2
  shift 2
  local off=()
  [ "$history" = off ] && off=(--gateway-args="--history-size 0")
  redis-cli -p "$redis_port" flushall >/dev/null
  local record
  record=$("$build/hiveops-bench" --spawn-gateway "$build/hiveops-gateway" "${off[@]}" --redis-url "$redis" --json \
    --duration 15 "$@" 2>/dev/null | tail -1)
  printf '%s\t%s\t%s\n' "$label" "$history" "$record" >>"$results"
}
for round in $(seq "$rounds"); do
  for history in on off; do
    live "closed loop, 1,000 connections" "$history" --connections 1000 --rate 0
    live "1,000 x 50/s" "$history" --connections 1000 --rate 50
  done
  echo "round $round done" >&2
done
python3 - "$results" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, history, record = line.rstrip("\n").split("\t", 2)
    rows[(label, history)].append(json.loads(record))
def cpu(record):
    spent = record["gateway_after_run"]["cpu_seconds"] - record["gateway_after_connect"]["cpu_seconds"]
    return spent / max(1, record["delivered"]) * 1e6
print("| scenario | history | runs | delivered frames/s | p50 ms | p99 ms | CPU µs per frame | lost |")
print("|---|---|---|---|---|---|---|---|")
for (label, history), records in rows.items():
    print(f"| {label} | {history} | {len(records)} | {statistics.mean(r['delivered_per_second'] for r in records):,.0f} | "
          + " / ".join(f"{r['latency']['p50_ms']:.1f}" for r in records) + " | "
          + " / ".join(f"{r['latency']['p99_ms']:.1f}" for r in records) + " | "
          + " / ".join(f"{cpu(r):.2f}" for r in records) + f" | {sum(r['lost'] for r in records)} |")
print()
print("| scenario | throughput on/off | p99 on/off (mean of runs) |")
print("|---|---|---|")
for label in dict.fromkeys(label for label, _ in rows):
    on, off = rows[(label, "on")], rows[(label, "off")]
    throughput = statistics.mean(r["delivered_per_second"] for r in on) / statistics.mean(r["delivered_per_second"] for r in off)
    p99 = statistics.mean(r["latency"]["p99_ms"] for r in on) / statistics.mean(r["latency"]["p99_ms"] for r in off)
    print(f"| {label} | {throughput:.2f} | {p99:.2f} |")
PY

echo "== 2. 1,000 clients recover 1,000 events at once" >&2
recover() {
  "$build/hiveops-bench" --connections 1000 --recover-events 1000 --json "$@" 2>/dev/null | tail -1
}
echo "| recovered from | clients × events | complete | out of order | seconds | replayed frames/s | gateway CPU s | CPU µs per replayed frame |"
echo "|---|---|---|---|---|---|---|---|"
row() {
  python3 - "$1" "$2" <<'PY'
import json, sys
label, r = sys.argv[1], json.loads(sys.argv[2])
cpu = r.get("gateway_cpu_seconds") or 0
replayed = max(1, r["complete"] * r["events"])
print(f"| {label} | {r['clients']:,} × {r['events']:,} | {r['complete']:,} | {r['out_of_order']} | {r['seconds']:.2f} | "
      f"{r['replayed_per_second']:,.0f} | {cpu:.2f} | {cpu / replayed * 1e6:.2f} |")
PY
}
row "a single node's memory" "$(recover --spawn-gateway "$build/hiveops-gateway" --publisher rest)"
redis-cli -p "$redis_port" flushall >/dev/null
row "a Redis node's memory" "$(recover --spawn-gateway "$build/hiveops-gateway" --redis-url "$redis")"
# A gateway that did not hear the events: it reads them from Redis (one script call per client).
start_gateway --redis-url "$redis"
"$build/hiveops-bench" --port "$gateway_port" --redis-url "$redis" --connections 1 --recover-events 1000 >/dev/null 2>&1
stop_gateway
start_gateway --redis-url "$redis"
row "Redis (a node started after the events)" "$(recover --port "$gateway_port" --gateway-pid "$gateway_pid" --redis-url "$redis" --recover-only)"
stop_gateway

echo "== 3. a full history: 1,000 events of ~256 B on each topic" >&2
memory() {
  local label=$1
  shift
  start_gateway "$@"
  python3 - "$gateway_port" "$gateway_pid" "$label" <<'PY'
import http.client, json, sys
port, pid, label = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
def gauge(name):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))
before = rss()
connection = http.client.HTTPConnection("127.0.0.1", port)
padding = "x" * 200
types = {"agents": "agent_update", "coordination": "coordination_update", "tasks": "task_update",
         "system": "system_update", "alerts": "critical_alert", "project_index": "project_index_event"}
for topic, kind in types.items():
    for seq in range(1000):
        data = {"alerts": [{"seq": seq, "p": padding}]} if kind == "critical_alert" else {"seq": seq, "p": padding}
        connection.request("POST", f"/api/dashboard/websocket/broadcast?subscription={topic}&message_type={kind}", body=json.dumps(data))
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
after = rss()
events, kept = gauge("hiveops_ws_history_events"), gauge("hiveops_ws_history_bytes")
redis = gauge("hiveops_redis_history_bytes")
print(f"| {label} | {events:,.0f} | {kept / 1048576:.2f} MiB | {(after - before) / 1048576:.2f} MiB | "
      + (f"{redis / 1048576:.2f} MiB" if redis else "n/a") + " |")
PY
  stop_gateway
}
echo "| gateway | events kept | frames kept (gauge) | gateway RSS growth | Redis streams (MEMORY USAGE) |"
echo "|---|---|---|---|---|"
memory "single node"
redis-cli -p "$redis_port" flushall >/dev/null
memory "with Redis" --redis-url "$redis"
