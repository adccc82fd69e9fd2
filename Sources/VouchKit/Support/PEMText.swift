import Foundation

/// PEM text (RFC 7468) written straight from DER: base64 in lines of 64 characters between the
/// BEGIN and END lines, joined by "\n" with no newline after the END line, as SwiftASN1's
/// `PEMDocument.pemString` writes it. That one walks the base64 by `String.Index` (most of the
/// time an enrollment spent on text); this writes every byte once.
package enum PEMText {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `der` as a PEM block labelled `label` (`CERTIFICATE`, `X509 CRL`, …).
    package static func encode(_ der: [UInt8], label: String) -> String {
        let begin = Array("-----BEGIN \(label)-----\n".utf8)
        let end = Array("-----END \(label)-----".utf8)
        let characters = (der.count + 2) / 3 * 4
        let lines = (characters + 63) / 64
        let total = begin.count + characters + lines + end.count
        return String(unsafeUninitializedCapacity: total) { output in
            var at = 0
            func put(_ bytes: [UInt8]) {
                for byte in bytes {
                    output[at] = byte
                    at += 1
                }
            }
            put(begin)
            alphabet.withUnsafeBufferPointer { alphabet in
                der.withUnsafeBufferPointer { der in
                    var line = 0
                    var index = 0
                    while index < der.count {
                        let b0 = der[index]
                        let b1: UInt8? = index + 1 < der.count ? der[index + 1] : nil
                        let b2: UInt8? = index + 2 < der.count ? der[index + 2] : nil
                        output[at] = alphabet[Int(b0 >> 2)]
                        output[at + 1] = alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)]
                        output[at + 2] = b1.map { alphabet[Int(($0 & 0x0F) << 2 | (b2 ?? 0) >> 6)] } ?? UInt8(ascii: "=")
                        output[at + 3] = b2.map { alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "=")
                        at += 4
                        line += 4
                        index += 3
                        if line == 64 || index >= der.count {
                            output[at] = UInt8(ascii: "\n")
                            at += 1
                            line = 0
                        }
                    }
                }
            }
            put(end)
            return at
        }
    }
}
