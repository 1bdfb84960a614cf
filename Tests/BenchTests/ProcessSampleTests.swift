import Testing

@testable import Bench

#if canImport(Glibc)
import Glibc
#endif

/// A server of several processes (nginx's master and workers) is sampled as their sum.
@Suite struct ProcessSampleTests {
    @Test func severalProcessesAreSummed() throws {
        let own = getpid()
        let one = try #require(ProcessSample.read(pid: own))
        let twice = try #require(ProcessSample.read(pids: [own, own]))
        // Read a moment apart: the second reading may have grown a little.
        #expect(twice.residentBytes >= 2 * one.residentBytes - 1_048_576)
        #expect(twice.residentBytes <= 2 * one.residentBytes + 4 * 1_048_576)
        #expect(twice.cpuSeconds >= 2 * one.cpuSeconds)
    }

    @Test func noProcessOrOneThatCannotBeReadGivesNoSample() {
        #expect(ProcessSample.read(pids: []) == nil)
        // pid_max is at most 2^22 on Linux: this pid cannot exist.
        #expect(ProcessSample.read(pids: [getpid(), 5_000_000]) == nil)
    }
}
