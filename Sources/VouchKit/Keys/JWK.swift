import Crypto
import Foundation

/// A JSON Web Key (RFC 7517) for the key types VouchKit handles: OKP Ed25519 (RFC 8037) and EC P-256,
/// P-384 and P-521. RSA members are kept only so thumbprints of third-party keys can be computed.
public struct JWK: Codable, Sendable, Hashable {
    /// Key type: `OKP`, `EC` or `RSA`.
    public var kty: String
    /// Curve: `Ed25519`, `P-256`, `P-384`, `P-521`.
    public var crv: String?
    /// Public key (OKP) or x coordinate (EC), base64url.
    public var x: String?
    /// y coordinate (EC), base64url.
    public var y: String?
    /// Private key, base64url. Present only in private JWKs.
    public var d: String?
    /// RSA modulus (thumbprints only).
    public var n: String?
    /// RSA exponent (thumbprints only).
    public var e: String?
    /// Key identifier.
    public var kid: String?
    /// Intended algorithm.
    public var alg: String?
    /// Intended use (`sig`).
    public var use: String?

    /// Creates a JWK from its members.
    public init(
        kty: String, crv: String? = nil, x: String? = nil, y: String? = nil, d: String? = nil,
        n: String? = nil, e: String? = nil, kid: String? = nil, alg: String? = nil, use: String? = nil
    ) {
        self.kty = kty
        self.crv = crv
        self.x = x
        self.y = y
        self.d = d
        self.n = n
        self.e = e
        self.kid = kid
        self.alg = alg
        self.use = use
    }

    /// Parses a JWK from JSON.
    public init(json: some DataProtocol) throws {
        do {
            self = try JSONDecoder().decode(JWK.self, from: Data(json))
        } catch {
            throw VouchKitError.malformedInput("not a JSON Web Key: \(error)")
        }
    }

    /// Whether this JWK carries private key material.
    public var isPrivate: Bool { d != nil }

    /// This key without its private part.
    public var publicJWK: JWK {
        var copy = self
        copy.d = nil
        return copy
    }

    /// Serialises as JSON with sorted keys.
    public func jsonData(pretty: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // A JWK holds only strings, so encoding cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }
}

extension JWK: CustomStringConvertible {
    /// A description that never shows the private key.
    public var description: String {
        "JWK(kty: \(kty), crv: \(crv ?? "-"), kid: \(kid ?? "-")\(d == nil ? "" : ", private"))"
    }
}
