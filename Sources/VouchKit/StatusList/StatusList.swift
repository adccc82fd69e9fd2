import Foundation

/// A status list a verifier trusts: its bits, its purpose, and the URL of the
/// `BitstringStatusListCredential` it came from (`nil` for a local list file).
public struct StatusList: Sendable, Hashable {
    /// The URL credentials name in `statusListCredential`; `nil` for a list not bound to a URL.
    public let url: String?
    /// What a set bit means.
    public let purpose: StatusPurpose
    /// The bits.
    public let list: BitstringStatusList
    /// When the list credential stops being valid, if it says.
    public let validUntil: Date?

    /// Creates a status list.
    public init(url: String?, purpose: StatusPurpose, list: BitstringStatusList, validUntil: Date? = nil) {
        self.url = url
        self.purpose = purpose
        self.list = list
        self.validUntil = validUntil
    }
}
