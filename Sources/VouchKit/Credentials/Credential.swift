import Foundation

/// A Verifiable Credential (W3C VC Data Model 2.0) as read from the payload of a `vc+jwt`: the
/// members VouchKit checks, plus the whole payload for everything else.
public struct Credential: Sendable {
    /// `@context` URLs (inline contexts are omitted).
    public let contexts: [String]
    /// The credential's `id`, if any.
    public let id: String?
    /// `type` values; always includes `VerifiableCredential` in a valid credential.
    public let types: [String]
    /// The issuer's id (`issuer` or `issuer.id`).
    public let issuer: String
    /// The `id` of each `credentialSubject` (absent ids are skipped).
    public let subjectIDs: [String]
    /// `validFrom` as written.
    public let validFrom: String?
    /// `validUntil` as written.
    public let validUntil: String?
    /// `credentialStatus` entries.
    public let status: [CredentialStatusEntry]
    /// The payload bytes.
    public let payload: Data
    /// Problems with the data model found while reading (such as `vc`/`vp` claims); reported by the verifier.
    let dataModelProblems: [String]

    /// The whole credential as JSON.
    public var json: JSONValue {
        (try? JSONValue(parsing: payload)) ?? .null
    }

    /// Reads a credential from JSON bytes.
    public init(payload: Data) throws {
        let raw: RawCredential
        do {
            raw = try JSONDecoder().decode(RawCredential.self, from: payload)
        } catch {
            throw VouchKitError.malformedInput("the payload is not a VC 2.0 credential: \(Self.describe(error))")
        }
        contexts = raw.context?.values.compactMap(\.url) ?? []
        id = raw.id
        types = raw.type?.values ?? []
        issuer = raw.issuer?.id ?? ""
        subjectIDs = raw.credentialSubject?.values.compactMap(\.id) ?? []
        validFrom = raw.validFrom
        validUntil = raw.validUntil
        status = raw.credentialStatus?.values ?? []
        self.payload = payload
        var problems: [String] = []
        if raw.vc != nil { problems.append("the payload has a \"vc\" claim, which VC 2.0 with JOSE forbids") }
        if raw.vp != nil { problems.append("the payload has a \"vp\" claim, which VC 2.0 with JOSE forbids") }
        if contexts.first != VerifiableCredentialContext.v2 {
            problems.append("the first @context must be \(VerifiableCredentialContext.v2)")
        }
        if !types.contains("VerifiableCredential") { problems.append("type must include VerifiableCredential") }
        if issuer.isEmpty { problems.append("the credential has no issuer") }
        if raw.credentialSubject == nil { problems.append("the credential has no credentialSubject") }
        if let iss = raw.iss, iss != issuer { problems.append("JWT \"iss\" (\(iss)) differs from issuer (\(issuer))") }
        dataModelProblems = problems
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.typeMismatch(_, let context) = error {
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        }
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "\(error)"
    }
}

/// The VC 2.0 base context.
enum VerifiableCredentialContext {
    static let v2 = "https://www.w3.org/ns/credentials/v2"
}

/// What the decoder reads; everything else in the payload is skipped at no cost.
private struct RawCredential: Decodable {
    let context: OneOrMany<ContextEntry>?
    let id: String?
    let type: OneOrMany<String>?
    let issuer: NodeReference?
    let credentialSubject: OneOrMany<NodeReference>?
    let validFrom: String?
    let validUntil: String?
    let credentialStatus: OneOrMany<CredentialStatusEntry>?
    let iss: String?
    let vc: Present?
    let vp: Present?

    enum CodingKeys: String, CodingKey {
        case context = "@context"
        case id, type, issuer, credentialSubject, validFrom, validUntil, credentialStatus, iss, vc, vp
    }
}
