import Foundation
import SchemaGen

/// `schemagen`: the command-line face of the SchemaGen pipeline. Foundation only,
/// so that the build plugin that runs it stays quick to build.
let usage = """
    OVERVIEW: Generate Swift and TypeScript message types from a JSON Schema.

    USAGE:
      schemagen generate --schema <path> [--swift-out <path>] [--ts-out <path>] [--source-name <name>]
                         [--ts-additional-properties open|closed] [--regenerate-command <text>]
      schemagen check --schema <path> --ts <path> [--source-name <name>]
                      [--ts-additional-properties open|closed] [--regenerate-command <text>]

    SUBCOMMANDS:
      generate   Writes the Swift and/or TypeScript output. A file is rewritten
                 only when its content changed.
      check      Regenerates the TypeScript in memory and compares it with the
                 committed file. Exits 1 with a unified diff and the command that
                 fixes the drift when they differ.

    OPTIONS:
      --schema <path>        The JSON Schema (draft 2020-12) to read.
      --swift-out <path>     Where to write the Swift source (generate).
      --ts-out <path>        Where to write the TypeScript declarations (generate).
      --ts <path>            The committed TypeScript declarations to compare (check).
      --source-name <name>   The schema's name in the banners; defaults to the last
                             two components of --schema (e.g. schemas/x.schema.json).
      --ts-additional-properties open|closed
                             What a TypeScript interface declares for an object whose
                             schema has no additionalProperties: open (the default, as
                             JSON Schema and json-schema-to-typescript read it) adds
                             [k: string]: unknown; closed adds none, so that TypeScript
                             checks excess properties. Explicit true and false are kept.
      --regenerate-command <text>
                             The command the TypeScript banner and check's drift message
                             tell a developer to run; defaults to this generate command with
                             the --schema and --ts-out (or --ts) paths as given.
      -h, --help             Show this help.

    EXIT STATUS:
      0 success, 1 drift found by check, 2 bad usage or an invalid schema.

    """

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("schemagen: \(message)\n".utf8))
    exit(status)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.isEmpty || arguments.contains("-h") || arguments.contains("--help") || arguments.first == "help" {
    print(usage, terminator: "")
    exit(arguments.isEmpty ? 2 : 0)
}
let subcommand = arguments.removeFirst()
var options: [String: String] = [:]
while !arguments.isEmpty {
    let flag = arguments.removeFirst()
    let known = ["--schema", "--swift-out", "--ts-out", "--ts", "--source-name", "--ts-additional-properties", "--regenerate-command"]
    guard known.contains(flag) else { fail("unknown option '\(flag)'\n\n" + usage) }
    guard !arguments.isEmpty else { fail("option '\(flag)' needs a value") }
    options[flag] = arguments.removeFirst()
}
guard let schemaPath = options["--schema"] else { fail("missing --schema <path>") }
let sourceName =
    options["--source-name"]
    ?? URL(fileURLWithPath: schemaPath).pathComponents.suffix(2).joined(separator: "/")

let schemaText: String
do {
    schemaText = try String(contentsOfFile: schemaPath, encoding: .utf8)
} catch {
    fail("cannot read schema '\(schemaPath)': \(error.localizedDescription)")
}

var typeScript = TypeScriptRenderer.Configuration()
if let value = options["--ts-additional-properties"] {
    guard let choice = TypeScriptRenderer.Configuration.AbsentAdditionalProperties(rawValue: value) else {
        fail("--ts-additional-properties must be open or closed, not '\(value)'")
    }
    typeScript.absentAdditionalProperties = choice
}

// The banner names the schema, the output and the options this run actually used, not any project's layout.
let regenerateCommand =
    options["--regenerate-command"]
    ?? "swift run schemagen generate --schema \(schemaPath) --ts-out \(options["--ts-out"] ?? options["--ts"] ?? "<path>")"
    + (options["--ts-additional-properties"].map { " --ts-additional-properties \($0)" } ?? "")
let generator = Generator(sourceName: sourceName, regenerateCommand: regenerateCommand, typeScript: typeScript)
let output: Generator.Output
do {
    output = try generator.generate(schemaText: schemaText)
} catch {
    fail("\(schemaPath): \(error)")
}

switch subcommand {
case "generate":
    let swiftOut = options["--swift-out"]
    let tsOut = options["--ts-out"]
    guard swiftOut != nil || tsOut != nil else { fail("generate needs --swift-out and/or --ts-out") }
    do {
        if let swiftOut { try OutputFile.write(output.swift, to: swiftOut) }
        if let tsOut { try OutputFile.write(output.typeScript, to: tsOut) }
    } catch {
        fail("cannot write output: \(error.localizedDescription)")
    }
case "check":
    guard let tsPath = options["--ts"] else { fail("check needs --ts <path>") }
    let committed = (try? String(contentsOfFile: tsPath, encoding: .utf8)) ?? ""
    let diff = UnifiedDiff.diff(
        old: committed,
        new: output.typeScript,
        oldName: "\(tsPath) (committed)",
        newName: "\(tsPath) (generated from \(schemaPath))"
    )
    if diff.isEmpty {
        print("schemagen: \(tsPath) matches \(schemaPath)")
    } else {
        print(diff, terminator: "")
        fail("\(tsPath) has drifted from \(schemaPath). Fix it with:\n  \(regenerateCommand)", status: 1)
    }
default:
    fail("unknown subcommand '\(subcommand)'\n\n" + usage)
}
