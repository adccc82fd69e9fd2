import CompressNIO
import NIOCore

/// A W3C Bitstring Status List v1.0: one status bit per credential, published as a GZIP-compressed,
/// multibase-encoded bitstring.
///
/// Entry `index` is bit `index % 8` of byte `index / 8`, counting from the most significant bit, so
/// index 0 is the left-most bit of the first byte (Bitstring Status List v1.0 §3.2 and §3.3). A set
/// bit means the credential at that index has the list's ``StatusPurpose``.
///
/// ```swift
/// var list = try BitstringStatusList()          // 131,072 entries, all clear
/// try list.set(94_567)
/// let published = list.encodedList              // "uH4sI..."
/// let fetched = try BitstringStatusList(encodedList: published)
/// try fetched.isSet(94_567)                     // true
/// ```
///
/// Checking a bit is O(1) and allocates nothing. Decoding refuses lists shorter than the
/// specification's minimum and compressed data that would expand past ``maximumSize`` bits, so a
/// small, hostile `encodedList` (a decompression bomb) cannot exhaust memory.
public struct BitstringStatusList: Sendable, Hashable {
    /// The fewest entries a list may have: 131,072 (16 KiB), the minimum the specification sets so
    /// that a verifier fetching the list does not reveal which credential it checks.
    public static let minimumSize = 131_072

    /// The most entries VouchKit creates or decodes: 134,217,728 (16 MiB of bits).
    ///
    /// Decompression stops as soon as an encoded list would grow past this, whatever its GZIP
    /// header claims, so the memory a decode uses is bounded.
    public static let maximumSize = maximumByteCount * 8

    /// ``maximumSize`` in bytes, as the decompressor counts it.
    private static let maximumByteCount = 16 * 1024 * 1024

    /// The number of entries (bits) in the list: at least ``minimumSize`` and a multiple of 8.
    public let size: Int

    /// The bitstring, index 0 in the most significant bit of `bytes[0]`.
    package private(set) var bytes: [UInt8]

    /// Creates a list with every entry clear.
    ///
    /// - Parameter size: The number of entries; at least ``minimumSize`` (the default), at most
    ///   ``maximumSize``, and a multiple of 8.
    /// - Throws: ``VouchKitError`` when `size` is out of those bounds.
    public init(size: Int = BitstringStatusList.minimumSize) throws {
        guard size >= Self.minimumSize else {
            throw VouchKitError.malformedInput(
                "A status list needs at least \(Self.minimumSize) entries (16 KiB), so that checking it does not reveal which credential is checked; \(size) is too small."
            )
        }
        guard size <= Self.maximumSize else {
            throw VouchKitError.unsupported(
                "A status list can have at most \(Self.maximumSize) entries (16 MiB); \(size) is too large. Split the credentials across several lists."
            )
        }
        guard size % 8 == 0 else {
            throw VouchKitError.malformedInput(
                "A status list size must be a multiple of 8 so that it fills whole bytes; \(size) is not (try \(size / 8 * 8 + 8))."
            )
        }
        self.size = size
        self.bytes = [UInt8](repeating: 0, count: size / 8)
    }

    /// Decodes the `encodedList` of a `BitstringStatusListCredential`: multibase `u` followed by
    /// unpadded base64url of the GZIP-compressed bitstring.
    ///
    /// - Parameter encodedList: The encoded bitstring, for example `"uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"`.
    /// - Throws: ``VouchKitError`` when the text lacks the `u` prefix, is not base64url, is not one
    ///   complete GZIP stream, decompresses to more than ``maximumSize`` bits (a likely decompression
    ///   bomb), or decompresses to fewer than ``minimumSize`` bits.
    public init(encodedList: String) throws {
        let utf8 = encodedList.utf8
        guard utf8.first == UInt8(ascii: "u") else {
            throw VouchKitError.malformedInput(
                "An encoded status list must start with the multibase prefix 'u' (base64url without padding); this one starts with \(encodedList.isEmpty ? "nothing" : "'\(encodedList.prefix(1))'")."
            )
        }
        guard let compressed = Base64URL.decode(utf8: Array(utf8.dropFirst())[...]) else {
            throw VouchKitError.malformedInput(
                "An encoded status list must be base64url without padding after its 'u' prefix; this one has other characters, padding or an impossible length."
            )
        }
        let bytes = try Self.gunzip(compressed, limit: Self.maximumByteCount)
        guard bytes.count * 8 >= Self.minimumSize else {
            throw VouchKitError.malformedInput(
                "The status list has only \(bytes.count * 8) entries; Bitstring Status List v1.0 requires at least \(Self.minimumSize) (16 KiB)."
            )
        }
        self.size = bytes.count * 8
        self.bytes = bytes
    }

    /// The list as a `BitstringStatusListCredential` publishes it: multibase `u` followed by
    /// unpadded base64url of the GZIP-compressed bitstring.
    ///
    /// Another GZIP encoder may produce different bytes for the same bits; compare lists, not
    /// encodings.
    public var encodedList: String {
        "u" + Base64URL.encode(Self.gzip(bytes))
    }

