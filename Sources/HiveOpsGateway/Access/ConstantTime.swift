import Crypto

enum ConstantTime {
    /// Compares two secrets in time that depends on neither their contents nor their lengths:
    /// both are hashed first, then the digests compared byte by byte without an early exit.
    static func equals(_ lhs: String, _ rhs: String) -> Bool {
        let left = SHA256.hash(data: Array(lhs.utf8))
        let right = SHA256.hash(data: Array(rhs.utf8))
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}
