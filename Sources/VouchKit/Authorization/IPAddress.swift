#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are read as IPv4, so
/// that a dual-stack listener's peers match IPv4 ranges.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 16 bytes, network order.
    let bytes: [UInt8]

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nil when it is neither.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let raw = withUnsafeBytes(of: &v6) { Array($0) }
        if raw.prefix(10).allSatisfy({ $0 == 0 }) && raw[10] == 0xFF && raw[11] == 0xFF {
            bytes = Array(raw.suffix(4))
        } else {
            bytes = raw
        }
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for index in stride(from: 0, to: 16, by: 2) {
            groups.append(String(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }
}

/// A CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
public struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    let network: [UInt8]
    let prefixLength: Int

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

extension IPAddress {
    init(bytes: [UInt8]) {
        self.bytes = bytes
    }
}
