import Foundation
import Testing

/// The `schemagen` binary as a user outside this repository runs it: the banner it writes and the
/// fix it prints name the files of that run, never this project's layout.
@Suite struct CommandLineTests {
    static var binaryURL: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "schemagen")
    }

    /// Runs `schemagen` and returns its exit status and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = binaryURL
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A new directory of its own under the system's temporary directory; the caller removes it.
    static func makeTemporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appending(path: "schemagen-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func theBannerAndTheDriftFixNameThePathsOfThisRun() throws {
        let directory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let schema = directory.appending(path: "shapes.json")
        let output = directory.appending(path: "out/shapes.d.ts")
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        try #"{"$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}}}"#.write(to: schema, atomically: true, encoding: .utf8)

        #expect(try Self.run(["generate", "--schema", schema.path, "--ts-out", output.path]).status == 0)
        let banner = try String(contentsOf: output, encoding: .utf8)
        #expect(banner.contains("swift run schemagen generate --schema \(schema.path) --ts-out \(output.path)"))
        #expect(!banner.contains("ws_messages") && !banner.contains("mobile-pwa-types"))

        try "// stale\n".write(to: output, atomically: true, encoding: .utf8)
        let check = try Self.run(["check", "--schema", schema.path, "--ts", output.path, "--regenerate-command", "make types"])
        #expect(check.status == 1)
        #expect(check.stderr.contains("Fix it with:\n  make types"))
    }

    @Test func closedTypesAreAnOptionThatTheBannerRepeats() throws {
        let directory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let schema = directory.appending(path: "shapes.json")
        let output = directory.appending(path: "shapes.d.ts")
        try #"{"$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}}}"#.write(to: schema, atomically: true, encoding: .utf8)

        #expect(try Self.run(["generate", "--schema", schema.path, "--ts-out", output.path]).status == 0)
        #expect(try String(contentsOf: output, encoding: .utf8).contains("[k: string]: unknown;"))
        let closed = ["generate", "--schema", schema.path, "--ts-out", output.path, "--ts-additional-properties", "closed"]
        #expect(try Self.run(closed).status == 0)
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(!text.contains("[k: string]"))
        #expect(text.contains("--ts-out \(output.path) --ts-additional-properties closed"))
        #expect(try Self.run(["check", "--schema", schema.path, "--ts", output.path, "--ts-additional-properties", "closed"]).status == 0)
        #expect(try Self.run(["check", "--schema", schema.path, "--ts", output.path]).status == 1)

        let wrong = try Self.run(["generate", "--schema", schema.path, "--ts-out", output.path, "--ts-additional-properties", "strict"])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("--ts-additional-properties must be open or closed, not 'strict'"))
    }

    @Test func guardsImportTheTypesFromWhereverTheyAreAndCheckCoversThem() throws {
        let directory = try Self.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let schema = directory.appending(path: "colors.json")
        try #"{"$defs": {"Color": {"enum": ["red", "green"]}}}"#.write(to: schema, atomically: true, encoding: .utf8)
        let types = directory.appending(path: "types/colors.d.ts").path
        let guards = directory.appending(path: "runtime/colors.mjs").path

        #expect(try Self.run(["generate", "--schema", schema.path, "--ts-out", types, "--guards-out", guards]).status == 0)
        let declarations = try String(contentsOfFile: directory.appending(path: "runtime/colors.d.ts").path, encoding: .utf8)
        #expect(declarations.contains(#"import type { Color } from "../types/colors";"#))
        #expect(try Self.run(["check", "--schema", schema.path, "--ts", types, "--guards", guards]).status == 0)

        try "// stale\n".write(toFile: guards, atomically: true, encoding: .utf8)
        let check = try Self.run(["check", "--schema", schema.path, "--ts", types, "--guards", guards])
        #expect(check.status == 1)
        #expect(check.stderr.contains("\(guards) has drifted"))

        let alone = try Self.run(["generate", "--schema", schema.path, "--guards-out", guards])
        #expect(alone.status == 2)
        #expect(alone.stderr.contains("--guards-out needs --ts-out"))
        let wrongExtension = try Self.run(["generate", "--schema", schema.path, "--ts-out", types, "--guards-out", types])
        #expect(wrongExtension.status == 2)
        #expect(wrongExtension.stderr.contains("must end in .mjs or .js"))
    }
}
