#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
public struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    let network: [UInt8]
    /// How many leading bits the range fixes.
    public let prefixLength: Int

    /// Whether it is an IPv6 range.
    public var isIPv6: Bool { network.count == 16 }

    /// Parses `ADDRESS/PREFIX` or `ADDRESS`. Host bits set below the prefix are refused, since they
    /// usually mean a mistyped range.
    public init(_ text: String) throws(AuthorizationError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else {
            throw AuthorizationError.invalidPattern("\"\(text.prefix(64))\" is not an IP address or CIDR range such as 10.0.0.0/8")
        }
        let width = address.bytes.count * 8
        var length = width
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...width).contains(value), parts[1].allSatisfy(\.isASCII) else {
                throw AuthorizationError.invalidPattern("\"\(text.prefix(64))\": the prefix length must be 0 to \(width)")
            }
            length = value
        }
        for bit in length..<width where address.bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 {
            throw AuthorizationError.invalidPattern("\"\(text.prefix(64))\" has host bits set below its /\(length) prefix")
        }
        network = address.bytes
        prefixLength = length
    }

    /// Whether `address` is in the range (an IPv4 address is never in an IPv6 range, nor the reverse).
    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.count else { return false }
        var remaining = prefixLength
        var index = 0
        while remaining >= 8 {
            if address.bytes[index] != network[index] { return false }
            remaining -= 8
            index += 1
        }
        if remaining > 0 {
            let mask = UInt8(0xFF) << UInt8(8 - remaining)
            if address.bytes[index] & mask != network[index] & mask { return false }
        }
        return true
    }

    public var description: String {
        prefixLength == network.count * 8 ? IPAddress(bytes: network).description : "\(IPAddress(bytes: network))/\(prefixLength)"
    }
}
