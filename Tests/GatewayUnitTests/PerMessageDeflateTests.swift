import HiveOpsGateway
import Testing

/// RFC 7692 §7.1 negotiation: what browsers offer is accepted with no context takeover both ways;
/// an offer the gateway cannot honour is declined, never the handshake.
@Suite struct PerMessageDeflateTests {
    static let answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

    @Test(
        arguments: [
            "permessage-deflate; client_max_window_bits",  // Chromium, Firefox, Safari
            "permessage-deflate",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            "Permessage-Deflate ;  Client_Max_Window_Bits=12",  // names in any case, spaces anywhere
            "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits",  // an unknown extension first
        ]
    )
    func whatBrowsersOfferIsAcceptedWithNoContextTakeover(offer: String) {
        let agreed = PerMessageDeflate.negotiate(offers: [offer])
        #expect(agreed?.serverWindowBits == 15)
        #expect(agreed?.responseHeaderValue == Self.answer)
    }

    @Test func aServerWindowAskedForIsUsedAndNamedInTheAnswer() {
        let agreed = PerMessageDeflate.negotiate(offers: [#"permessage-deflate; server_max_window_bits="10""#])
        #expect(agreed?.serverWindowBits == 10)
        #expect(agreed?.responseHeaderValue == Self.answer + "; server_max_window_bits=10")
    }

    @Test(
        arguments: [
            "permessage-deflate; server_max_window_bits=8",  // zlib's raw deflate has no 8-bit window
            "permessage-deflate; server_max_window_bits",  // a value is required
            "permessage-deflate; server_max_window_bits=010",  // no leading zero
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; server_no_context_takeover=1",  // takes no value
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",  // repeated
            "permessage-deflate; mystery",  // unknown parameter
            "x-webkit-deflate-frame",
            "",
        ]
    )
    func anOfferThatCannotBeHonouredIsDeclined(offer: String) {
        #expect(PerMessageDeflate.negotiate(offers: [offer]) == nil)
    }

    @Test func aDeclinedOfferFallsBackToTheNextOneInEitherHeaderLine() {
        let agreed = PerMessageDeflate.negotiate(offers: [
            "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
            "permessage-deflate",
        ])
        #expect(agreed?.serverWindowBits == 9)
        #expect(PerMessageDeflate.negotiate(offers: ["permessage-deflate; mystery", "permessage-deflate"])?.serverWindowBits == 15)
    }

    @Test func aQuotedValueMayHoldSeparators() {
        // Not a valid window, but it must be read as one value, not split at its comma.
        #expect(PerMessageDeflate.negotiate(offers: [#"permessage-deflate; client_max_window_bits="1,2", permessage-deflate"#]) != nil)
        #expect(PerMessageDeflate.negotiate(offers: [#"permessage-deflate; client_max_window_bits="1,2""#]) == nil)
    }
}
