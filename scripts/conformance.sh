#!/usr/bin/env bash
# Runs the Autobahn|Testsuite cases (through PyPI `kosoku`, pinned) against the gateway's WebSocket
# stack: the real binary with --echo-endpoint, which serves an echo WebSocket at / with exactly the
# production WebSocket configuration. Sections 1-7 and 10; 9.* (performance) and 12.*/13.*
# (permessage-deflate, which the gateway does not offer) are excluded. Fails on any FAILED case.
# Usage: scripts/conformance.sh [gateway binary]   (default .build/debug/hiveops-gateway)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/hiveops-gateway}
python3 -c "import kosoku" 2>/dev/null || python3 -m pip install -q kosoku==0.1.0
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$binary" --port "$port" --echo-endpoint --log-level warning >/dev/null 2>&1 &
gateway=$!
trap 'kill "$gateway" 2>/dev/null || true' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
PY
reports=$(mktemp -d)
timeout 600 kosoku "127.0.0.1:$port" -x '9.*' -x '12.*' -x '13.*' -p 4 -o "$reports" >/dev/null
python3 - "$reports/index.json" <<'PY'
import collections, json, sys
index = json.load(open(sys.argv[1]))
results = next(iter(index.values()))
by_section = collections.defaultdict(collections.Counter)
for case, result in results.items():
    by_section[case.split(".")[0]][result["behavior"]] += 1
failed = sorted(case for case, result in results.items() if result["behavior"] == "FAILED")
total = collections.Counter(result["behavior"] for result in results.values())
print("conformance: " + ", ".join(f"{count} {behavior}" for behavior, count in sorted(total.items())) + f" of {len(results)} cases")
for section in sorted(by_section, key=int):
    print(f"  section {section}: " + ", ".join(f"{count} {behavior}" for behavior, count in sorted(by_section[section].items())))
if failed:
    print("FAILED cases: " + ", ".join(failed))
    sys.exit(1)
PY
