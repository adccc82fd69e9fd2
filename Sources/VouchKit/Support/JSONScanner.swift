/// A strict, allocation-light JSON reader (RFC 8259) for the hot verification paths: it reads the
/// members a verifier needs straight from the bytes and validates, then skips, everything else.
/// Foundation's `JSONDecoder` costs about a third of an Ed25519 verify on a credential payload on
/// Linux; this reader is what lets full verification stay close to the signature check.
///
/// Duplicate members are refused for the keys a caller reads (see ``readObject(_:)``), so two
/// parsers can never disagree about which `issuer` or `kid` a token names.
package struct JSONScanner {
    private let bytes: [UInt8]
    private var index = 0
    private static let maximumDepth = 64

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Structure

    /// Reads an object, calling `body` with each key; `body` must consume the value (read or skip it).
    /// Keys are compared as bytes, so reading them allocates nothing.
    package mutating func readObject(_ body: (inout JSONScanner, JSONKey) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            let key = try readKey()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try body(&self, key)
            skipWhitespace()
            guard let next = next() else { throw Self.error("unterminated object") }
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw Self.error("expected , or } in an object") }
        }
    }

    /// Reads an array, calling `body` for each element; `body` must consume it.
    package mutating func readArray(_ body: (inout JSONScanner) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            guard let next = next() else { throw Self.error("unterminated array") }
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw Self.error("expected , or ] in an array") }
        }
    }

    /// Checks that only whitespace follows.
    package mutating func finish() throws {
        skipWhitespace()
        guard index == bytes.count else { throw Self.error("unexpected data after the JSON value") }
    }

    /// The next value's first byte, after whitespace.
    package mutating func peekValue() -> UInt8? {
        skipWhitespace()
        return peek()
    }

    // MARK: Values

    /// Reads an object key: its raw bytes when it has no escapes (the usual case), else its decoded UTF-8.
    private mutating func readKey() throws -> JSONKey {
        let start = index + 1
        try skipString()
        let raw = bytes[start..<(index - 1)]
        if !raw.contains(UInt8(ascii: "\\")) { return JSONKey(bytes: raw) }
        index = start - 1
        return JSONKey(bytes: Array(try readString().utf8)[...])
    }

    /// Validates and skips a string without building it.
    private mutating func skipString() throws {
        try expect(UInt8(ascii: "\""))
        var ascii = true
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                if !ascii {
                    guard Self.isValidUTF8(bytes[start..<(index - 1)]) else { throw Self.error("a string is not valid UTF-8") }
                }
                return
            }
            if byte == UInt8(ascii: "\\") {
                index = start - 1
                _ = try readString()
                return
            }
            guard byte >= 0x20 else { throw Self.error("a control character inside a string") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        throw Self.error("unterminated string")
    }

    private static func isValidUTF8(_ slice: ArraySlice<UInt8>) -> Bool {
        var iterator = slice.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Reads a string, decoding escapes; refuses control characters and invalid UTF-8.
    package mutating func readString() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = bytes[start..<index]
                index += 1
                guard let text = String(validating: slice, as: UTF8.self) else { throw Self.error("a string is not valid UTF-8") }
                return text
            }
            if byte == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            guard byte >= 0x20 else { throw Self.error("a control character inside a string") }
            index += 1
        }
        throw Self.error("unterminated string")
    }

    private mutating func readEscapedString(from start: Int) throws -> String {
        var buffer = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: buffer, as: UTF8.self) else { throw Self.error("a string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard let escape = next() else { throw Self.error("unterminated escape") }
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else { throw Self.error("a lone surrogate in a string") }
                        let low = try readHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw Self.error("a lone surrogate in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw Self.error("a lone surrogate in a string")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Self.error("an invalid \\u escape") }
                    buffer.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw Self.error("an invalid escape in a string")
                }
            default:
                guard byte >= 0x20 else { throw Self.error("a control character inside a string") }
                buffer.append(byte)
            }
        }
        throw Self.error("unterminated string")
    }

    private mutating func readHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next() else { throw Self.error("unterminated \\u escape") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Self.error("an invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Reads a number.
    package mutating func readNumber() throws -> Double {
        let start = index
        try scanNumber()
        guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)), value.isFinite else {
            throw Self.error("a number out of range")
        }
        return value
    }

    /// Reads a non-negative integer of at most 2^53.
    package mutating func readUnsignedInteger() throws -> UInt64 {
        let start = index
        var value: UInt64 = 0
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
            guard value <= 1 << 53 else { throw Self.error("an integer above 2^53") }
            index += 1
        }
        guard index > start, !(index - start > 1 && bytes[start] == UInt8(ascii: "0")) else {
            throw Self.error("expected a non-negative integer")
        }
        if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw Self.error("expected an integer")
        }
        return value
    }

    /// Reads a string, or an array of strings.
    package mutating func readStrings() throws -> [String] {
        if peekValue() == UInt8(ascii: "[") {
            var values: [String] = []
            try readArray { values.append(try $0.readString()) }
            return values
        }
        return [try readString()]
    }

    /// Reads a node reference: a string id, or an object whose `id` is returned (other members skipped).
    mutating func readNodeID() throws -> String? {
        if peekValue() == UInt8(ascii: "\"") { return try readString() }
        var id: String?
        try readObject { scanner, key in
            if key == "id" {
                guard id == nil else { throw Self.error("duplicate member \"id\"") }
                id = try scanner.readString()
            } else {
                try scanner.skipValue()
            }
        }
        return id
    }

    /// Validates and skips one value.
    package mutating func skipValue(depth: Int = 0) throws {
        guard depth < Self.maximumDepth else { throw Self.error("nested deeper than \(Self.maximumDepth) levels") }
        skipWhitespace()
        guard let byte = peek() else { throw Self.error("expected a value") }
        switch byte {
        case UInt8(ascii: "{"): try readObject { scanner, _ in try scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): try readArray { try $0.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try scanNumber()
        }
    }

    // MARK: Primitives

    private mutating func literal(_ word: String) throws {
        for byte in word.utf8 {
            guard next() == byte else { throw Self.error("an invalid literal") }
        }
    }

    private mutating func scanNumber() throws {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw Self.error("an invalid value") }
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            scanDigits()
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard scanDigits() > 0 else { throw Self.error("an invalid number") }
        }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard scanDigits() > 0 else { throw Self.error("an invalid number") }
        }
    }

    @discardableResult
    private mutating func scanDigits() -> Int {
        let start = index
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard next() == byte else { throw Self.error("expected \(Character(Unicode.Scalar(byte)))") }
    }

    /// Throws when a member the caller reads appears a second time in `context`.
    package static func once(_ seen: Bool, _ key: JSONKey, in context: String) throws {
        if seen { throw error("\(context) repeats the member \"\(key.text)\"") }
    }

    package static func error(_ reason: String) -> VouchKitError {
        VouchKitError.malformedInput("invalid JSON: \(reason)")
    }
}

/// An object key as it appears in the JSON, compared with string literals byte for byte.
package struct JSONKey {
    let bytes: ArraySlice<UInt8>

    package static func == (key: JSONKey, literal: String) -> Bool {
        key.bytes.elementsEqual(literal.utf8)
    }

    package static func ~= (literal: String, key: JSONKey) -> Bool {
        key == literal
    }

    /// The key as text, for messages.
    package var text: String { String(decoding: bytes, as: UTF8.self) }
}
