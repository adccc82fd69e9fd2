/// Why a signed note or checkpoint was not accepted: every failed check, as a sentence.
///
/// It is returned in a `Result`, not thrown, by ``SignedNote/verify(using:)`` and
/// ``Checkpoint/verify(signedNote:verifiers:)``; call `get()` on the result to throw it instead.
public struct NoteRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// The reasons, one sentence each.
    public let reasons: [String]

    /// Creates a rejection from its reasons.
    public init(reasons: [String]) {
        self.reasons = reasons
    }

    /// The reasons joined by semicolons.
    public var description: String {
        reasons.joined(separator: "; ")
    }
}
