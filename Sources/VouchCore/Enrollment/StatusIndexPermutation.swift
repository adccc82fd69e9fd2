import Crypto
import Foundation

/// Where in a status list a credential's bit goes: the n-th credential of a list gets a position
/// that looks random to anyone without the key, as the Bitstring Status List spec advises (§6.5,
/// "group privacy"), so that the indexes tell an observer neither enrollment order nor fleet size.
///
/// Positions are handed out by a gap-free counter (one database update per block of enrollments,
/// the same on every node); this maps each counter value ("slot") to a position by a keyed
/// permutation of the list, so two slots never share a position. The permutation is a 4-round
/// Feistel network over the smallest even number of bits that covers the list, with HMAC-SHA-256
/// as the round function, walking the cycle until the result falls inside the list.
public struct StatusIndexPermutation: Sendable {
    /// HMAC-SHA256 keyed once: each round copies it rather than hashing the key again.
    private let keyed: HMAC<SHA256>
    /// Entries per list.
    public let listSize: Int
    private let halfBits: Int

    /// A permutation of lists of `listSize` entries (at least 2, at most 2^40) under `key`.
    public init(key: [UInt8], listSize: Int) {
        precondition(listSize >= 2 && listSize <= 1 << 40, "a status list holds 2 to 2^40 entries")
        self.keyed = HMAC<SHA256>(key: SymmetricKey(data: key))
        self.listSize = listSize
        var bits = 1
        while 1 << bits < listSize { bits += 1 }
        halfBits = (bits + 1) / 2
    }

    /// The index (list × size + position) of the `slot`-th credential ever counted.
    public func index(ofSlot slot: Int) -> Int {
        precondition(slot >= 0, "slots are counted from 0")
        let list = slot / listSize
        var value = UInt64(slot % listSize)
        repeat {
            value = encrypt(value, list: UInt64(list))
        } while value >= UInt64(listSize)
        return list * listSize + Int(value)
    }

    private func encrypt(_ value: UInt64, list: UInt64) -> UInt64 {
        let mask = (UInt64(1) << UInt64(halfBits)) - 1
        var left = value >> UInt64(halfBits)
        var right = value & mask
        for round in 0..<4 {
            let mixed = left ^ (roundFunction(right, round: UInt64(round), list: list) & mask)
            left = right
            right = mixed
        }
        return (left << UInt64(halfBits)) | right
    }

    private func roundFunction(_ half: UInt64, round: UInt64, list: UInt64) -> UInt64 {
        var mac = keyed
        for word in [list, round, half] {
            withUnsafeBytes(of: word.bigEndian) { mac.update(data: $0) }
        }
        let code = mac.finalize()
        return code.withUnsafeBytes { bytes in bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
    }
}
