#!/usr/bin/env python3
"""Validates every frame fixture against the contract schema with a real
JSON Schema validator (draft 2020-12): server/ frames as ServerMessage,
client/ frames as ClientMessage. Exits 1 on the first invalid fixture."""
import json
import pathlib
import sys

from jsonschema import Draft202012Validator

root = pathlib.Path(__file__).resolve().parent.parent
schema = json.loads((root / "schemas/ws_messages.schema.json").read_text())
Draft202012Validator.check_schema(schema)

failures = 0
count = 0
for folder, definition in (("server", "ServerMessage"), ("client", "ClientMessage")):
    validator = Draft202012Validator({**schema, "oneOf": [{"$ref": f"#/$defs/{definition}"}]})
    for path in sorted((root / "Tests/Fixtures/frames" / folder).glob("*.json")):
        count += 1
        errors = list(validator.iter_errors(json.loads(path.read_text())))
        if errors:
            failures += 1
            print(f"{path.relative_to(root)}: {errors[0].message}")

if failures:
    print(f"fixtures: {failures} of {count} invalid")
    sys.exit(1)
print(f"fixtures: all {count} valid against schemas/ws_messages.schema.json")
