#!/usr/bin/env bash
# Times `schemagen generate` (release build) on the real schema and on a synthetic
# 300-message schema, and the debug compile time of the generated Swift for both.
# Usage: scripts/bench-schemagen.sh [runs]   (default 20 runs of the generator)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

swift build -c release --product schemagen >/dev/null
bin=.build/release/schemagen

python3 - "$work/synthetic.schema.json" <<'PY'
import json, sys
defs = {"Topic": {"type": "string", "enum": ["a", "b", "c"]}}
members = []
for i in range(300):
    name = f"Message{i:03d}"
    defs[name] = {
        "title": name, "description": f"Synthetic message {i}.", "type": "object",
        "properties": {
            "type": {"const": f"message_{i:03d}"},
            "id": {"type": "string"}, "count": {"type": "integer"}, "ratio": {"type": ["number", "null"]},
            "topic": {"$ref": "#/$defs/Topic"}, "tags": {"type": "array", "items": {"type": "string"}},
            "data": {"type": "object"},
        },
        "required": ["type", "id", "topic"], "additionalProperties": True,
    }
    members.append({"$ref": f"#/$defs/{name}"})
defs["AnyMessage"] = {"title": "AnyMessage", "oneOf": members}
json.dump({"$schema": "https://json-schema.org/draft/2020-12/schema", "version": "9.9.9", "$defs": defs}, open(sys.argv[1], "w"), indent=2)
PY

time_generate() {
  local schema=$1 name=$2
  local start end
  start=$(date +%s.%N)
  for _ in $(seq "$runs"); do "$bin" generate --schema "$schema" --swift-out "$work/$name.swift" --ts-out "$work/$name.d.ts"; done
  end=$(date +%s.%N)
  python3 -c "print(f'{($end - $start) / $runs * 1000:.1f}')"
}

time_compile() {
  local name=$1
  local start end
  start=$(date +%s.%N)
  (cd "$work" && swiftc -Onone -parse-as-library -swift-version 6 -module-name GeneratedMessages -c -wmo \
    "$OLDPWD"/Sources/GeneratedMessages/*.swift "$work/$name.swift" -o "$work/$name.o")
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.1f}')"
}

real_ms=$(time_generate schemas/ws_messages.schema.json real)
synthetic_ms=$(time_generate "$work/synthetic.schema.json" synthetic)
real_compile=$(time_compile real)
synthetic_compile=$(time_compile synthetic)
echo "| schema | types | generated Swift lines | generate (ms, mean of $runs) | debug compile of the module (s) |"
echo "|---|---|---|---|---|"
echo "| schemas/ws_messages.schema.json | $(grep -cE '^public (struct|enum|typealias)' "$work/real.swift") | $(wc -l < "$work/real.swift") | $real_ms | $real_compile |"
echo "| synthetic, 300 messages | $(grep -cE '^public (struct|enum|typealias)' "$work/synthetic.swift") | $(wc -l < "$work/synthetic.swift") | $synthetic_ms | $synthetic_compile |"
