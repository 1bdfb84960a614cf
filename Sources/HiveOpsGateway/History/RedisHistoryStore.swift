import Crypto
import Foundation
package import GeneratedMessages
package import Logging
package import NIOCore
package import RedisClient

/// The history every node shares, in Redis: one stream per topic (`XADD` with the offset as the
/// entry id, trimmed to the size and the age), and one hash with the epoch and each topic's last
/// offset. Every node hears every pub/sub event and asks to record it; an atomic script keyed by
/// the event's id records it once and answers every node with the same position. Design and
/// failure cases: docs/ARCHITECTURE.md, "History and recovery".
package final class RedisHistoryStore: HistoryAuthority {
    package static let metaKey = "hiveops:history:meta"
    package static func streamKey(_ topic: Subscription) -> String { "hiveops:history:stream:\(topic.rawValue)" }
    package static func seenKey(_ eventId: String) -> String { "hiveops:history:seen:\(eventId)" }
    /// How long an event's id is remembered: every node hears a pub/sub message within this of the first.
    package static let dedupeWindow: Duration = .seconds(120)

    private let settings: HistorySettings
    private let timeout: Duration
    private let logger: Logger
    private let connection: SharedRedisConnection
    private let topics = Subscription.allCases

    package init(url: RedisURL, settings: HistorySettings, timeout: Duration, logger: Logger) {
        // The scripts are loaded on every new connection: a record is then one EVALSHA, pipelined.
        self.connection = SharedRedisConnection(url: url, timeout: timeout) { connection in
            _ = try await connection.pipeline(Self.scripts.map { ["SCRIPT", "LOAD", $0] }, timeout: timeout)
        }
        self.settings = settings
        self.timeout = timeout
        self.logger = logger
    }

    /// An event's id for the dedupe: the digest of the channel and the payload's bytes, which every
    /// node hears alike. Two byte-identical payloads on one channel within the window are one event.
    package static func eventId(channel: String, payload: ByteBuffer) -> String {
        var hash = SHA256()
        hash.update(data: Array(channel.utf8))
        hash.update(data: [0])
        hash.update(data: Array(payload.readableBytesView))
        return hash.finalize().prefix(16).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// A correlation id every node derives alike for an event that came without one: the event id
    /// as a UUID (version 8, RFC 9562's custom form).
    package static func correlationId(forEventId id: String) -> String {
        var hex = Array(id.prefix(32))
        guard hex.count == 32 else { return FrameEncoder.newCorrelationId() }
        hex[12] = "8"
        hex[16] = ["8", "9", "a", "b"][Int(String(hex[16]), radix: 16).map { $0 & 3 } ?? 0]
        let text = String(hex)
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(text[text.index(text.startIndex, offsetBy: range.lowerBound)..<text.index(text.startIndex, offsetBy: range.upperBound)])
        }
        return parts.joined(separator: "-")
    }

    // MARK: - Recording

    /// Whether events are recorded at all: `--history-size 0` turns the history off.
    package var isRecording: Bool { settings.size > 0 }

    /// Records an event once for every node (`eventId` rules out the copies the other nodes record):
    /// sends the call now and returns its position to come. Calls sent one after another share one
    /// connection, so Redis runs them, and answers them, in the order they were sent; none waits
    /// for the one before. While the connection is being made, calls wait for it in their order.
    package func record(_ event: BroadcastEvent, eventId: String, timestamp: String) throws -> EventLoopFuture<StreamPosition> {
        let entry = try HistoryEntry.encode(event, timestamp: timestamp)
        let keys = [Self.metaKey, Self.streamKey(event.subscription), Self.seenKey(eventId)] + topics.map(Self.streamKey)
        let command =
            ["EVALSHA", Self.recordDigest, "\(keys.count)"] + keys + [
                event.subscription.rawValue, entry, FrameEncoder.newCorrelationId(), "\(settings.size)",
                "\(Int(settings.maxAge / .milliseconds(1)))", "\(Int(Self.dedupeWindow / .milliseconds(1)))",
            ]
        let (shared, timeout) = (self.connection, self.timeout)
        return shared.connection().flatMap { connection in
            connection.send(command, timeout: timeout)
                .flatMapErrorThrowing { error in
                    // A timed-out call leaves its connection out of step (NOSCRIPT: Redis lost the scripts):
                    // the next record connects afresh and loads them again.
                    shared.drop(connection)
                    throw error
                }
        }
        .flatMapThrowing { reply in
            guard let values = reply.elements, values.count == 2, let epoch = values[0].string, case .integer(let offset) = values[1] else {
                throw RedisConnection.ConnectionError.errorReply("the record script answered \(reply)")
            }
            return StreamPosition(epoch: epoch, offset: Int(offset))
        }
    }

    /// The epoch (made now if Redis has none) and each topic's last offset.
    package func positions() async throws -> [Subscription: StreamPosition] {
        let reply = try await run(Self.metaScript, keys: [Self.metaKey] + topics.map(Self.streamKey), arguments: [FrameEncoder.newCorrelationId()])
        let fields = (reply.elements ?? []).map { $0.string ?? "" }
        var meta: [String: String] = [:]
        for pair in stride(from: 0, to: fields.count - 1, by: 2) { meta[fields[pair]] = fields[pair + 1] }
        guard let epoch = meta["epoch"] else { throw RedisConnection.ConnectionError.errorReply("no epoch in \(Self.metaKey)") }
        var positions: [Subscription: StreamPosition] = [:]
        for topic in topics { positions[topic] = StreamPosition(epoch: epoch, offset: Int(meta[topic.rawValue] ?? "0") ?? 0) }
        return positions
    }

    // MARK: - HistoryAuthority

    package func recover(_ offsets: [Subscription: Int], epoch: String) async -> [Subscription: AuthorityRecovery] {
        let asked = offsets.sorted { $0.key.rawValue < $1.key.rawValue }
        let reply: RESPValue
        do {
            reply = try await run(
                Self.recoverScript,
                keys: [Self.metaKey] + asked.map { Self.streamKey($0.key) },
                arguments: [epoch] + asked.flatMap { [$0.key.rawValue, "\($0.value)"] }
            )
        } catch {
            logger.warning("Cannot read the history from Redis", metadata: ["error": "\(error)"])
            return Dictionary(uniqueKeysWithValues: asked.map { ($0.key, .failed(.historyUnavailable, current: nil)) })
        }
        let values = reply.elements ?? []
        // No epoch at all: Redis lost the history (or never had one), so every asked epoch is gone.
        if let first = values.first, first == .null || first == .bulkString(nil) {
            return Dictionary(uniqueKeysWithValues: asked.map { ($0.key, .failed(.epochChanged, current: nil)) })
        }
        let current = values.first?.string
        var answers: [Subscription: AuthorityRecovery] = [:]
        for (index, (topic, _)) in asked.enumerated() {
            answers[topic] = Self.answer(values.dropFirst().dropFirst(index).first, epoch: current)
        }
        return answers
    }

    package func usage() async -> [Subscription: (events: Int, bytes: Int)]? {
        let replies: [RESPValue]
        do {
            replies = try await connection.get().pipeline(
                topics.flatMap { [["XLEN", Self.streamKey($0)], ["MEMORY", "USAGE", Self.streamKey($0)]] },
                timeout: timeout
            )
        } catch {
            return nil
        }
        var usage: [Subscription: (events: Int, bytes: Int)] = [:]
        for (index, topic) in topics.enumerated() {
            func integer(_ value: RESPValue) -> Int { if case .integer(let number) = value { Int(number) } else { 0 } }
            usage[topic] = (integer(replies[2 * index]), integer(replies[2 * index + 1]))
        }
        return usage
    }

    /// One topic's part of the recover script's answer: `{top, "ok", offset, entry, offset, entry...}` or `{top, reason}`.
    private static func answer(_ value: RESPValue?, epoch: String?) -> AuthorityRecovery {
        guard let epoch, let fields = value?.elements, fields.count >= 2, case .integer(let top) = fields[0], let status = fields[1].string else {
            return .failed(.historyUnavailable, current: nil)
        }
        let current = StreamPosition(epoch: epoch, offset: Int(top))
        guard status == "ok" else { return .failed(RecoveryFailure(rawValue: status), current: current) }
        var entries: [HistoryEntry] = []
        var index = 2
        while index + 1 < fields.count {
            guard case .integer(let offset) = fields[index], let stored = fields[index + 1].string,
                let entry = try? HistoryEntry.decode(offset: Int(offset), stored: stored)
            else { return .failed(.historyUnavailable, current: current) }
            entries.append(entry)
            index += 2
        }
        return .entries(entries, through: current)
    }

    // MARK: - The connection and the scripts

    /// Runs a script by its digest, loading it first where Redis does not have it (a new or restarted Redis).
    private func run(_ script: String, keys: [String], arguments: [String]) async throws -> RESPValue {
        let connection = try await self.connection.get()
        let digest = Self.digest(script)
        do {
            return try await connection.command(["EVALSHA", digest, "\(keys.count)"] + keys + arguments, timeout: timeout)
        } catch RedisConnection.ConnectionError.errorReply(let message) where message.hasPrefix("NOSCRIPT") {
            return try await connection.command(["EVAL", script, "\(keys.count)"] + keys + arguments, timeout: timeout)
        } catch {
            self.connection.drop(connection)
            throw error
        }
    }

    package func close() {
        connection.close()
    }

    private static let scripts = [recordScript, metaScript, recoverScript]
    private static let recordDigest = digest(recordScript)

    private static func digest(_ script: String) -> String {
        Insecure.SHA1.hash(data: Array(script.utf8)).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// A new epoch: the old one's streams and offsets mean nothing any more. KEYS[1] is the meta
    /// hash, `first` the index of the first stream key.
    private static let newEpochLua = """
        local function ensure_epoch(candidate, first)
          local epoch = redis.call('HGET', KEYS[1], 'epoch')
          if epoch then return epoch end
          for i = first, #KEYS do redis.call('DEL', KEYS[i]) end
          redis.call('DEL', KEYS[1])
          redis.call('HSET', KEYS[1], 'epoch', candidate)
          return candidate
        end
        """

    /// KEYS: meta, the topic's stream, the event's dedupe key, every topic's stream.
    /// ARGV: topic, entry, candidate epoch, max length, max age (ms), dedupe window (ms).
    /// Returns {epoch, offset}: the first recording's, for every node that asks.
    static let recordScript =
        newEpochLua + """

            local epoch = ensure_epoch(ARGV[3], 4)
            local seen = redis.call('GET', KEYS[3])
            if seen then
              local space = string.find(seen, ' ', 1, true)
              if space and string.sub(seen, 1, space - 1) == epoch then
                return {epoch, tonumber(string.sub(seen, space + 1))}
              end
            end
            local offset = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
            local size = tonumber(ARGV[4])
            if size > 0 then
              local time = redis.call('TIME')
              local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
              redis.call('XADD', KEYS[2], 'MAXLEN', size, offset .. '-0', 't', now, 'e', ARGV[2])
              -- The age bound: the oldest entries past it go, at most 16 at each record.
              local cutoff = now - tonumber(ARGV[5])
              for _ = 1, 16 do
                local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
                if #oldest == 0 or tonumber(oldest[1][2][2]) >= cutoff then break end
                redis.call('XDEL', KEYS[2], oldest[1][1])
              end
            end
            redis.call('SET', KEYS[3], epoch .. ' ' .. offset, 'PX', ARGV[6])
            return {epoch, offset}
            """

    /// KEYS: meta, every topic's stream. ARGV: candidate epoch. Returns the meta hash's fields and values.
    static let metaScript =
        newEpochLua + """

            ensure_epoch(ARGV[1], 2)
            return redis.call('HGETALL', KEYS[1])
            """

    /// KEYS: meta, then the stream of each topic asked. ARGV: the epoch asked, then topic and offset
    /// pairs. Returns {epoch or false, then per topic {top, "ok", offset, entry, ...} or {top, reason}}.
    static let recoverScript = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        local result = {epoch or false}
        for i = 2, #KEYS do
          local topic = ARGV[2 * i - 2]
          local after = tonumber(ARGV[2 * i - 1])
          local top = tonumber(redis.call('HGET', KEYS[1], topic) or '0')
          if epoch ~= ARGV[1] then
            result[i] = {top, 'epoch_changed'}
          elseif after > top then
            result[i] = {top, 'unknown_position'}
          else
            local answer = {top, 'ok'}
            if after < top then
              local entries = redis.call('XRANGE', KEYS[i], (after + 1) .. '-0', '+')
              if #entries ~= top - after or entries[1][1] ~= (after + 1) .. '-0' then
                answer = {top, 'history_expired'}
              else
                for _, entry in ipairs(entries) do
                  answer[#answer + 1] = tonumber(string.match(entry[1], '^(%d+)'))
                  answer[#answer + 1] = entry[2][4]
                end
              end
            end
            result[i] = answer
          end
        end
        return result
        """
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
