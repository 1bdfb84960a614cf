#!/usr/bin/env node
// Side by side with json-schema-to-typescript on its own end-to-end inputs (docs/SCHEMAGEN.md).
//
//   node scripts/jstt-compare.mjs <jstt checkout> [schemagen binary] > table.md
//
// <jstt checkout> is a json-schema-to-typescript working tree at a commit whose expected outputs
// are in test/__snapshots__/test/test.ts.md (AVA's readable snapshot; 2ca6e50 is the one measured).
// Nothing of it is vendored here: the script reads its test/e2e/*.ts inputs and that snapshot.
// For each input it runs schemagen, and where both produce TypeScript it asks tsc whether each
// type both declare under one name accepts the same values (mutual assignability), so that the
// table says which types agree, which differ, and which only one side declares.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [checkout, binaryArgument] = process.argv.slice(2);
if (!checkout) {
  console.error("usage: node scripts/jstt-compare.mjs <json-schema-to-typescript checkout> [schemagen binary]");
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const schemagen = binaryArgument ?? path.join(root, ".build/debug/schemagen");
const e2e = path.join(checkout, "test/e2e");
const work = mkdtempSync(path.join(tmpdir(), "jstt-compare-"));

try {
  // The inputs are TypeScript modules exporting `input` (and `options`, `error`): transpile them.
  const sources = readdirSync(e2e).filter((name) => name.endsWith(".ts") && !name.includes(".ignore."));
  spawnSync("tsc", ["--outDir", path.join(work, "inputs"), "--module", "commonjs", "--target", "es2019", "--skipLibCheck", ...sources.map((name) => path.join(e2e, name))], {
    stdio: "ignore",
  });
  const require = createRequire(import.meta.url);
  const snapshots = parseSnapshots(readFileSync(path.join(checkout, "test/__snapshots__/test/test.ts.md"), "utf8"));

  const rows = [];
  for (const source of sources.sort()) {
    const name = source.replace(/\.ts$/, "");
    let testCase;
    try {
      testCase = require(path.join(work, "inputs", `${name}.js`));
    } catch (error) {
      rows.push({ name, theirs: "-", ours: "input did not load", detail: String(error.message).split("\n")[0] });
      continue;
    }
    const theirs = snapshots.get(`${name}.js`);
    const directory = path.join(work, "cases", name);
    mkdirSync(directory, { recursive: true });
    const schemaPath = path.join(directory, `${name}.json`);
    writeFileSync(schemaPath, JSON.stringify(testCase.input, null, 2));
    const oursPath = path.join(directory, "ours.d.ts");
    // jstt's one option we have too: what an object without `additionalProperties` allows.
    const closed = testCase.options?.additionalProperties === false ? ["--ts-additional-properties", "closed"] : [];
    const run = spawnSync(schemagen, ["generate", "--schema", schemaPath, "--ts-out", oursPath, ...closed], { encoding: "utf8", timeout: 20000 });
    const options = testCase.options ? Object.keys(testCase.options).join(", ") : "";
    const theirsStatus = testCase.error ? "error (expected)" : theirs ? "output" : "no snapshot";
    if (run.status !== 0) {
      const message = (run.stderr || run.error?.message || "").trim().replace(/^schemagen: [^:]+: /, "");
      rows.push({ name, theirs: theirsStatus, ours: run.status === 2 ? "refused" : `exit ${run.status}`, detail: message, options });
      continue;
    }
    if (!theirs) {
      rows.push({ name, theirs: theirsStatus, ours: "output", detail: "", options });
      continue;
    }
    writeFileSync(path.join(directory, "theirs.d.ts"), theirs);
    rows.push({ name, theirs: theirsStatus, ours: "output", options, ...compareTypes(directory, readFileSync(oursPath, "utf8"), theirs) });
  }
  printTable(rows);
} finally {
  if (process.env.JSTT_COMPARE_KEEP) console.error(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

/** `## name.js` → the TypeScript in its snapshot block, unescaped. */
function parseSnapshots(markdown) {
  const result = new Map();
  for (const section of markdown.split(/^## /m).slice(1)) {
    const title = section.slice(0, section.indexOf("\n")).trim();
    const start = section.indexOf("    `");
    if (start < 0) continue;
    const lines = [];
    for (const line of section.slice(start + 5).split("\n")) {
      const text = line.startsWith("    ") ? line.slice(4) : line;
      if (text.endsWith("`") && !text.endsWith("\\`")) {
        lines.push(text.slice(0, -1));
        break;
      }
      lines.push(text);
    }
    const body = lines.join("\n").replace(/␊/g, "").replace(/\\`/g, "`").replace(/\\\$\{/g, "${").replace(/\\\\/g, "\\");
    result.set(title, body);
  }
  return result;
}

/** The exported type names of a declaration file. */
function exportedNames(text) {
  return new Set([...text.matchAll(/^export (?:declare )?(?:interface|type|enum|const enum) ([A-Za-z_$][\w$]*)/gm)].map((match) => match[1]));
}

/** The names among `names` whose `O.name` and `T.name` (from `theirsFile`) tsc finds to differ. */
function differingNames(directory, names, theirsFile) {
  const checks = names.map((name, index) => `const check${index}: Same<O.${name}, T.${name}> = true;`);
  const compare = path.join(directory, `compare-${theirsFile}.ts`);
  writeFileSync(
    compare,
    [`import type * as O from "./ours";`, `import type * as T from "./${theirsFile}";`, `type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;`, ...checks, "export {};"].join("\n")
  );
  const compiled = spawnSync("tsc", ["--strict", "--noEmit", "--skipLibCheck", "--target", "es2019", compare], { encoding: "utf8" });
  const output = compiled.stdout + compiled.stderr;
  const differing = new Set();
  for (const match of output.matchAll(/compare-[\w-]+\.ts\((\d+),\d+\)/g)) {
    const line = Number(match[1]) - 4; // three header lines, then one check per line
    if (line >= 0 && line < names.length) differing.add(names[line]);
  }
  const brokenFiles = [...new Set([...output.matchAll(/(?:^|[\\/])(ours|theirs)\.ts\(\d+,\d+\)/gm)].map((match) => match[1]))];
  return { differing, brokenFiles };
}

/**
 * jstt's output with its two deliberate departures from ours undone, to tell those apart from
 * real differences: any value is `unknown` there and `JSONValue` here (index signatures beside
 * declared members aside),
 * and `minItems`/`maxItems` become tuples there (`[string, ...string[]]`) and plain arrays here.
 */
function normalized(theirs) {
  const json = "string | number | boolean | null | JSONValue[] | { [k: string]: JSONValue }";
  // An object of any members is `{ [k: string]: unknown }` there and `{ [k: string]: JSONValue }` here.
  const anyObject = theirs.replace(/\{\s*\[k: string\]: unknown;\s*\}/g, "{ [k: string]: JSONValue }");
  const anyValue = anyObject.replace(/(?<!\[k: string\]: )\bunknown\b/g, "JSONValue");
  const arrays = anyValue.replace(/\[((?:[\w.]+, )*)\.\.\.([\w.]+)\[\]\]/g, (whole, head, element) =>
    head.split(", ").filter(Boolean).every((item) => item === element) ? `${element}[]` : whole
  );
  return /\bJSONValue\b/.test(arrays) && !/type JSONValue\b/.test(arrays) ? `${arrays}\nexport type JSONValue = ${json};\n` : arrays;
}

/** Mutual assignability of every type both files declare, checked by tsc. */
function compareTypes(directory, ours, theirs) {
  const ourNames = exportedNames(ours);
  const theirNames = exportedNames(theirs);
  const shared = [...ourNames].filter((name) => theirNames.has(name)).sort();
  const onlyOurs = [...ourNames].filter((name) => !theirNames.has(name)).sort();
  const onlyTheirs = [...theirNames].filter((name) => !ourNames.has(name)).sort();
  writeFileSync(path.join(directory, "ours.ts"), ours);
  writeFileSync(path.join(directory, "theirs.ts"), theirs);
  writeFileSync(path.join(directory, "theirs-normalized.ts"), normalized(theirs));
  const { differing, brokenFiles } = differingNames(directory, shared, "theirs");
  const still = differing.size ? differingNames(directory, [...differing], "theirs-normalized").differing : new Set();
  const same = shared.filter((name) => !differing.has(name));
  const alikeOnceNormalized = [...differing].filter((name) => !still.has(name)).sort();
  return { same, alikeOnceNormalized, differing: [...still].sort(), onlyOurs, onlyTheirs, brokenFiles };
}

function printTable(rows) {
  const list = (names) => (names && names.length ? names.join(", ") : "");
  // Our extra names are the inline types we name (jstt inlines them): a count says enough past a few.
  const count = (names) => (!names || names.length <= 4 ? list(names) : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`);
  console.log("| input | jstt | ours | types alike | alike but for `unknown` and tuples | types that differ | only jstt declares | only we declare |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const row of rows) {
    const ours = row.ours === "output" && row.brokenFiles?.length ? `output (tsc errors in ${row.brokenFiles.join(", ")})` : row.ours;
    const name = row.options ? `${row.name} (options: ${row.options})` : row.name;
    if (row.ours !== "output") {
      console.log(`| ${name} | ${row.theirs} | ${ours}: ${row.detail.replace(/\|/g, "\\|").replace(/\n/g, " ")} | | | | | |`);
    } else {
      console.log(
        `| ${name} | ${row.theirs} | ${ours} | ${row.same?.length ?? 0} | ${list(row.alikeOnceNormalized)} | ${list(row.differing)} | ${list(row.onlyTheirs)} | ${count(row.onlyOurs)} |`
      );
    }
  }
  const produced = rows.filter((row) => row.ours === "output");
  const refused = rows.filter((row) => row.ours === "refused");
  const other = rows.length - produced.length - refused.length;
  const sum = (key) => produced.reduce((total, row) => total + (row[key]?.length ?? 0), 0);
  console.log(
    `\n${rows.length} inputs: ${produced.length} generate, ${refused.length} refused with a pointer, ${other} other; ` +
      `of the types both declare under one name, ${sum("same")} accept the same values, ${sum("alikeOnceNormalized")} do once ` +
      `jstt's \`unknown\` reads \`JSONValue\` and its minItems tuples read arrays, and ${sum("differing")} differ.`
  );
}
