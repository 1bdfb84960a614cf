#!/usr/bin/env bash
# The benchmark scenarios of docs/BENCHMARKS.md, in one run (release builds, loopback only).
# Starts its own redis-server on a free port; each scenario starts a fresh gateway through
# hiveops-bench --spawn-gateway, so that the gateway inherits the raised open-file limit.
# Usage: scripts/bench-scenarios.sh [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
format=${1:-}
swift build -c release --product hiveops-gateway >/dev/null
swift build -c release --product hiveops-bench >/dev/null
swift build -c release --product hiveops-microbench >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true' EXIT
bench() { .build/release/hiveops-bench --spawn-gateway .build/release/hiveops-gateway --redis-url "redis://127.0.0.1:$port" $format "$@"; }

echo "## 1. Fan-out, 1,000 connections, 256-byte events, as fast as possible for 20 s"
bench --connections 1000 --rate 0 --duration 20 --payload-bytes 256
echo "## 1. Fan-out, 10,000 connections"
bench --connections 10000 --rate 0 --duration 20 --payload-bytes 256
echo "## 2. Steady state, 10,000 connections, 5 events/s (50,000 frames/s)"
bench --connections 10000 --rate 5 --duration 20 --payload-bytes 256
echo "## 2b. 50,000 frames/s with fewer connections per event: 5,000 x 10/s, 2,000 x 25/s, 1,000 x 50/s"
bench --connections 5000 --rate 10 --duration 20 --payload-bytes 256
bench --connections 2000 --rate 25 --duration 20 --payload-bytes 256
bench --connections 1000 --rate 50 --duration 20 --payload-bytes 256
echo "## 3. Idle connections: memory per connection"
bench --connections "${IDLE_CONNECTIONS:-20000}" --idle-only
echo "## 4. Mixed: 5,000 connections, 2% stalled readers, 10 events/s of 4 KiB"
bench --connections 5000 --stalled-fraction 0.02 --rate 10 --duration 20 --payload-bytes 4096
echo "## 5. Micro-benchmarks"
.build/release/hiveops-microbench Tests/Fixtures/frames
