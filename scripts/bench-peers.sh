#!/usr/bin/env bash
# Ours against nginx + nchan (Debian's packages), side by side in one run (issue 17, docs/BENCHMARKS.md).
# Each scenario runs against ours and nchan alternately, each server fresh: ours on its own Redis with the
# redis-broadcast publisher; nchan with 2 workers, published to through its HTTP publisher location at the
# REST broadcast path (several POSTs in flight, since a publish answers only after its fan-out) and
# subscribed to at /api/dashboard/ws/system. A second pass repeats the fixed-rate scenarios with a
# CPU-bound competitor (a busy loop at nice 10 on one core). Prints one table.
# Usage: scripts/bench-peers.sh [build dir, default .build/release] [rounds, default 1]
#   BENCH_PEERS_QUICK=1 runs each scenario for 5 s instead of 15 (a smoke run, not a measurement).
#   BENCH_PEERS_SPLIT_CORES=1 adds a pass of the fixed-rate scenarios with each server (ours with its
#   Redis) on the first half of the machine's cores and the load generator on the other half: there
#   the latency is the server's, not that of a load generator sharing its cores (docs/BENCHMARKS.md).
#   BENCH_PEERS_READER=nio reads with a SwiftNIO channel per connection, as runs before 2026-12-07's
#   fifth session did; the default, raw, costs the load generator half the CPU per frame, so that on
#   shared cores the latencies are the servers' (hiveops-bench --reader, docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-.build/release}
rounds=${2:-1}
duration=15
[ "${BENCH_PEERS_QUICK:-}" = 1 ] && duration=5
reader=${BENCH_PEERS_READER:-raw}

for binary in hiveops-gateway hiveops-bench; do
  [ -x "$build/$binary" ] || { echo "no $build/$binary: swift build -c release --product $binary" >&2; exit 1; }
