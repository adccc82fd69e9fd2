/// The outcome of checking a well-formed Merkle proof against the root hashes it should lead to.
///
/// A proof that cannot be checked at all (wrong length, impossible sizes) is a
/// ``VouchKitError`` instead; a proof that can be checked but does not match is `.invalid`.
public enum MerkleProofVerdict: Hashable, Sendable {
    /// The proof leads to the expected root hash or hashes.
    case valid

    /// The proof is well formed but does not lead to the expected root hash.
    case invalid(reason: String)

    /// Whether the proof was accepted.
    public var isValid: Bool {
        self == .valid
    }
}
