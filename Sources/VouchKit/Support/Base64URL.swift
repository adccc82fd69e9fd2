import Foundation

/// Base64url without padding (RFC 4648 §5), as JOSE and multibase `u` use it.
package enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        return table
    }()

    /// Encodes bytes as unpadded base64url text.
    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            output.append(alphabet[Int(b0 >> 2)])
            output.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                output.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            }
            if let b2 {
                output.append(alphabet[Int(b2 & 0x3F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes unpadded base64url text; returns `nil` for any character outside the alphabet,
    /// for padding, and for an impossible length.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(utf8: Array(text.utf8)[...])
    }

    /// Decodes unpadded base64url from UTF-8 bytes: four characters at a time into a buffer sized
    /// once, since tokens are decoded on every verification.
    package static func decode(utf8 input: ArraySlice<UInt8>) -> [UInt8]? {
        let remainder = input.count % 4
        if remainder == 1 { return nil }
        let outputCount = input.count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        var valid = true
        let output = reverse.withUnsafeBufferPointer { table in
            input.withUnsafeBufferPointer { source in
                [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
                    var read = 0
                    var written = 0
                    var bad: UInt8 = 0
                    while read + 4 <= source.count {
                        let a = table[Int(source[read])], b = table[Int(source[read + 1])]
                        let c = table[Int(source[read + 2])], d = table[Int(source[read + 3])]
                        bad |= (a | b | c | d) & 0xC0
                        let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                        buffer[written] = UInt8(truncatingIfNeeded: word >> 16)
                        buffer[written + 1] = UInt8(truncatingIfNeeded: word >> 8)
                        buffer[written + 2] = UInt8(truncatingIfNeeded: word)
                        read += 4
                        written += 3
                    }
                    if remainder >= 2 {
                        let a = table[Int(source[read])], b = table[Int(source[read + 1])]
                        let c = remainder == 3 ? table[Int(source[read + 2])] : 0
                        bad |= (a | b | c) & 0xC0
                        // Unused trailing bits must be zero (canonical encoding).
                        if remainder == 2 { bad |= (b & 0x0F) == 0 ? 0 : 0x40 } else { bad |= (c & 0x03) == 0 ? 0 : 0x40 }
                        buffer[written] = a << 2 | b >> 4
                        written += 1
                        if remainder == 3 {
                            buffer[written] = b << 4 | c >> 2
                            written += 1
                        }
                    }
                    valid = bad == 0
                    initialized = written
                }
            }
        }
        return valid ? output : nil
    }
}
