/// The whole pipeline, top to bottom: parse the schema, build the type model,
/// render Swift and TypeScript.
public struct Generator: Sendable {
    public struct Output: Equatable, Sendable {
        public var swift: String
        public var typeScript: String
        /// The type guards module and its declarations, when ``guardsTypesModule`` is set.
        public var guards: GuardsRenderer.Output?
    }

    /// The schema's name as the banners print it (never an absolute path, so output is reproducible).
    public var sourceName: String
    /// The command the TypeScript banner and `check` tell a developer to run.
    public var regenerateCommand: String
    public var typeScript: TypeScriptRenderer.Configuration
    /// How the guards' declarations import the TypeScript types (`./ws-messages`); nil renders no guards.
    public var guardsTypesModule: String?

    public init(
        sourceName: String,
        regenerateCommand: String = Generator.defaultRegenerateCommand,
        typeScript: TypeScriptRenderer.Configuration = .init(),
        guardsTypesModule: String? = nil
    ) {
        self.sourceName = sourceName
        self.regenerateCommand = regenerateCommand
        self.typeScript = typeScript
        self.guardsTypesModule = guardsTypesModule
    }

    /// For library callers that name no command; the CLI names the paths it was given.
    public static let defaultRegenerateCommand = "schemagen generate --schema <schema> --ts-out <output>"

    /// The file's name without its extensions: `ws_messages.schema.json` → `ws_messages`.
    var rootTypeName: String {
        let file = sourceName.split(separator: "/").last.map(String.init) ?? sourceName
        var stem = Substring(file)
        for suffix in [".json", ".schema"] where stem.hasSuffix(suffix) { stem = stem.dropLast(suffix.count) }
        return stem.isEmpty ? "Root" : String(stem)
    }

    public func generate(schemaText: String) throws(SchemaGenError) -> Output {
        let root = try SchemaParser.parse(text: schemaText)
        let model = try TypeModelBuilder.build(root, rootName: rootTypeName)
        return Output(
            swift: SwiftRenderer(model: model, sourceName: sourceName).render(),
            typeScript: TypeScriptRenderer(model: model, sourceName: sourceName, regenerateCommand: regenerateCommand, configuration: typeScript)
                .render(),
            guards: guardsTypesModule.map { module in
                GuardsRenderer(model: model, sourceName: sourceName, regenerateCommand: regenerateCommand, typesModule: module).render()
            }
        )
    }
}
