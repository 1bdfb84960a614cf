/// Reads Prometheus text exposition back into families, to serve a subset in
/// a stable order and the same numbers as JSON.
package struct PrometheusExposition: Sendable {
    package struct Family: Sendable {
        package var name: String
        /// The `# HELP` and `# TYPE` lines, in order.
        package var headerLines: [String]
        package var samples: [Sample]
    }

    package struct Sample: Sendable {
        package var name: String
        package var labels: [(name: String, value: String)]
        package var value: Double
        package var line: String
    }

    package var families: [Family]

    package init(text: String) {
        var families: [String: Family] = [:]
        func familyName(ofSample name: String) -> String {
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                let base = String(name.dropLast(suffix.count))
                if families[base] != nil { return base }
            }
            return name
        }
        for line in text.split(separator: "\n").map(String.init) where !line.isEmpty {
            if line.hasPrefix("# ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 3 else { continue }
                let name = String(parts[2])
                families[name, default: Family(name: name, headerLines: [], samples: [])].headerLines.append(line)
                continue
            }
            guard let sample = Self.parseSample(line) else { continue }
            let name = familyName(ofSample: sample.name)
            families[name, default: Family(name: name, headerLines: [], samples: [])].samples.append(sample)
        }
        self.families = families.values.sorted { $0.name < $1.name }
    }

    private static func parseSample(_ line: String) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let key = line[..<space]
        guard let brace = key.firstIndex(of: "{") else {
            return Sample(name: String(key), labels: [], value: value, line: line)
        }
        var labels: [(name: String, value: String)] = []
        for pair in key[key.index(after: brace)...].dropLast().split(separator: ",") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            labels.append((String(pair[..<equals]), String(pair[pair.index(after: equals)...]).trimmingQuotes()))
        }
        return Sample(name: String(key[..<brace]), labels: labels, value: value, line: line)
    }

    /// The families whose names start with `prefix`, in name order, as exposition text.
    package func text(prefix: String) -> String {
        var output = ""
        for family in families where family.name.hasPrefix(prefix) {
            for line in family.headerLines { output += line + "\n" }
            for sample in family.samples { output += sample.line + "\n" }
        }
        return output
    }

    /// The same numbers keyed by sample name; labelled samples are keyed by their label values.
    package func json(prefix: String) -> [String: MetricValue] {
        var result: [String: MetricValue] = [:]
        for family in families where family.name.hasPrefix(prefix) {
            for sample in family.samples {
                if sample.labels.isEmpty {
                    result[sample.name] = .value(sample.value)
                } else {
                    let key = sample.labels.map(\.value).joined(separator: ",")
                    var labelled: [String: Double] = [:]
                    if case .labelled(let existing) = result[sample.name] { labelled = existing }
                    labelled[key] = sample.value
                    result[sample.name] = .labelled(labelled)
                }
            }
        }
        return result
    }

    package enum MetricValue: Encodable, Sendable, Equatable {
        case value(Double)
        case labelled([String: Double])

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .value(let value): try container.encode(value)
            case .labelled(let values): try container.encode(values)
            }
        }
    }
}

extension String {
    fileprivate func trimmingQuotes() -> String {
        guard count >= 2, hasPrefix("\""), hasSuffix("\"") else { return self }
        return String(dropFirst().dropLast())
    }
}
