/// The protected header of a JWS (RFC 7515 §4), with the members VouchKit reads.
public struct JOSEHeader: Codable, Sendable, Hashable {
    /// The signature algorithm, such as `EdDSA` or `ES256`.
    public var alg: String
    /// The media type of the whole JWS, such as `vc+jwt`.
    public var typ: String?
    /// The media type of the payload, such as `vc`.
    public var cty: String?
    /// The key identifier; in VouchKit, a DID URL naming a verification method.
    public var kid: String?
    /// Extensions the verifier must understand (RFC 7515 §4.1.11). VouchKit understands none.
    public var crit: [String]?
    /// The public key that signed, carried in the header (RFC 7515 §4.1.3), as DPoP proofs do.
    public var jwk: JWK?

    /// Creates a header.
    public init(alg: String, typ: String? = nil, cty: String? = nil, kid: String? = nil, crit: [String]? = nil, jwk: JWK? = nil) {
        self.alg = alg
        self.typ = typ
        self.cty = cty
        self.kid = kid
        self.crit = crit
        self.jwk = jwk
    }
}
