import Foundation
import Testing

@testable import Bench

#if canImport(Glibc)
import Glibc
#endif

/// A server of several processes (nginx's master and workers) is sampled as their sum.
@Suite struct ProcessSampleTests {
    @Test func severalProcessesAreSummed() throws {
        // An idle child, whose memory and CPU time stand still between readings (this test
        // process's own do not: other suites run beside it).
        let idle = Process()
        idle.executableURL = URL(fileURLWithPath: "/bin/sleep")
        idle.arguments = ["30"]
        try idle.run()
        defer {
            // SIGKILL: a child of this test runner may inherit SIGTERM blocked.
            kill(idle.processIdentifier, SIGKILL)
            idle.waitUntilExit()
        }
        let pid = idle.processIdentifier
        let one = try #require(ProcessSample.read(pid: pid))
        let twice = try #require(ProcessSample.read(pids: [pid, pid]))
        #expect(one.residentBytes > 0)
        #expect(twice.residentBytes == 2 * one.residentBytes)
        #expect(twice.cpuSeconds == 2 * one.cpuSeconds)
    }

    @Test func noProcessOrOneThatCannotBeReadGivesNoSample() {
        #expect(ProcessSample.read(pids: []) == nil)
        // pid_max is at most 2^22 on Linux: this pid cannot exist.
        #expect(ProcessSample.read(pids: [getpid(), 5_000_000]) == nil)
    }
}
