/// Comparisons of secrets whose time does not depend on where they differ.
package enum ConstantTime {
    /// Whether two byte sequences are equal, in time that depends only on their lengths.
    package static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }

    /// Whether two strings have equal UTF-8, in time that depends only on their lengths.
    package static func equals(_ lhs: String, _ rhs: String) -> Bool {
        equals(Array(lhs.utf8), Array(rhs.utf8))
    }
}
