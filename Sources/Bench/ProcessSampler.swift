import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Resident memory and CPU time of a process, from /proc.
struct ProcessSample: Codable, Sendable {
    var residentBytes: Int
    var cpuSeconds: Double

    /// The sum over several processes (a server of a master and workers); nil if any of them
    /// cannot be read, or if there are none.
    static func read(pids: [Int32]) -> ProcessSample? {
        guard !pids.isEmpty else { return nil }
        var total = ProcessSample(residentBytes: 0, cpuSeconds: 0)
        for pid in pids {
            guard let sample = read(pid: pid) else { return nil }
            total.residentBytes += sample.residentBytes
            total.cpuSeconds += sample.cpuSeconds
        }
        return total
    }

    static func read(pid: Int32) -> ProcessSample? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ")
        else { return nil }
        // Fields after the command name: state is 3; utime and stime are 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessSample(residentBytes: kilobytes * 1_024, cpuSeconds: (user + system) / ticks)
    }
}

/// Raises this process's open-file limit: to 262,144 where allowed (root), else to the hard limit.
/// Children, such as a gateway started with --spawn-gateway, inherit it.
func raiseFileLimit() -> (soft: UInt64, hard: UInt64) {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    var wanted = rlimit(rlim_cur: 262_144, rlim_max: max(262_144, limit.rlim_max))
    if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted) != 0 {
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
}
