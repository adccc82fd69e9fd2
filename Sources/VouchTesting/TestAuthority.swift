import Foundation
import VouchKit

/// An issuer for tests: a did:key issuer with a revocation and a suspension status list.
public struct TestAuthority: Sendable {
    /// The issuer's signing key.
    public let key: SigningKey
    /// The issuer.
    public let issuer: CredentialIssuer
    /// The issuer's DID text.
    public var did: String { issuer.did.description }
    /// Where the revocation list is published.
    public let revocationListURL = "https://vouch.test/status/revocation"
    /// Where the suspension list is published.
    public let suspensionListURL = "https://vouch.test/status/suspension"

    /// A new authority with a fresh key.
    public init(_ type: SigningKey.KeyType = .ed25519) {
        key = SigningKey.generate(type)
        issuer = CredentialIssuer(key: key)
    }

    /// Issues a device identity credential with revocation and suspension entries at `index`.
    public func identityCredential(
        for subject: DID, index: Int = 7, validFrom: Date = Date(), validFor: TimeInterval = 3600
    ) async throws -> String {
        try await issuer.issue(
            types: ["DeviceIdentityCredential"], subject: subject.description, claims: ["zone": "factory-1"],
            validFrom: validFrom, validFor: validFor,
            status: [
                CredentialStatusEntry(listURL: revocationListURL, index: index, purpose: .revocation),
                CredentialStatusEntry(listURL: suspensionListURL, index: index, purpose: .suspension),
            ])
    }

    /// Status lists with the given indices set.
    public func statusLists(revoked: [Int] = [], suspended: [Int] = []) throws -> [StatusList] {
        var revocation = try BitstringStatusList()
        for index in revoked { try revocation.set(index) }
        var suspension = try BitstringStatusList()
        for index in suspended { try suspension.set(index) }
        return [
            StatusList(url: revocationListURL, purpose: .revocation, list: revocation),
            StatusList(url: suspensionListURL, purpose: .suspension, list: suspension),
        ]
    }
}
