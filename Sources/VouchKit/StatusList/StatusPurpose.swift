/// What a set bit in a status list means: the `statusPurpose` of W3C Bitstring Status List v1.0.
///
/// The raw values are the strings the specification uses in `BitstringStatusListCredential`
/// and `BitstringStatusListEntry`.
public enum StatusPurpose: String, Codable, Sendable {
    /// A set bit means the credential is revoked. Revocation is permanent: the bit is never cleared.
    case revocation

    /// A set bit means the credential is suspended. Clearing the bit lifts the suspension.
    case suspension
}
