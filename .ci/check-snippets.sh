#!/usr/bin/env bash
# Proves the committed snippet outputs are real code: every expected Swift file
# type-checks against the GeneratedMessages runtime, every .d.ts under tsc --strict, a snippet
# with a roundtrip.swift runs it against its generated Swift, and one with a usage.ts type-checks
# it against its generated TypeScript (narrowing, exhaustiveness).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for dir in Tests/SchemaGenTests/Snippets/*/; do
  name=$(basename "$dir")
  cp "$dir/Expected.swift.golden" "$work/$name.swift"
  if ! swiftc -typecheck -parse-as-library -swift-version 6 -module-name GeneratedMessages \
      Sources/GeneratedMessages/*.swift "$work/$name.swift" 2>"$work/$name.swift.log"; then
    echo "snippet $name: generated Swift does not type-check:"; cat "$work/$name.swift.log"; status=1
  fi
  if [ -f "$dir/roundtrip.swift" ]; then
    if ! swiftc -parse-as-library -swift-version 6 -module-name GeneratedMessages -o "$work/$name.run" \
        Sources/GeneratedMessages/*.swift "$work/$name.swift" "$dir/roundtrip.swift" 2>"$work/$name.run.log" \
        || ! "$work/$name.run" >>"$work/$name.run.log" 2>&1; then
      echo "snippet $name: roundtrip.swift failed:"; cat "$work/$name.run.log"; status=1
    fi
  fi
  cp "$dir/Expected.d.ts.golden" "$work/$name.d.ts"
  if ! tsc --strict --noEmit "$work/$name.d.ts" >"$work/$name.ts.log" 2>&1; then
    echo "snippet $name: generated TypeScript does not type-check:"; cat "$work/$name.ts.log"; status=1
  fi
  if [ -f "$dir/usage.ts" ]; then
    mkdir -p "$work/$name-usage"
    cp "$dir/Expected.d.ts.golden" "$work/$name-usage/Expected.d.ts"
    cp "$dir/usage.ts" "$work/$name-usage/usage.ts"
    if ! tsc --strict --noEmit --noImplicitReturns "$work/$name-usage/usage.ts" >"$work/$name.usage.log" 2>&1; then
      echo "snippet $name: usage.ts does not type-check against the generated TypeScript:"; cat "$work/$name.usage.log"; status=1
    fi
  fi
done
[ "$status" = 0 ] && echo "snippets: all $(ls -d Tests/SchemaGenTests/Snippets/*/ | wc -l) type-check in Swift and TypeScript"
exit "$status"
