#!/usr/bin/env node
// Local parity check: regenerates the TypeScript from schemas/ws_messages.schema.json into a
// temporary file through the schemagen CLI, compares it with the committed ws-messages.d.ts,
// prints a readable diff and the command that fixes it, and exits 1 on drift.
// CI's own check (`schemagen check`) stays the source of truth.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schema = path.join(root, "schemas/ws_messages.schema.json");
const committed = path.join(root, "mobile-pwa-types/ws-messages.d.ts");
const fix = "swift run schemagen generate --schema schemas/ws_messages.schema.json --ts-out mobile-pwa-types/ws-messages.d.ts";

const built = path.join(root, ".build/debug/schemagen");
const [command, prefix] = existsSync(built) ? [built, []] : ["swift", ["run", "--package-path", root, "schemagen"]];
const work = mkdtempSync(path.join(tmpdir(), "schema-parity-"));
try {
  const generated = path.join(work, "ws-messages.d.ts");
  execFileSync(command, [...prefix, "generate", "--schema", schema, "--ts-out", generated, "--source-name", "schemas/ws_messages.schema.json", "--regenerate-command", fix], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (readFileSync(generated, "utf8") === readFileSync(committed, "utf8")) {
    console.log("ws-messages.d.ts matches schemas/ws_messages.schema.json");
    process.exit(0);
  }
  const diff = spawnSync("diff", ["-u", "--label", "ws-messages.d.ts (committed)", "--label", "ws-messages.d.ts (from the schema)", committed, generated], { encoding: "utf8" });
  console.log(diff.stdout || "(the files differ; diff(1) is not available to show how)");
  console.error(`ws-messages.d.ts has drifted from the schema. Fix it with:\n  ${fix}`);
  process.exit(1);
} finally {
  rmSync(work, { recursive: true, force: true });
}
