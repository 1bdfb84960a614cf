#!/usr/bin/env bash
# Runs every check and every test, the same way CI does. Installs the few tools it
# needs when they are missing (Debian: node-typescript, redis-server, chromium, zlib1g-dev;
# PyPI: jsonschema, kosoku, websockets).
# The Redis tests start their own redis-server on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tsc >/dev/null || ! command -v redis-server >/dev/null || ! command -v chromium >/dev/null || [ ! -e /usr/include/zlib.h ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq node-typescript redis-server chromium zlib1g-dev >/dev/null
fi
if ! python3 -c "import jsonschema" 2>/dev/null; then
  python3 -m pip install -q jsonschema
fi
if ! python3 -c "import kosoku" 2>/dev/null; then
  python3 -m pip install -q kosoku==0.1.0
fi
if ! python3 -c "import websockets" 2>/dev/null; then
  python3 -m pip install -q websockets
fi

step() { printf '\n== %s\n' "$*"; }

step "swift format lint --strict"
swift format lint --strict --recursive --parallel Sources Tests Plugins Package.swift

step "build (the build plugin regenerates Sources/GeneratedMessages from the schema); no compiler warning in our own targets"
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
swift build --build-tests 2>&1 | tee "$build_log"
# A clean build (CI's) compiles every file, so every warning of ours shows here.
if grep -E "^$PWD/(Sources|Tests|Plugins)/[^:]+:[0-9]+:[0-9]+: warning:" "$build_log" | sort -u; then
  echo "compiler warnings in our own targets (above): fix them"
  exit 1
fi

step "schemagen check: the committed TypeScript matches the schema"
.build/debug/schemagen check --schema schemas/ws_messages.schema.json --ts mobile-pwa-types/ws-messages.d.ts \
  --guards mobile-pwa-types/ws-message-guards.mjs

step "tsc --strict: the declarations, the guards (checkJs), the client's types and two example consumers"
(cd mobile-pwa-types && tsc --strict --noEmit --module es2020 --target es2020 --moduleResolution node \
  ws-messages.d.ts ws-message-guards.d.ts ws-client.d.ts examples/consumer.ts examples/client-usage.ts \
  && tsc --strict --noEmit --allowJs --checkJs --module es2020 --target es2020 --moduleResolution node ws-message-guards.mjs)

step "mobile-pwa-types: the local parity check"
node mobile-pwa-types/scripts/check-schema-parity.mjs

step "fixtures against the schema (Python jsonschema, draft 2020-12)"
python3 scripts/validate_fixtures.py

step "snippet outputs type-check (swiftc, tsc)"
.ci/check-snippets.sh

step "schemagen over the vendored real-world schemas: each compiles or is refused with a pointer (docs/SCHEMAGEN.md)"
scripts/schema-corpus.sh .build/debug/schemagen

step "WebSocket conformance: Autobahn|Testsuite cases through kosoku (docs/CONFORMANCE.md)"
scripts/conformance.sh .build/debug/hiveops-gateway

step "permessage-deflate: Python websockets against the real binary, and decompression bombs (docs/CONFORMANCE.md)"
python3 scripts/compression_interop.py .build/debug/hiveops-gateway

step "mobile-pwa-types: the reference client (node --test, against the real binary; headless Chromium for the browser test)"
# Bounded as a whole: a child left running (a browser, a gateway) would otherwise hold the step open
# until CI's own limit; the tests themselves take a minute or two.
(cd mobile-pwa-types && timeout --kill-after=30 900 node --experimental-websocket --test test/)

step "swift test"
swift test --skip-build

# The long runs load the machine enough to starve timing-based tests: each runs alone, after the rest.
step "fuzz: 100,000 malformed inputs against the real binary (docs/CONFORMANCE.md)"
HIVEOPS_LONG_TESTS=1 swift test --skip-build --filter MalformedInputFuzzTests

step "soak: churn, floods, stalled readers and a Redis restart, 60 s (docs/CONFORMANCE.md)"
HIVEOPS_LONG_TESTS=1 swift test --skip-build --filter SoakTests