    /// Whether the entry at `index` is set; the same as ``isSet(_:)``.
    ///
    /// - Throws: ``VouchKitError`` when `index` is not in `0..<size`.
    public subscript(index: Int) -> Bool {
        get throws { try isSet(index) }
    }

    /// Whether the entry at `index` is set, that is whether the credential at that index has the
    /// list's status purpose. O(1); allocates nothing unless it throws.
    ///
    /// - Throws: ``VouchKitError`` when `index` is not in `0..<size`.
    public func isSet(_ index: Int) throws -> Bool {
        try checkIndex(index)
        return bytes[index &>> 3] & Self.mask(index) != 0
    }

    /// Sets the entry at `index`.
    ///
    /// - Throws: ``VouchKitError`` when `index` is not in `0..<size`; the list is then unchanged.
    public mutating func set(_ index: Int) throws {
        try checkIndex(index)
        bytes[index &>> 3] |= Self.mask(index)
    }

    /// Clears the entry at `index`.
    ///
    /// - Throws: ``VouchKitError`` when `index` is not in `0..<size`; the list is then unchanged.
    public mutating func clear(_ index: Int) throws {
        try checkIndex(index)
        bytes[index &>> 3] &= ~Self.mask(index)
    }

    /// Throws unless `index` names an entry of this list.
    private func checkIndex(_ index: Int) throws {
        guard index >= 0, index < size else {
            throw VouchKitError.malformedInput(
                "Status list index \(index) is out of range: this list has \(size) entries, numbered 0 to \(size - 1)."
            )
        }
    }

    /// The bit of its byte that holds entry `index`: most significant bit first.
    private static func mask(_ index: Int) -> UInt8 {
        0x80 &>> UInt8(truncatingIfNeeded: index & 7)
    }
}

extension BitstringStatusList {
    /// The size of each piece the decompressor writes before its bytes are counted and kept.
    private static let inflateWindowSize = 64 * 1024

    /// GZIP-compresses `bytes` at the best compression level.
    private static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        do {
            let compressed = try input.compress(
                with: .gzip,
                configuration: ZlibConfiguration(compressionLevel: .bestCompression)
            )
            return Array(compressed.readableBytesView)
        } catch {
            // `compress(with:)` sizes its output with deflateBound, so deflate cannot run out of room
            // and the input is plain bytes; zlib fails here only when it cannot allocate its state,
            // which Swift treats as fatal everywhere else too.
            preconditionFailure("zlib could not compress an in-memory status list: \(error)")
        }
    }

    /// Decompresses one complete GZIP stream, refusing output longer than `limit` bytes before
    /// storing it.
    ///
    /// Output is produced a window at a time and counted before it is kept, so a stream that
    /// expands past `limit` costs at most `limit` bytes of memory, however far it would expand.
    private static func gunzip(_ compressed: [UInt8], limit: Int) throws -> [UInt8] {
        guard compressed.count >= 2, compressed[0] == 0x1F, compressed[1] == 0x8B else {
            throw VouchKitError.malformedInput(
                "An encoded status list must be GZIP-compressed, but the decoded bytes do not start with the GZIP signature 1F 8B."
            )
        }
        let decompressor: ZlibDecompressor
        do {
            decompressor = try ZlibDecompressor(algorithm: .gzip)
        } catch {
            throw VouchKitError.unsupported("zlib could not start decompressing the status list: \(error).")
        }
        var input = ByteBuffer(bytes: compressed)
        var window = ByteBufferAllocator().buffer(capacity: inflateWindowSize)
        var output = [UInt8]()
        output.reserveCapacity(minimumSize / 8)

        while true {
            window.clear()
            var windowFull = false
            do {
                try decompressor.inflate(from: &input, to: &window)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                windowFull = true
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                throw truncated()
            } catch let error as CompressNIOError where error == .corruptData {
                throw VouchKitError.malformedInput(
                    "The status list is not valid GZIP data: its compressed stream or its checksum is corrupt."
                )
            } catch {
                throw VouchKitError.malformedInput("The status list could not be decompressed: \(error).")
            }
            guard output.count + window.readableBytes <= limit else {
                throw VouchKitError.unsupported(
                    "The status list decompresses to more than \(limit / (1024 * 1024)) MiB (\(limit * 8) entries), the most VouchKit accepts; it is refused as a likely decompression bomb."
                )
            }
            output.append(contentsOf: window.readableBytesView)
            if windowFull { continue }

            // zlib stopped with room left in the window: either the stream ended, or the input ran
            // out first. Bytes left over mean the stream ended before them.
            guard input.readableBytes == 0 else {
                throw VouchKitError.malformedInput(
                    "The status list has \(input.readableBytes) bytes of trailing data after its GZIP stream; it must be exactly one GZIP stream."
                )
            }
            // With no input left, inflate reports the end of the stream again if it was reached,
            // and asks for more input if the data was cut short.
            window.clear()
            do {
                try decompressor.inflate(from: &input, to: &window)
            } catch {
                throw truncated()
            }
            guard window.readableBytes == 0 else { throw truncated() }
            return output
        }
    }

    /// The error for a GZIP stream that ends before its final block and trailer.
    private static func truncated() -> VouchKitError {
        VouchKitError.malformedInput(
            "The status list's GZIP data is truncated: it ends before the compressed stream is complete."
        )
    }
}
