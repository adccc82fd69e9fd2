import Foundation

/// A Verifiable Presentation (VC Data Model 2.0) as read from the payload of a `vp+jwt`: the
/// holder, the enveloped credentials, and the replay protection (`nonce`, `aud`, `iat`, `exp`).
public struct Presentation: Sendable {
    /// The holder's DID.
    public let holder: String
    /// The `vc+jwt` tokens of the enveloped credentials, in order.
    public let credentials: [String]
    /// The verifier's challenge.
    public let nonce: String?
    /// The intended verifiers.
    public let audience: [String]
    /// Issued at.
    public let issuedAt: Date?
    /// Expires at.
    public let expiresAt: Date?
    /// Problems with the data model found while reading.
    let dataModelProblems: [String]

    static let envelopePrefix = "data:application/vc+jwt,"

    /// Reads a presentation from JSON bytes.
    public init(payload: Data) throws {
        let raw: RawPresentation
        do {
            raw = try JSONDecoder().decode(RawPresentation.self, from: payload)
        } catch {
            throw VouchKitError.malformedInput("the payload is not a VC 2.0 presentation: \(Credential.describe(error))")
        }
        holder = raw.holder?.id ?? ""
        nonce = raw.nonce
        audience = raw.aud?.values ?? []
        issuedAt = raw.iat?.date
        expiresAt = raw.exp?.date
        var problems: [String] = []
        var tokens: [String] = []
        for (index, envelope) in (raw.verifiableCredential?.values ?? []).enumerated() {
            guard envelope.type?.values.contains("EnvelopedVerifiableCredential") == true,
                let id = envelope.id, id.hasPrefix(Self.envelopePrefix)
            else {
                problems.append("verifiableCredential[\(index)] is not an EnvelopedVerifiableCredential with a data:application/vc+jwt id")
                continue
            }
            tokens.append(String(id.dropFirst(Self.envelopePrefix.count)))
        }
        credentials = tokens
        if raw.context?.values.first?.url != VerifiableCredentialContext.v2 {
            problems.append("the first @context must be \(VerifiableCredentialContext.v2)")
        }
        if raw.type?.values.contains("VerifiablePresentation") != true { problems.append("type must include VerifiablePresentation") }
        if holder.isEmpty { problems.append("the presentation has no holder") }
        if raw.vc != nil || raw.vp != nil { problems.append("the payload has a \"vc\" or \"vp\" claim, which VC 2.0 with JOSE forbids") }
        dataModelProblems = problems
    }

    /// Creates a `vp+jwt` presenting `credentials` (compact `vc+jwt` tokens) as `holder`, bound to
    /// the verifier's `nonce` and `audience`, valid for `validFor` seconds.
    public static func create(
        credentials: [String], holderKey: SigningKey, holder: DID? = nil, keyID: String? = nil,
        nonce: String, audience: String, now: Date = Date(), validFor: TimeInterval = 300
    ) async throws -> String {
        let holderDID = holder ?? DID(key: holderKey.publicKey)
        let kid = keyID ?? (holder == nil ? holderDID.didKeyVerificationMethod.description : nil)
        guard let kid else { throw VouchKitError.malformedInput("a holder that is not the key's did:key needs a keyID") }
        let envelopes: [JSONValue] = credentials.map { token in
            [
                "@context": .string(VerifiableCredentialContext.v2),
                "id": .string(envelopePrefix + token.trimmingASCIIWhitespace),
                "type": "EnvelopedVerifiableCredential",
            ]
        }
        let presentation: JSONValue = [
            "@context": [.string(VerifiableCredentialContext.v2)],
            "type": ["VerifiablePresentation"],
            "holder": .string(holderDID.description),
            "verifiableCredential": .array(envelopes),
            "nonce": .string(nonce),
            "aud": .string(audience),
            "iat": .number(now.timeIntervalSince1970.rounded(.down)),
            "exp": .number(now.addingTimeInterval(validFor).timeIntervalSince1970.rounded(.down)),
        ]
        return try await JWS.sign(presentation, type: MediaType.presentation, contentType: "vp", kid: kid, key: holderKey)
    }
}

private struct RawEnvelope: Decodable {
    let id: String?
    let type: OneOrMany<String>?
}

private struct RawPresentation: Decodable {
    let context: OneOrMany<ContextEntry>?
    let type: OneOrMany<String>?
    let holder: NodeReference?
    let verifiableCredential: OneOrMany<RawEnvelope>?
    let nonce: String?
    let aud: OneOrMany<String>?
    let iat: NumericDate?
    let exp: NumericDate?
    let vc: Present?
    let vp: Present?

    enum CodingKeys: String, CodingKey {
        case context = "@context"
        case type, holder, verifiableCredential, nonce, aud, iat, exp, vc, vp
    }
}
