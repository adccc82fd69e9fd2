import Foundation

/// A JWT NumericDate (RFC 7519 §2): seconds since 1970, range-checked where it is read.
///
/// Every time that comes from outside (a token's `iat`, `exp` or `nbf`, an envelope's `iat`) is read
/// through this type, so that no later arithmetic, rounding or `Int` conversion can trap on it: a
/// value that is not finite or lies outside 1970-01-01 … 9999-12-31T23:59:59Z is refused as
/// malformed, never carried on. One signed envelope with `iat` 1e19 once stopped the server.
public struct NumericDate: Sendable, Hashable, Codable, Comparable {
    /// The latest time taken: 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
    public static let latest: Double = 253_402_300_799

    /// Seconds since 1970-01-01T00:00:00Z, finite and within `0...latest`.
    public let seconds: Double

    /// A checked time; throws when `seconds` is not finite or out of range. `claim` names the
    /// member for the error.
    public init(_ seconds: Double, claim: String = "the time") throws {
        guard seconds.isFinite, seconds >= 0, seconds <= Self.latest else {
            throw VouchKitError.malformedInput("\(claim) must be seconds since 1970 between 0 and \(Int(Self.latest)) (year 9999)")
        }
        self.seconds = seconds
    }

    /// The time of `date`, clamped into the range.
    public init(_ date: Date) {
        seconds = min(max(date.timeIntervalSince1970, 0), Self.latest)
    }

    /// The date.
    public var date: Date { Date(timeIntervalSince1970: seconds) }

    public static func < (lhs: NumericDate, rhs: NumericDate) -> Bool { lhs.seconds < rhs.seconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(Double.self)
        do {
            try self.init(value, claim: decoder.codingPath.last?.stringValue ?? "the time")
        } catch let error as VouchKitError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.reason)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(seconds)
    }
}

extension JSONScanner {
    /// Reads a NumericDate: a finite number of seconds within 1970 … 9999.
    package mutating func readNumericDate(_ claim: String) throws -> NumericDate {
        try NumericDate(try readNumber(), claim: claim)
    }
}
