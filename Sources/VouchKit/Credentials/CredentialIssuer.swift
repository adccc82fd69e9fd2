import Foundation

/// Issues `vc+jwt` credentials (VC Data Model 2.0 secured with JOSE): the JWS payload is the
/// credential itself, `kid` is the DID URL of the issuer's key.
public struct CredentialIssuer: Sendable {
    /// The issuer's DID.
    public let did: DID
    /// The DID URL placed in `kid`.
    public let keyID: String
    private let key: SigningKey

    /// An issuer identified by the did:key of `key`.
    public init(key: SigningKey) {
        let did = DID(key: key.publicKey)
        self.did = did
        self.keyID = did.didKeyVerificationMethod.description
        self.key = key
    }

    /// An issuer with another DID (such as did:web) whose document lists `key` under `keyID`.
    public init(key: SigningKey, did: DID, keyID: String) {
        self.did = did
        self.keyID = keyID
        self.key = key
    }

    /// Issues a credential about `subject`.
    /// - Parameters:
    ///   - types: extra types after `VerifiableCredential`, such as `DeviceIdentityCredential`.
    ///   - subject: the subject's DID (`credentialSubject.id`).
    ///   - claims: further members of `credentialSubject`.
    ///   - validFrom: start of validity (defaults to now).
    ///   - validFor: how long the credential is valid; `nil` for no `validUntil`.
    ///   - status: status list entries.
    ///   - id: the credential's id; a `urn:uuid:` is generated when `nil`.
    ///   - contexts: JSON-LD contexts after the VC 2.0 one.
    ///   - relatedResources: resources the credential pins by digest (`relatedResource`), such as its contexts.
    public func issue(
        types: [String], subject: String, claims: [String: JSONValue] = [:], validFrom: Date = Date(),
        validFor: TimeInterval? = nil, status: [CredentialStatusEntry] = [], id: String? = nil,
        contexts: [String] = [], relatedResources: [JSONValue] = []
    ) async throws -> String {
        var subjectObject = claims
        subjectObject["id"] = .string(subject)
        var credential: [String: JSONValue] = [
            "@context": .array(([VerifiableCredentialContext.v2] + contexts).map(JSONValue.string)),
            "id": .string(id ?? "urn:uuid:\(UUID().uuidString.lowercased())"),
            "type": .array((["VerifiableCredential"] + types.filter { $0 != "VerifiableCredential" }).map(JSONValue.string)),
            "issuer": .string(did.description),
            "validFrom": .string(RFC3339.format(validFrom)),
            "credentialSubject": .object(subjectObject),
        ]
        if let validFor {
            credential["validUntil"] = .string(RFC3339.format(validFrom.addingTimeInterval(validFor)))
        }
        if !relatedResources.isEmpty {
            credential["relatedResource"] = .array(relatedResources)
        }
        if !status.isEmpty {
            let entries = status.map(\.jsonValue)
            credential["credentialStatus"] = entries.count == 1 ? entries[0] : .array(entries)
        }
        return try await sign(credential: .object(credential))
    }

    /// Signs a credential document as given (it must name this issuer).
    public func sign(credential: JSONValue) async throws -> String {
        guard credential["issuer"]?.stringValue == did.description || credential["issuer"]?["id"]?.stringValue == did.description else {
            throw VouchKitError.malformedInput("the credential's issuer must be \(did)")
        }
        return try await JWS.sign(credential, type: MediaType.credential, contentType: "vc", kid: keyID, key: key)
    }
}

/// JOSE media types VouchKit produces and expects.
enum MediaType {
    static let credential = "vc+jwt"
    static let presentation = "vp+jwt"
    static let telemetry = "vouch-telemetry+jwt"
    static let challengeResponse = "vouch-challenge+jwt"
    static let trustBundle = "vouch-trust-bundle+jwt"
}
