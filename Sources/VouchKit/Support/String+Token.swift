extension String {
    /// The string without leading and trailing ASCII whitespace. Tokens rarely have any, so the
    /// common case looks at two bytes and returns `self` (Foundation's trimming costs tens of
    /// microseconds on Linux, a sizeable share of a whole verification).
    var trimmingASCIIWhitespace: String {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        let utf8 = self.utf8
        guard let first = utf8.first, let last = utf8.last, isSpace(first) || isSpace(last) else { return self }
        let trimmed = utf8.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        return String(decoding: Array(trimmed), as: UTF8.self)
    }
}
