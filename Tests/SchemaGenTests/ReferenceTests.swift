import Foundation
import SchemaGen
import Testing

/// The real contract schema against committed expected output: the Swift in
/// `Expected/Messages.swift.golden` and the TypeScript the PWA consumes.
@Suite struct ReferenceTests {
    static let schemaURL = GoldenFile.packageRoot.appending(path: "schemas/ws_messages.schema.json")
    /// What the CLI derives from the paths CI's `schemagen check` is given.
    static let regenerateCommand =
        "swift run schemagen generate --schema schemas/ws_messages.schema.json --ts-out mobile-pwa-types/ws-messages.d.ts"
        + " --guards-out mobile-pwa-types/ws-message-guards.mjs"

    static func generate() throws -> Generator.Output {
        let schema = try String(contentsOf: schemaURL, encoding: .utf8)
        return try Generator(sourceName: "schemas/ws_messages.schema.json", regenerateCommand: regenerateCommand, guardsTypesModule: "./ws-messages")
            .generate(schemaText: schema)
    }

    @Test func swiftMatchesReference() throws {
        try GoldenFile.assertMatches(
            try Self.generate().swift,
            path: GoldenFile.packageRoot.appending(path: "Tests/SchemaGenTests/Expected/Messages.swift.golden")
        )
    }

    @Test func typeScriptMatchesCommittedDeclarations() throws {
        try GoldenFile.assertMatches(
            try Self.generate().typeScript,
            path: GoldenFile.packageRoot.appending(path: "mobile-pwa-types/ws-messages.d.ts")
        )
    }

    @Test func guardsMatchCommittedModule() throws {
        let guards = try #require(try Self.generate().guards)
        try GoldenFile.assertMatches(guards.javaScript, path: GoldenFile.packageRoot.appending(path: "mobile-pwa-types/ws-message-guards.mjs"))
        try GoldenFile.assertMatches(guards.declarations, path: GoldenFile.packageRoot.appending(path: "mobile-pwa-types/ws-message-guards.d.ts"))
    }

    @Test func generatingTwiceGivesIdenticalBytes() throws {
        let first = try Self.generate()
        let second = try Self.generate()
        #expect(Array(first.swift.utf8) == Array(second.swift.utf8))
        #expect(Array(first.typeScript.utf8) == Array(second.typeScript.utf8))
    }

    @Test func outputIsWrittenOnlyWhenItChanged() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "schemagen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "Messages.swift").path
        let swift = try Self.generate().swift
        #expect(try OutputFile.write(swift, to: path))
        let firstModification = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        #expect(try OutputFile.write(swift, to: path) == false)
        let secondModification = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        #expect(firstModification == secondModification)
        #expect(try OutputFile.write(swift + "\n", to: path))
    }

    @Test func everyServerFrameCarriesCorrelationIdAndTimestamp() throws {
        let schema = try String(contentsOf: Self.schemaURL, encoding: .utf8)
        let model = try TypeModelBuilder.build(SchemaParser.parse(text: schema))
        guard case .taggedUnion(let serverMessage) = model.declarations.first(where: { $0.name == "ServerMessage" }) else {
            Issue.record("ServerMessage is not a tagged union")
            return
        }
        #expect(serverMessage.members.count == 13)
        for member in serverMessage.members {
            guard case .object(let object) = model.declarations.first(where: { $0.name == member.typeName }) else {
                Issue.record("\(member.typeName) is not an object")
                continue
            }
            let required = Set(object.properties.filter(\.isRequired).map(\.jsonName))
            #expect(required.isSuperset(of: ["type", "correlation_id", "timestamp"]), "\(member.typeName)")
        }
    }
}
