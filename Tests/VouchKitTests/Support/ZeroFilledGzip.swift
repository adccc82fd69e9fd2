/// Builds a GZIP stream (RFC 1952) of any number of zero bytes without holding them in memory,
/// so tests can make status lists of any length and decompression bombs.
///
/// The DEFLATE data (RFC 1951) is one block with the fixed Huffman codes: a literal zero, then
/// back-references of length 258 at distance 1 (13 bits for 258 bytes), then literal zeros for the
/// rest. 64 MiB of zeros becomes about 420 KiB.
enum ZeroFilledGzip {
    /// A complete, valid GZIP stream whose content is `count` zero bytes.
    static func make(count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(UInt32.max))
        var writer = BitWriter()
        // Header: final block, fixed Huffman codes (BTYPE 01).
        writer.write(1, bitCount: 1)
        writer.write(1, bitCount: 2)
        var remaining = count
        if remaining > 0 {
            writer.writeCode(0b0011_0000, length: 8)  // literal 0
            remaining -= 1
        }
        while remaining >= 258 {
            writer.writeCode(0b1100_0101, length: 8)  // length symbol 285: 258 bytes, no extra bits
            writer.writeCode(0b00000, length: 5)  // distance symbol 0: distance 1, no extra bits
            remaining -= 258
        }
        for _ in 0..<remaining {
            writer.writeCode(0b0011_0000, length: 8)
        }
        writer.writeCode(0b000_0000, length: 7)  // end of block (symbol 256)

        var stream: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
        stream += writer.finish()
        stream += littleEndian(crc32OfZeros(count: count))
        stream += littleEndian(UInt32(truncatingIfNeeded: count))
        return stream
    }

    /// The CRC-32 (ISO-HDLC, as GZIP uses it) of `count` zero bytes.
    private static func crc32OfZeros(count: Int) -> UInt32 {
        var table = [UInt32](repeating: 0, count: 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[n] = c
        }
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for _ in 0..<count { crc = table[Int(crc & 0xFF)] ^ (crc >> 8) }
        }
        return ~crc
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// Packs bits least significant first, as DEFLATE stores them.
    private struct BitWriter {
        private var bytes: [UInt8] = []
        private var current: UInt32 = 0
        private var used = 0

        /// Writes the low `bitCount` bits of `value`, least significant first (header fields).
        mutating func write(_ value: UInt32, bitCount: Int) {
            for bit in 0..<bitCount { push(value >> bit & 1) }
        }

        /// Writes a Huffman code of `length` bits, most significant first.
        mutating func writeCode(_ code: UInt32, length: Int) {
            for bit in stride(from: length - 1, through: 0, by: -1) { push(code >> bit & 1) }
        }

        /// The bytes written, the last one padded with zero bits.
        mutating func finish() -> [UInt8] {
            if used > 0 { bytes.append(UInt8(current)) }
            current = 0
            used = 0
            return bytes
        }

        private mutating func push(_ bit: UInt32) {
            current |= bit << used
            used += 1
            if used == 8 {
                bytes.append(UInt8(current))
                current = 0
                used = 0
            }
        }
    }
}
