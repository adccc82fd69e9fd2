/// Comparisons of secrets whose time does not depend on where they differ.
package enum ConstantTime {
    /// Whether two byte sequences are equal, in time that depends only on their lengths.
    package static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        // Contiguous bytes (arrays, native strings' UTF-8) are compared through their buffers: the
        // generic walk below, called across modules, ran unspecialized at a tenth of the speed.
        if let result = lhs.withContiguousStorageIfAvailable({ left in
            rhs.withContiguousStorageIfAvailable { right in equals(left, right) }
        }), let result {
            return result
        }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }

    /// Whether two buffers of equal length hold the same bytes, in time that depends only on the length.
    private static func equals(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        var difference: UInt8 = 0
        for index in 0..<lhs.count { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    /// Whether two strings have equal UTF-8, in time that depends only on their lengths.
    package static func equals(_ lhs: String, _ rhs: String) -> Bool {
        var lhs = lhs
        var rhs = rhs
        lhs.makeContiguousUTF8()
        rhs.makeContiguousUTF8()
        return equals(lhs.utf8, rhs.utf8)
    }
}
