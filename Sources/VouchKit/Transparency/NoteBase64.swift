/// Standard base64 with padding (RFC 4648 §4), as signed notes and checkpoints use it.
///
/// Decoding is strict: padding is required, and only the canonical encoding of a byte
/// string is accepted, so every value has exactly one text form.
enum NoteBase64 {
    /// Encodes bytes as padded standard base64.
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var utf8 = Array(Base64URL.encode(bytes).utf8)
        for index in utf8.indices {
            switch utf8[index] {
            case UInt8(ascii: "-"): utf8[index] = UInt8(ascii: "+")
            case UInt8(ascii: "_"): utf8[index] = UInt8(ascii: "/")
            default: break
            }
        }
        while utf8.count % 4 != 0 { utf8.append(UInt8(ascii: "=")) }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Decodes padded standard base64; returns `nil` for anything else.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        guard utf8.count % 4 == 0 else { return nil }
        var padding = 0
        while padding < 2, utf8.last == UInt8(ascii: "=") {
            utf8.removeLast()
            padding += 1
        }
        for index in utf8.indices {
            switch utf8[index] {
            case UInt8(ascii: "+"): utf8[index] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): utf8[index] = UInt8(ascii: "_")
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "="): return nil
            default: break
            }
        }
        return Base64URL.decode(utf8: utf8[...])
    }
}
