extension Duration {
    /// The duration in seconds, for arithmetic with rates and for JSON.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
