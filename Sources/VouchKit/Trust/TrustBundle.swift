import Foundation
import SwiftASN1
import X509

/// Everything an offline verifier needs, signed by the authority that publishes it: trusted
/// issuers and their keys, CA certificates, status lists, the latest log checkpoint, and an expiry.
public struct TrustBundle: Sendable {
    /// The content of a bundle, as signed.
    public struct Contents: Codable, Sendable, Hashable {
        /// The DID of the authority that signs the bundle.
        public var authority: String
        /// When it was made.
        public var issuedAt: Date
        /// After this instant the bundle must not be used.
        public var expiresAt: Date
        /// Issuers whose credentials are trusted.
        public var trustedIssuers: [TrustedIssuer]
        /// PEM CA certificates for X.509 identities.
        public var caCertificates: [String]
        /// Status list credentials (`vc+jwt`), verified when the bundle is opened.
        public var statusListCredentials: [String]
        /// URLs where fresher status list credentials may be fetched by online verifiers.
        public var statusListURLs: [String]
        /// The latest signed log checkpoint (C2SP signed note), if any.
        public var checkpoint: String?
        /// The log's note verifier key (`name+keyid+base64`), if any.
        public var logKey: String?
        /// The zones and flow rules of the authority's policy (``ZoneRules`` JSON), if any.
        public var zones: JSONValue?

        /// Creates bundle contents.
        public init(
            authority: String, issuedAt: Date = Date(), expiresAt: Date, trustedIssuers: [TrustedIssuer],
            caCertificates: [String] = [], statusListCredentials: [String] = [], statusListURLs: [String] = [],
            checkpoint: String? = nil, logKey: String? = nil, zones: ZoneRules? = nil
        ) {
            self.zones = zones?.json
            self.authority = authority
            self.issuedAt = issuedAt
            self.expiresAt = expiresAt
            self.trustedIssuers = trustedIssuers
            self.caCertificates = caCertificates
            self.statusListCredentials = statusListCredentials
            self.statusListURLs = statusListURLs
            self.checkpoint = checkpoint
            self.logKey = logKey
        }

