import Foundation
import PackagePlugin

/// Runs `schemagen` on the contract schema for the target it is applied to.
/// It only finds files and builds arguments; SchemaGen does the work.
@main
struct GenerateMessages: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let schema = context.package.directoryURL.appending(path: "schemas/ws_messages.schema.json")
        let output = context.pluginWorkDirectoryURL.appending(path: "Messages.swift")
        return [
            .buildCommand(
                displayName: "Generating \(target.name) from schemas/ws_messages.schema.json",
                executable: try context.tool(named: "schemagen").url,
                arguments: [
                    "generate", "--schema", schema.path(percentEncoded: false),
                    "--swift-out", output.path(percentEncoded: false),
                    "--source-name", "schemas/ws_messages.schema.json",
                ],
                inputFiles: [schema],
                outputFiles: [output]
            )
        ]
    }
}
