#!/usr/bin/env bash
# Runs schemagen over every vendored real-world schema (Tests/SchemaCorpus/) and holds it to its
# promise: each either generates Swift that `swiftc -typecheck` accepts and TypeScript that
# `tsc --strict` accepts, or exits 2 with an error that names a JSON pointer (or a JSON line and
# column). A crash, a hang (20 s), any other exit, or output that does not compile fails the run.
# Prints one row per schema and the tally, as Markdown.
# Usage: scripts/schema-corpus.sh [schemagen binary]   (default: a debug build of schemagen)
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
  swift build --product schemagen >/dev/null 2>&1 || { echo "schema-corpus: building schemagen failed" >&2; exit 1; }
  bin=.build/debug/schemagen
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
compiled=0 refused=0 failed=0
echo "| schema | outcome | detail |"
echo "|---|---|---|"
for schema in Tests/SchemaCorpus/*/*.json; do
  name=$(basename "$schema" .json)
  timeout 20 "$bin" generate --schema "$schema" --swift-out "$work/$name.swift" --ts-out "$work/$name.d.ts" \
    >"$work/$name.log" 2>&1
  status=$?
  message=$(head -c 300 "$work/$name.log" | tr '\n|' ' /' | sed "s|^schemagen: $schema: ||")
  if [ "$status" = 0 ]; then
    if ! swiftc -typecheck -parse-as-library -swift-version 6 -module-name GeneratedMessages \
        Sources/GeneratedMessages/*.swift "$work/$name.swift" >"$work/$name.swiftc" 2>&1; then
      echo "| $name | FAILED | generated Swift does not type-check: $(grep -m1 error: "$work/$name.swiftc" | tr '|' '/') |"
      failed=$((failed + 1))
    elif ! tsc --strict --noEmit "$work/$name.d.ts" >"$work/$name.tsc" 2>&1; then
      echo "| $name | FAILED | generated TypeScript does not type-check: $(head -1 "$work/$name.tsc" | tr '|' '/') |"
      failed=$((failed + 1))
    else
      types=$(grep -cE '^public (struct|enum|indirect enum|typealias) ' "$work/$name.swift")
      echo "| $name | compiles | $types Swift types, $(wc -l <"$work/$name.swift") lines |"
      compiled=$((compiled + 1))
    fi
  elif [ "$status" = 2 ] && grep -qE ' at #|at line [0-9]+, column [0-9]+' "$work/$name.log"; then
    echo "| $name | refused | $message |"
    refused=$((refused + 1))
  else
    echo "| $name | FAILED | exit $status (124: hang; above 128: a signal): $message |"
    failed=$((failed + 1))
  fi
done
echo
echo "$((compiled + refused + failed)) schemas: $compiled compile in Swift and TypeScript, $refused refused with a pointer, $failed failed."
[ "$failed" = 0 ]
