/// A decentralized identifier (W3C DID Core §3.1): `did:<method>:<method-specific-id>`.
public struct DID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The method name, such as `key` or `web`.
    public let method: String
    /// Everything after `did:<method>:`.
    public let methodSpecificID: String

    /// Parses a DID, rejecting paths, queries, fragments and characters outside the DID syntax.
    public init(_ text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "did" else {
            throw VouchKitError.malformedInput("\"\(text)\" is not a DID: expected did:<method>:<id>")
        }
        let method = String(parts[1])
        guard !method.isEmpty, method.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
            throw VouchKitError.malformedInput("DID method \"\(method)\" must be lowercase letters and digits")
        }
        let id = String(parts[2])
        guard !id.isEmpty, !id.hasSuffix(":"), Self.isValidMethodSpecificID(id) else {
            throw VouchKitError.malformedInput("\"\(text)\" has an invalid method-specific identifier")
        }
        self.method = method
        self.methodSpecificID = id
    }

    /// The DID text.
    public var description: String { "did:\(method):\(methodSpecificID)" }

    public static func < (lhs: DID, rhs: DID) -> Bool { lhs.description < rhs.description }

    private static func isValidMethodSpecificID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2E, 0x2D, 0x5F, 0x3A:
                index += 1
            case 0x25:
                guard index + 2 < bytes.count, bytes[index + 1].isHexDigit, bytes[index + 2].isHexDigit else { return false }
                index += 3
            default:
                return false
            }
        }
        return true
    }
}

extension DID: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
