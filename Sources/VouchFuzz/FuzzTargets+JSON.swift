import Foundation
import VouchKit

/// JSON text and the times read from it.
extension FuzzTargets {
    /// Any JSON, walked with every reading function of ``JSONScanner``, then validated and skipped
    /// whole as the readers skip members they do not know.
    static func jsonScanner(_ data: Data) {
        let bytes = Array(data)
        var reader = JSONScanner(bytes)
        do {
            try walk(&reader, depth: 0)
            try reader.finish()
        } catch {}
        var skipper = JSONScanner(bytes)
        do {
            try skipper.skipValue()
            try skipper.finish()
        } catch {}
    }

    /// Reads one value with the function a reader would use for it; members named as the readers
    /// name them are read as those readers read them.
    private static func walk(_ scanner: inout JSONScanner, depth: Int) throws {
        guard depth < 64, let first = scanner.peekValue() else { return try scanner.skipValue() }
        switch first {
        case UInt8(ascii: "{"):
            try scanner.readObject { scanner, key in
                _ = key.text
                switch key {
                case "seq", "statusListIndex": _ = try scanner.readUnsignedInteger()
                case "iat", "exp", "nbf": _ = try scanner.readNumericDate("iat")
                case "type", "@context": _ = try scanner.readStrings()
                default: try walk(&scanner, depth: depth + 1)
                }
            }
        case UInt8(ascii: "["):
            try scanner.readArray { try walk(&$0, depth: depth + 1) }
        case UInt8(ascii: "\""):
            _ = try scanner.readString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanner.readNumber()
        default:
            try scanner.skipValue()
        }
    }

    /// Any JSON, read into a ``JSONValue``; its canonical form (what the transparency log hashes)
    /// must read back to the same value.
    static func jsonValue(_ data: Data) {
        guard let value = try? JSONValue(parsing: data) else { return }
        let canonical = value.canonicalJSON
        guard let again = try? JSONValue(parsing: canonical), again == value else {
            fatalError("the canonical JSON of a value does not read back to it: \(String(decoding: canonical, as: UTF8.self).prefix(200))")
        }
        _ = value.jsonData(pretty: true)
    }

    /// A JWT NumericDate as JSON text, read by the decoder and by the one-pass reader.
    static func numericDate(_ data: Data) {
        if let date = try? JSONDecoder().decode(NumericDate.self, from: data) {
            _ = RFC3339.format(date.date)
        }
        var scanner = JSONScanner(Array(data))
        _ = try? scanner.readNumericDate("iat")
    }

    /// An RFC 3339 date-time; what it reads must be written back as one.
    static func rfc3339(_ data: Data) {
        guard let date = RFC3339.parse(String(decoding: data, as: UTF8.self)) else { return }
        let text = RFC3339.format(date)
        guard RFC3339.parse(text) != nil else {
            fatalError("RFC3339.format wrote \(text), which RFC3339.parse refuses")
        }
    }
}