        private enum CodingKeys: String, CodingKey {
            case authority, issuedAt, expiresAt, trustedIssuers, caCertificates, statusListCredentials, statusListURLs, checkpoint, logKey, zones
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            authority = try container.decode(String.self, forKey: .authority)
            func date(_ key: CodingKeys) throws -> Date {
                let text = try container.decode(String.self, forKey: key)
                guard let date = RFC3339.parse(text) else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: RFC3339.refusal(text))
                }
                return date
            }
            issuedAt = try date(.issuedAt)
            expiresAt = try date(.expiresAt)
            trustedIssuers = try container.decodeIfPresent([TrustedIssuer].self, forKey: .trustedIssuers) ?? []
            caCertificates = try container.decodeIfPresent([String].self, forKey: .caCertificates) ?? []
            statusListCredentials = try container.decodeIfPresent([String].self, forKey: .statusListCredentials) ?? []
            statusListURLs = try container.decodeIfPresent([String].self, forKey: .statusListURLs) ?? []
            checkpoint = try container.decodeIfPresent(String.self, forKey: .checkpoint)
            logKey = try container.decodeIfPresent(String.self, forKey: .logKey)
            zones = try container.decodeIfPresent(JSONValue.self, forKey: .zones)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(authority, forKey: .authority)
            try container.encode(RFC3339.format(issuedAt), forKey: .issuedAt)
            try container.encode(RFC3339.format(expiresAt), forKey: .expiresAt)
            try container.encode(trustedIssuers, forKey: .trustedIssuers)
            try container.encode(caCertificates, forKey: .caCertificates)
            try container.encode(statusListCredentials, forKey: .statusListCredentials)
            try container.encode(statusListURLs, forKey: .statusListURLs)
            try container.encodeIfPresent(checkpoint, forKey: .checkpoint)
            try container.encodeIfPresent(logKey, forKey: .logKey)
            try container.encodeIfPresent(zones, forKey: .zones)
        }
    }

    /// The signed contents.
    public let contents: Contents
    /// Issuers whose credentials are trusted.
    public var trustedIssuers: [TrustedIssuer] { contents.trustedIssuers }
    /// Status lists from the bundle's status list credentials, each verified against the bundle's issuers.
    public private(set) var statusLists: [StatusList]
    /// The CA certificates.
    public let caCertificates: [Certificate]
    /// The latest log checkpoint, its signature verified with the bundle's log key.
    public let checkpoint: Checkpoint?
    /// The authority's zones and flow rules, for offline authorization decisions.
    public let zoneRules: ZoneRules?
    private let issuerKeys: [String: [String: PublicKey]]

    /// Builds a bundle from contents the caller already trusts (for instance, ones it made itself).
    /// Status list credentials are verified against the bundle's own issuers; one that fails is an error.
    public init(trusting contents: Contents, now: Date = Date()) async throws {
        var keys: [String: [String: PublicKey]] = [:]
        for issuer in contents.trustedIssuers {
            for jwk in issuer.keys {
                guard let kid = jwk.kid else {
                    throw VouchKitError.malformedInput("a key of trusted issuer \(issuer.id) has no kid")
                }
                keys[issuer.id, default: [:]][kid] = try PublicKey(jwk: jwk)
            }
        }
        caCertificates = try contents.caCertificates.map { pem in
            do { return try Certificate(pemEncoded: pem) } catch {
                throw VouchKitError.malformedInput("a CA certificate in the bundle is not PEM X.509: \(error)")
            }
        }
        if let checkpoint = contents.checkpoint {
            guard let logKey = contents.logKey else {
                throw VouchKitError.malformedInput("the bundle has a checkpoint but no logKey to verify it")
            }
            let verifier = try NoteVerifier(verifierKey: logKey)
            switch try Checkpoint.verify(signedNote: checkpoint, verifiers: [verifier]) {
            case .success(let verified): self.checkpoint = verified
            case .failure(let rejection): throw VouchKitError.malformedInput("the bundle's checkpoint does not verify: \(rejection)")
            }
        } else {
            self.checkpoint = nil
        }
        do {
            self.zoneRules = try contents.zones.map { value throws(AuthorizationError) in try ZoneRules(json: value) }
        } catch {
            throw VouchKitError.malformedInput("the bundle's zones are not usable: \(error.reason)")
        }
        self.contents = contents
        self.issuerKeys = keys
        self.statusLists = []
        let partial = self
        var lists: [StatusList] = []
        for token in contents.statusListCredentials {
            lists.append(try await StatusListCredential.verify(token, trust: partial, now: now))
        }
        self.statusLists = lists
    }

    /// The key a trusted issuer uses under `kid`.
    func key(issuer: String, kid: String) -> PublicKey? {
        guard let keys = issuerKeys[issuer] else { return nil }
        if let key = keys[kid] { return key }
        if let fragment = try? DIDURL(kid).fragment { return keys[fragment] }
        return nil
    }

    /// Signs the contents with the authority's key, as a JWS of type `vouch-trust-bundle+jwt`.
    public static func sign(_ contents: Contents, key: SigningKey) async throws -> String {
        let did = DID(key: key.publicKey)
        guard contents.authority == did.description else {
            throw VouchKitError.malformedInput("the bundle's authority must be \(did), the DID of the signing key")
        }
        return try await JWS.sign(contents, type: MediaType.trustBundle, kid: did.didKeyVerificationMethod.description, key: key)
    }

    /// Opens a signed bundle: the signature must be by `authority` (a did:key DID), and the bundle
    /// must not be expired.
    public init(verifying token: String, authority: DID, now: Date = Date()) async throws {
        let jws = try CompactJWS(parsing: token.trimmingASCIIWhitespace)
        guard jws.header.typ == MediaType.trustBundle else {
            throw VouchKitError.malformedInput("not a trust bundle: typ is \(jws.header.typ ?? "missing"), expected \(MediaType.trustBundle)")
        }
        let contents: Contents = try jws.decodePayload()
        guard contents.authority == authority.description else {
            throw VouchKitError.malformedInput("the bundle is from \(contents.authority), not \(authority)")
        }
        let environment = VerificationEnvironment()
        let result = await SignaturePolicy().check(jws, controller: authority.description, relationship: .assertionMethod, environment: environment)
        if case .failsToMeetPolicy(let failures) = result {
            throw VouchKitError.malformedInput("the trust bundle's signature is not valid: \(failures.map(\.reason).joined(separator: "; "))")
        }
        guard contents.expiresAt > now else {
            throw VouchKitError.malformedInput("the trust bundle expired at \(RFC3339.format(contents.expiresAt))")
        }
        try await self.init(trusting: contents, now: now)
    }
}
