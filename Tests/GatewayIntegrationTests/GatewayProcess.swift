import Foundation
import TestSupport
import Testing

/// The real `hiveops-gateway` binary, started on a free port for one test.
final class GatewayProcess: @unchecked Sendable {
    // @unchecked: `process` and `logURL` are set in init and never mutated; Process is only
    // touched from the test's own task.
    let process: Process
    let logURL: URL
    let port: Int

    static var binaryURL: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "hiveops-gateway")
    }

    /// Runs the binary to completion and returns its exit status and output (short: both fit a pipe's buffer).
    static func runToCompletion(
        _ arguments: [String],
        environment: [String: String] = [:]
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binaryURL
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let errors = Pipe()
        let output = Pipe()
        process.standardError = errors
        process.standardOutput = output
        try process.run()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    /// Starts the gateway on a free loopback port and waits (at most 30 s) for its ready line.
    /// - Parameter openFileLimit: runs the binary under `ulimit -n` this low (hard and soft).
    init(arguments: [String] = [], environment: [String: String] = [:], openFileLimit: Int? = nil) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binaryURL.path) else {
            throw TestFailure("\(Self.binaryURL.path) is missing: build the package first (swift build --build-tests)")
        }
        logURL = FileManager.default.temporaryDirectory.appending(path: "hiveops-gateway-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process = Process()
        if let openFileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFileLimit) && exec \"$0\" \"$@\"", Self.binaryURL.path, "--port", "0"] + arguments
        } else {
            process.executableURL = Self.binaryURL
            process.arguments = ["--port", "0"] + arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardError = try FileHandle(forWritingTo: logURL)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        var found: Int?
        while found == nil, ContinuousClock.now < deadline, process.isRunning {
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            if let line = log.split(separator: "\n").first(where: { $0.contains("hiveops-gateway ready") }),
                let range = line.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression)
            {
                found = Int(line[range].split(separator: ":").last!)
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let found else {
            process.terminate()
            let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            throw TestFailure("the gateway did not report ready:\n\(output)")
        }
        port = found
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit, at most `timeout`; returns its status, nil if it is still running.
    func waitForExit(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: logURL)
    }
}

extension GatewayProcess {
    /// Resident memory of the gateway process, from /proc.
    var residentBytes: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return kilobytes * 1_024
    }

    /// Open file descriptors of the gateway process, from /proc.
    var openDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd").count) ?? 0
    }
}
