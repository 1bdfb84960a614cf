/// RFC 7692 permessage-deflate as the gateway agrees to it: what one connection negotiated.
///
/// The gateway always answers with `server_no_context_takeover`, so each message it sends is
/// deflated on its own and one broadcast's compressed bytes serve every recipient with the same
/// window, and with `client_no_context_takeover` (§7.1.1.2 lets a server ask it of any client), so
/// an inbound message inflates on its own too and no connection keeps an inflate window
/// (32 KiB) between messages.
package struct PerMessageDeflate: Sendable, Hashable {
    /// The base-2 logarithm of the window the gateway deflates with: 15 unless the client asked for
    /// less with `server_max_window_bits`.
    package let serverWindowBits: Int
    /// Whether the accepted offer named `server_max_window_bits`: then the answer must name it too.
    private let windowBitsRequested: Bool

    /// The largest window zlib's raw deflate supports, and the smallest: zlib refuses 8 for raw
    /// deflate (since 1.2.9), so an offer that asks for 8 is declined.
    package static let windowBits = 9...15

    package init(serverWindowBits: Int = 15) {
        self.serverWindowBits = serverWindowBits
        self.windowBitsRequested = serverWindowBits != 15
    }

    private init(serverWindowBits: Int, requested: Bool) {
        self.serverWindowBits = serverWindowBits
        self.windowBitsRequested = requested
    }

    /// The `Sec-WebSocket-Extensions` value of the handshake's answer.
    package var responseHeaderValue: String {
        var value = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        if windowBitsRequested { value += "; server_max_window_bits=\(serverWindowBits)" }
        return value
    }

    /// The first offer of `permessage-deflate` in the request's `Sec-WebSocket-Extensions` values
    /// that the gateway can honour, or nil (the connection runs uncompressed). An offer with an
    /// unknown or repeated parameter, or a value out of range, is declined, as §7.1 asks, and the
    /// next one is tried; the handshake itself never fails over an offer.
    package static func negotiate(offers headerValues: [String]) -> PerMessageDeflate? {
        for value in headerValues {
            for offer in ExtensionOffer.parse(value) where offer.name.lowercased() == "permessage-deflate" {
                if let accepted = accept(offer) { return accepted }
            }
        }
        return nil
    }

    private static func accept(_ offer: ExtensionOffer) -> PerMessageDeflate? {
        var seen: Set<String> = []
        var serverWindowBits: Int?
        for parameter in offer.parameters {
            let name = parameter.name.lowercased()
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover", "client_no_context_takeover":
                guard parameter.value == nil else { return nil }
            case "server_max_window_bits":
                guard let bits = parameter.value.flatMap(windowBits(_:)) else { return nil }
                serverWindowBits = bits
            case "client_max_window_bits":
                // Without a value the client only says it could honour one; either way it changes
                // nothing here: every inbound message is inflated with a fresh 15-bit window.
                if let value = parameter.value, windowBits(value) == nil { return nil }
            default:
                return nil
            }
        }
        guard let bits = serverWindowBits else { return PerMessageDeflate(serverWindowBits: 15, requested: false) }
        guard Self.windowBits.contains(bits) else { return nil }
        return PerMessageDeflate(serverWindowBits: bits, requested: true)
    }

    /// §7.1.2.1: a decimal 8-15 with no leading zero.
    private static func windowBits(_ text: Substring) -> Int? {
        guard let first = text.first, first != "0", text.count <= 2, let bits = Int(text), (8...15).contains(bits) else { return nil }
        return bits
    }
}
