import Foundation

/// `BitstringStatusListCredential` (W3C Bitstring Status List v1.0 §2.2): a credential whose subject
/// is a status list, issued as `vc+jwt` like any other credential.
public enum StatusListCredential {
    /// Issues a status list credential published at `url`.
    public static func issue(
        _ list: BitstringStatusList, purpose: StatusPurpose, url: String, issuer: CredentialIssuer,
        validFrom: Date = Date(), validFor: TimeInterval? = nil
    ) async throws -> String {
        try await issuer.issue(
            types: ["BitstringStatusListCredential"],
            subject: url + "#list",
            claims: [
                "type": "BitstringStatusList",
                "statusPurpose": .string(purpose.rawValue),
                "encodedList": .string(list.encodedList),
            ],
            validFrom: validFrom,
            validFor: validFor,
            id: url
        )
    }

    /// Verifies a status list credential (signature, media type, validity, trusted issuer) and
    /// returns its list. Throws with every reason when it does not verify.
    public static func verify(_ token: String, trust: TrustBundle? = nil, trustedIssuers: Set<String>? = nil, now: Date = Date()) async throws -> StatusList {
        let verifier = CredentialVerifier(trust: trust) {
            MediaTypePolicy()
            SignaturePolicy()
            ValidityPolicy(now: now)
            TrustedIssuerPolicy(issuers: trustedIssuers)
        }
        switch await verifier.verify(token) {
        case .invalid(let failures):
            throw VouchKitError.malformedInput("status list credential rejected: \(failures.map(\.description).joined(separator: "; "))")
        case .valid(let verified):
            return try statusList(from: verified.credential)
        }
    }

    /// Reads the list out of a verified credential.
    static func statusList(from credential: Credential) throws -> StatusList {
        guard credential.types.contains("BitstringStatusListCredential") else {
            throw VouchKitError.malformedInput("the credential is not a BitstringStatusListCredential")
        }
        let json = credential.json
        let subjects = json["credentialSubject"]?.arrayValue ?? []
        guard subjects.count == 1, let subject = subjects.first, subject["type"]?.stringValue == "BitstringStatusList" else {
            throw VouchKitError.malformedInput("the credentialSubject must be one BitstringStatusList")
        }
        guard let purposeText = subject["statusPurpose"]?.stringValue, let purpose = StatusPurpose(rawValue: purposeText) else {
            throw VouchKitError.malformedInput("the status list's statusPurpose must be revocation or suspension")
        }
        guard let encoded = subject["encodedList"]?.stringValue else {
            throw VouchKitError.malformedInput("the status list has no encodedList")
        }
        let list = try BitstringStatusList(encodedList: encoded)
        return StatusList(url: credential.id, purpose: purpose, list: list, validUntil: credential.validUntil.flatMap(RFC3339.parse))
    }
}