done
if [ ! -e /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
  echo "installing nginx and libnginx-mod-nchan (Debian)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx libnginx-mod-nchan >/dev/null
fi

. scripts/bench-lib.sh
work=$(mktemp -d)
results=$work/results.tsv
start_redis
nginx_port=$(free_port)
busy_pid=
# Run prefixes of the split-cores pass (empty otherwise): the server's and the load generator's.
server_pin=()
client_pin=()
cores=$(nproc)
server_cores=0-$((cores / 2 - 1))
client_cores=$((cores / 2))-$((cores - 1))
cleanup() {
  [ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null || true
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  [ -n "${KEEP_RESULTS:-}" ] && cp "$results" "$KEEP_RESULTS"
  rm -rf "$work"
}
trap cleanup EXIT

# nginx with its own prefix: config, pid file, logs and temp paths under $work/nginx.
mkdir -p "$work/nginx/logs" "$work/nginx/temp"
cat >"$work/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 2;
worker_rlimit_nofile 20000;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 16000; }
http {
  access_log off;
  client_body_temp_path $work/nginx/temp/body;
  proxy_temp_path $work/nginx/temp/proxy;
  fastcgi_temp_path $work/nginx/temp/fastcgi;
  uwsgi_temp_path $work/nginx/temp/uwsgi;
  scgi_temp_path $work/nginx/temp/scgi;
  server {
    listen 127.0.0.1:$nginx_port reuseport;
    location = /api/dashboard/websocket/broadcast {
      nchan_publisher http;
      nchan_channel_id system;
    }
    location = /api/dashboard/ws/system {
      nchan_subscriber websocket;
      nchan_channel_id system;
    }
  }
}
EOF

# One run of hiveops-bench against one server: appends "scenario<TAB>server<TAB>json" to $results.
run() {
  local scenario=$1 server=$2
  shift 2
  local record
  if [ "$server" = ours ]; then
    redis-cli -p "$redis_port" flushall >/dev/null
    # The gateway the bench spawns: exec'd under the server's pin, if any, so that its pid is the bench's child's.
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${server_pin[*]}" "$(cd "$build" && pwd)/hiveops-gateway" >"$work/gateway"
    chmod +x "$work/gateway"
    record=$("${client_pin[@]}" "$build/hiveops-bench" --spawn-gateway "$work/gateway" --redis-url "$redis" \
      --publisher redis-broadcast --reader "$reader" --json "$@" 2>"$work/bench.log" | tail -1)
  else
    "${server_pin[@]}" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
    for _ in $(seq 50); do [ -s "$work/nginx/nginx.pid" ] && break; sleep 0.1; done
    local master pids=()
    master=$(cat "$work/nginx/nginx.pid")
    for pid in $master $(pgrep -P "$master"); do pids+=(--gateway-pid "$pid"); done
    record=$("${client_pin[@]}" "$build/hiveops-bench" --port "$nginx_port" "${pids[@]}" --publisher http \
      --publish-url "http://127.0.0.1:$nginx_port/api/dashboard/websocket/broadcast" --publish-concurrency 8 \
      --reader "$reader" --json "$@" 2>"$work/bench.log" | tail -1)
    kill "$master"
    for _ in $(seq 50); do [ -e "$work/nginx/nginx.pid" ] || break; sleep 0.1; done
  fi
  if [ -z "$record" ]; then
    echo "$scenario against $server produced no record:" >&2
    cat "$work/bench.log" >&2
    exit 1
  fi
  printf '%s\t%s\t%s\n' "$scenario" "$server" "$record" >>"$results"
}

# The fixed-rate scenarios, which the busy pass repeats.
fixed_rates() {
  local server=$1 pass=$2
  run "1,000 x 50/s$pass" "$server" --connections 1000 --rate 50 --duration "$duration"
  run "10,000 x 5/s$pass" "$server" --connections 10000 --rate 5 --duration "$duration"
}

for round in $(seq "$rounds"); do
  for server in ours nchan; do
    fixed_rates "$server" ""
    run "closed loop, 1,000 connections" "$server" --connections 1000 --rate 0 --duration "$duration"
    run "closed loop, 10,000 connections" "$server" --connections 10000 --rate 0 --duration "$duration"
    run "idle, 10,000 connections" "$server" --connections 10000 --idle-only
  done
  echo "round $round: quiet pass done" >&2
  # The busy pass: a CPU-bound competitor at nice 10 on one core, for both servers alike.
  taskset -c 0 nice -n 10 sh -c 'while :; do :; done' &
  busy_pid=$!
  for server in ours nchan; do fixed_rates "$server" ", busy machine"; done
  kill "$busy_pid"
  busy_pid=
  echo "round $round: busy pass done" >&2
  if [ "${BENCH_PEERS_SPLIT_CORES:-}" = 1 ] && [ "$cores" -lt 2 ]; then
    echo "one core: no split-cores pass" >&2
  elif [ "${BENCH_PEERS_SPLIT_CORES:-}" = 1 ]; then
    server_pin=(taskset -c "$server_cores")
    client_pin=(taskset -c "$client_cores")
    redis_pid=$(redis-cli -p "$redis_port" info server | tr -d '\r' | sed -n 's/^process_id://p')
    taskset -a -p -c "$server_cores" "$redis_pid" >/dev/null
    for server in ours nchan; do fixed_rates "$server" ", split cores"; done
    taskset -a -p -c "0-$((cores - 1))" "$redis_pid" >/dev/null
    server_pin=()
    client_pin=()
    echo "round $round: split-cores pass done" >&2
  fi
done

python3 - "$results" <<'PY'
import collections, statistics, json, sys
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    scenario, server, record = line.rstrip("\n").split("\t", 2)
    rows.setdefault((scenario, server), []).append(json.loads(record))
def mean(values):
    values = [v for v in values if v is not None]
    return statistics.mean(values) if values else None
def cpu_per_frame(r):
    after, before = r.get("gateway_after_run"), r.get("gateway_after_connect")
    if not after or not before or not r.get("delivered"):
        return None
    return (after["cpu_seconds"] - before["cpu_seconds"]) / r["delivered"] * 1e6
def fmt(value, pattern):
    return pattern.format(value) if value is not None else "n/a"
def client_per_frame(r):
    if r.get("load_generator_cpu_seconds") is None or not r.get("delivered"):
        return None
    return r["load_generator_cpu_seconds"] / r["delivered"] * 1e6
print("| scenario | server | runs | p50 ms | p99 ms | p99.9 ms | delivered frames/s | lost | CPU µs per frame | load generator µs per frame | memory per connection | publisher the limit |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for (scenario, server), records in rows.items():
    idle = scenario.startswith("idle")
    latency = [r.get("latency") or {} for r in records]
    print(" | ".join([
        f"| {scenario}", server, str(len(records)),
        "" if idle else fmt(mean(l.get("p50_ms") for l in latency), "{:.1f}"),
        "" if idle else fmt(mean(l.get("p99_ms") for l in latency), "{:.1f}"),
        "" if idle else fmt(mean(l.get("p999_ms") for l in latency), "{:.1f}"),
        "" if idle else f"{mean(r['delivered_per_second'] for r in records):,.0f}",
        "" if idle else str(sum(r["lost"] for r in records)),
        "" if idle else fmt(mean(cpu_per_frame(r) for r in records), "{:.2f}"),
        "" if idle else fmt(mean(client_per_frame(r) for r in records), "{:.2f}"),
        fmt(mean(r.get("gateway_bytes_per_connection") for r in records), "{:,.0f} B") if idle else "",
        "" if idle else ", ".join("yes" if r.get("publisher_limited") else "no" for r in records),
    ]) + " |")
print()
print("| scenario | p99 busy / quiet, ours | p99 busy / quiet, nchan |")
print("|---|---|---|")
for scenario in ("1,000 x 50/s", "10,000 x 5/s"):
    ratios = []
    for server in ("ours", "nchan"):
        quiet, busy = rows.get((scenario, server)), rows.get((scenario + ", busy machine", server))
        if quiet and busy:
            ratios.append(mean(r["latency"]["p99_ms"] for r in busy) / mean(r["latency"]["p99_ms"] for r in quiet))
        else:
            ratios.append(None)
    print(f"| {scenario} | {fmt(ratios[0], '{:.2f}')} | {fmt(ratios[1], '{:.2f}')} |")
PY
