import Crypto
import Foundation

/// A SHA-256 hash in an RFC 6962 / RFC 9162 Merkle tree: a leaf hash, an interior node or a root.
///
/// The value is exactly 32 bytes, stored inline, so hashing and proof checking do not allocate
/// arrays. Leaves and interior nodes are domain-separated as RFC 6962 §2.1 prescribes:
/// a leaf is `SHA-256(0x00 || data)` and a node is `SHA-256(0x01 || left || right)`.
public struct MerkleHash: Sendable {
    /// The number of bytes in a hash.
    public static let byteCount = 32

    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Creates a hash from exactly 32 bytes.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` when `bytes` is not 32 bytes long.
    public init(bytes: some Collection<UInt8>) throws(VouchKitError) {
        guard bytes.count == Self.byteCount else {
            throw .malformedInput("a Merkle tree hash is \(Self.byteCount) bytes, not \(bytes.count)")
        }
        Swift.withUnsafeMutableBytes(of: &storage) { target in
            _ = target.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    /// Creates a hash from its padded standard base64 form (RFC 4648 §4), as checkpoints carry it.
    ///
    /// - Throws: ``VouchKitError/malformedInput(_:)`` for text that is not canonical base64 of 32 bytes.
    public init(base64Encoded text: some StringProtocol) throws(VouchKitError) {
        guard let bytes = NoteBase64.decode(text) else {
            throw .malformedInput("a Merkle tree hash must be standard base64 with padding")
        }
        try self.init(bytes: bytes)
    }

    private init(digest: SHA256.Digest) {
        Swift.withUnsafeMutableBytes(of: &storage) { target in
            digest.withUnsafeBytes { target.copyMemory(from: $0) }
        }
    }

    /// The 32 bytes of the hash.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// The hash in padded standard base64 (RFC 4648 §4), as checkpoints carry it.
    public var base64EncodedString: String {
        withUnsafeBytes { NoteBase64.encode($0) }
    }

    /// Calls `body` with the 32 bytes of the hash, without copying them.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var copy = storage
        return try Swift.withUnsafeBytes(of: &copy) { (raw) throws(Failure) -> Result in try body(raw) }
    }

    /// The hash of a leaf entry: `SHA-256(0x00 || data)`.
    public static func leafHash(_ data: some DataProtocol) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: data)
        return MerkleHash(digest: hasher.finalize())
    }

    /// The hash of an interior node: `SHA-256(0x01 || left || right)`.
    public static func nodeHash(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        // One contiguous 65-byte stack buffer, hashed in a single update.
        withUnsafeTemporaryAllocation(byteCount: 1 + 2 * byteCount, alignment: 8) { buffer in
            buffer[0] = 0x01
            left.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[1..<33]).copyMemory(from: $0) }
            right.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[33..<65]).copyMemory(from: $0) }
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
            return MerkleHash(digest: hasher.finalize())
        }
    }

    /// The root of the empty tree: `SHA-256("")`.
    public static let emptyTreeRoot = MerkleHash(digest: SHA256.hash(data: [UInt8]()))

    /// The Merkle Tree Hash (RFC 6962 §2.1) of a list of leaves, given by their leaf hashes.
    ///
    /// The list is split at the largest power of two smaller than its length, recursively;
    /// an empty list has ``emptyTreeRoot``. This computes the same value bottom-up in one pass.
    public static func root(ofLeafHashes leafHashes: some Sequence<MerkleHash>) -> MerkleHash {
        // Perfect subtrees still waiting for a sibling, largest first, like the bits of a counter.
        var pending: [(hash: MerkleHash, size: UInt64)] = []
        pending.reserveCapacity(64)
        for leaf in leafHashes {
            var entry = (hash: leaf, size: UInt64(1))
            while let last = pending.last, last.size == entry.size {
                pending.removeLast()
                entry = (nodeHash(last.hash, entry.hash), last.size * 2)
            }
            pending.append(entry)
        }
        guard var root = pending.popLast()?.hash else { return emptyTreeRoot }
        while let left = pending.popLast() {
            root = nodeHash(left.hash, root)
        }
        return root
    }
}

extension MerkleHash: Equatable {
    /// Whether two hashes have the same 32 bytes.
    public static func == (lhs: MerkleHash, rhs: MerkleHash) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1
            && lhs.storage.2 == rhs.storage.2 && lhs.storage.3 == rhs.storage.3
    }
}

extension MerkleHash: Hashable {
    /// Feeds the 32 bytes of the hash to `hasher`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }
}

extension MerkleHash: CustomStringConvertible {
    /// The hash as 64 lowercase hexadecimal digits.
    public var description: String {
        withUnsafeBytes { Hex.encode($0) }
    }
}
