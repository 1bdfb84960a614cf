#!/usr/bin/env bash
# Runs the Autobahn|Testsuite cases (through PyPI `kosoku`, pinned) against the gateway's WebSocket
# stack: the real binary with --echo-endpoint, which serves an echo WebSocket at / with exactly the
# production WebSocket configuration. Sections 1-7 and 10 run against the default settings;
# 12.* and 13.* (permessage-deflate) against a second gateway with --compression-threshold 0, so
# that every echo is compressed: kosoku 0.1.0 hands an uncompressed message on a compressed
# connection to those cases as a str and errors in its own hashing (docs/CONFORMANCE.md).
# 9.* (performance) is excluded. Fails on any case that is not OK, NON-STRICT or INFORMATIONAL.
# Usage: scripts/conformance.sh [gateway binary]   (default .build/debug/hiveops-gateway)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/hiveops-gateway}
python3 -c "import kosoku" 2>/dev/null || python3 -m pip install -q kosoku==0.1.0
reports=$(mktemp -d)
gateways=()
trap 'kill "${gateways[@]}" 2>/dev/null || true; rm -rf "$reports"' EXIT

# Starts an echo gateway with extra flags and sets the variable named by $1 to its port once
# /health answers. Not in a command substitution: the pid must reach this shell's trap.
start_gateway() {
  local into=$1 port
  shift
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$binary" --port "$port" --echo-endpoint --log-level warning "$@" >/dev/null 2>&1 &
  gateways+=($!)
  python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
PY
  printf -v "$into" '%s' "$port"
}

start_gateway plain
start_gateway compressing --compression-threshold 0
# The two runs at once: the deflate sections take most of the time.
timeout 1200 kosoku "127.0.0.1:$plain" -x '9.*' -x '12.*' -x '13.*' -p 2 -o "$reports/plain" >/dev/null &
first=$!
timeout 1200 kosoku "127.0.0.1:$compressing" -i '12.*' -i '13.*' -p 4 -o "$reports/deflate" >/dev/null
wait "$first"
python3 - "$reports/plain/index.json" "$reports/deflate/index.json" <<'PY'
import collections, json, sys
results = {}
for path in sys.argv[1:]:
    results.update(next(iter(json.load(open(path)).values())))
by_section = collections.defaultdict(collections.Counter)
for case, result in results.items():
    by_section[case.split(".")[0]][result["behavior"]] += 1
accepted = {"OK", "NON-STRICT", "INFORMATIONAL"}
failed = sorted((case for case, result in results.items() if result["behavior"] not in accepted), key=lambda c: [int(p) for p in c.split(".")])
total = collections.Counter(result["behavior"] for result in results.values())
print("conformance: " + ", ".join(f"{count} {behavior}" for behavior, count in sorted(total.items())) + f" of {len(results)} cases")
for section in sorted(by_section, key=int):
    print(f"  section {section}: " + ", ".join(f"{count} {behavior}" for behavior, count in sorted(by_section[section].items())))
if failed:
    print("not passed: " + ", ".join(f"{case} ({results[case]['behavior']})" for case in failed))
    sys.exit(1)
PY
