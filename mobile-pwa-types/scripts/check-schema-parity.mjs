#!/usr/bin/env node
// Local parity check: regenerates the TypeScript and the type guards from
// schemas/ws_messages.schema.json into a temporary directory through the schemagen CLI, compares
// them with the committed ws-messages.d.ts, ws-message-guards.mjs and ws-message-guards.d.ts,
// prints a readable diff and the command that fixes it, and exits 1 on drift.
// CI's own check (`schemagen check`) stays the source of truth.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schema = path.join(root, "schemas/ws_messages.schema.json");
const files = ["ws-messages.d.ts", "ws-message-guards.mjs", "ws-message-guards.d.ts"];
const fix =
  "swift run schemagen generate --schema schemas/ws_messages.schema.json --ts-out mobile-pwa-types/ws-messages.d.ts --guards-out mobile-pwa-types/ws-message-guards.mjs";

const built = path.join(root, ".build/debug/schemagen");
const [command, prefix] = existsSync(built) ? [built, []] : ["swift", ["run", "--package-path", root, "schemagen"]];
const work = mkdtempSync(path.join(tmpdir(), "schema-parity-"));
try {
  const generated = (file) => path.join(work, file);
  const committed = (file) => path.join(root, "mobile-pwa-types", file);
  execFileSync(
    command,
    [...prefix, "generate", "--schema", schema, "--ts-out", generated(files[0]), "--guards-out", generated(files[1]), "--source-name", "schemas/ws_messages.schema.json", "--regenerate-command", fix],
    { stdio: ["ignore", "ignore", "inherit"] }
  );
  const drifted = files.filter((file) => readFileSync(generated(file), "utf8") !== (existsSync(committed(file)) ? readFileSync(committed(file), "utf8") : ""));
  if (drifted.length === 0) {
    console.log(`${files.join(", ")} match schemas/ws_messages.schema.json`);
    process.exit(0);
  }
  for (const file of drifted) {
    const diff = spawnSync("diff", ["-u", "--label", `${file} (committed)`, "--label", `${file} (from the schema)`, committed(file), generated(file)], { encoding: "utf8" });
    console.log(diff.stdout || `(${file} differs; diff(1) is not available to show how)`);
  }
  console.error(`${drifted.join(", ")} drifted from the schema. Fix it with:\n  ${fix}`);
  process.exit(1);
} finally {
  rmSync(work, { recursive: true, force: true });
}
