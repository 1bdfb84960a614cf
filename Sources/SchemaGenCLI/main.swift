import Foundation
import SchemaGen

/// `schemagen`: the command-line face of the SchemaGen pipeline. Foundation only,
/// so that the build plugin that runs it stays quick to build.
let usage = """
    OVERVIEW: Generate Swift and TypeScript message types from a JSON Schema.

    USAGE:
      schemagen generate --schema <path> [--swift-out <path>] [--ts-out <path> [--guards-out <path>]]
                         [--source-name <name>] [--ts-additional-properties open|closed]
                         [--regenerate-command <text>]
      schemagen check --schema <path> --ts <path> [--guards <path>] [--source-name <name>]
                      [--ts-additional-properties open|closed] [--regenerate-command <text>]

    SUBCOMMANDS:
      generate   Writes the Swift and/or TypeScript output. A file is rewritten
                 only when its content changed.
      check      Regenerates the TypeScript (and the guards) in memory and compares
                 them with the committed files. Exits 1 with a unified diff and the command that
                 fixes the drift when they differ.

    OPTIONS:
      --schema <path>        The JSON Schema (draft 2020-12) to read.
      --swift-out <path>     Where to write the Swift source (generate).
      --ts-out <path>        Where to write the TypeScript declarations (generate).
      --guards-out <path>    Where to write the type guards (generate, beside --ts-out): an ES
                             module (e.g. ws-message-guards.mjs) with isX(value) for every
                             tagged union and string enum, which tells a known tag or value
                             from a newer contract's, and its declarations (the same path
                             ending in .d.ts instead of .mjs or .js).
      --ts <path>            The committed TypeScript declarations to compare (check).
      --guards <path>        The committed type guards to compare too (check).
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
    let known = [
        "--schema", "--swift-out", "--ts-out", "--guards-out", "--ts", "--guards", "--source-name", "--ts-additional-properties",
        "--regenerate-command",
    ]
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

let tsPath = options["--ts-out"] ?? options["--ts"]
let guardsPath = options["--guards-out"] ?? options["--guards"]
if options["--guards-out"] != nil, options["--ts-out"] == nil { fail("--guards-out needs --ts-out: the guards import its types") }
if let guardsPath, !guardsPath.hasSuffix(".mjs"), !guardsPath.hasSuffix(".js") {
    fail("the guards path must end in .mjs or .js, not '\(guardsPath)'")
}

/// `a/b/guards.mjs` → `a/b/guards.d.ts`.
func declarationsPath(ofGuards path: String) -> String {
    let stem = path.hasSuffix(".mjs") ? String(path.dropLast(4)) : String(path.dropLast(3))
    return stem + ".d.ts"
}

/// How a module at `from` imports the declarations at `to`: `./ws-messages`, `../types/ws-messages`.
func moduleSpecifier(from: String, to: String) -> String {
    let source = URL(fileURLWithPath: from).deletingLastPathComponent().standardizedFileURL.pathComponents
    var target = URL(fileURLWithPath: to).standardizedFileURL.pathComponents
    var common = 0
    while common < source.count, common < target.count - 1, source[common] == target[common] { common += 1 }
    let last = target.removeLast()
    let file = last.hasSuffix(".d.ts") ? String(last.dropLast(5)) : last
    let ups = Array(repeating: "..", count: source.count - common)
    let path = (ups + target[common...] + [file]).joined(separator: "/")
    return ups.isEmpty ? "./" + path : path
}

// The banner names the schema, the outputs and the options this run actually used, not any project's layout.
let regenerateCommand =
    options["--regenerate-command"]
    ?? "swift run schemagen generate --schema \(schemaPath) --ts-out \(tsPath ?? "<path>")"
    + (guardsPath.map { " --guards-out \($0)" } ?? "")
    + (options["--ts-additional-properties"].map { " --ts-additional-properties \($0)" } ?? "")
let generator = Generator(
    sourceName: sourceName,
    regenerateCommand: regenerateCommand,
    typeScript: typeScript,
    guardsTypesModule: guardsPath.flatMap { guards in tsPath.map { moduleSpecifier(from: guards, to: $0) } }
)
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
        if let guardsOut = options["--guards-out"], let guards = output.guards {
            try OutputFile.write(guards.javaScript, to: guardsOut)
            try OutputFile.write(guards.declarations, to: declarationsPath(ofGuards: guardsOut))
        }
    } catch {
        fail("cannot write output: \(error.localizedDescription)")
    }
case "check":
    guard let tsPath = options["--ts"] else { fail("check needs --ts <path>") }
    var files = [(path: tsPath, generated: output.typeScript)]
    if let guardsPath = options["--guards"], let guards = output.guards {
        files += [(guardsPath, guards.javaScript), (declarationsPath(ofGuards: guardsPath), guards.declarations)]
    }
    var drifted: [String] = []
    for file in files {
        let committed = (try? String(contentsOfFile: file.path, encoding: .utf8)) ?? ""
        let diff = UnifiedDiff.diff(
            old: committed,
            new: file.generated,
            oldName: "\(file.path) (committed)",
            newName: "\(file.path) (generated from \(schemaPath))"
        )
        if diff.isEmpty {
            print("schemagen: \(file.path) matches \(schemaPath)")
        } else {
            print(diff, terminator: "")
            drifted.append(file.path)
        }
    }
    if !drifted.isEmpty {
        let verb = drifted.count == 1 ? "has" : "have"
        fail("\(drifted.joined(separator: ", ")) \(verb) drifted from \(schemaPath). Fix it with:\n  \(regenerateCommand)", status: 1)
    }
default:
    fail("unknown subcommand '\(subcommand)'\n\n" + usage)
}
