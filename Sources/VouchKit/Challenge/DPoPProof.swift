import Crypto
import Foundation

/// A DPoP proof (RFC 9449): a JWS of type `dpop+jwt` that a client signs with its key for each
/// HTTP request, naming the method (`htm`), the URL (`htu`), the time (`iat`), a unique `jti`
/// and, with an access token, the token's hash (`ath`). The public key travels in the header
/// (`jwk`); an access token bound to the key's thumbprint (`cnf.jkt`) is useless without a fresh
/// proof by that key, so a token copied to another host is worth nothing.
public struct DPoPProof: Sendable, Hashable {
    /// The JWS type of a proof.
    public static let mediaType = "dpop+jwt"
    /// The HTTP header that carries it.
    public static let header = "DPoP"

    /// The RFC 7638 thumbprint of the key that signed.
    public let thumbprint: String
    /// The key that signed.
    public let key: PublicKey
    /// The proof's unique identifier.
    public let jti: String
    /// The HTTP method the proof is for.
    public let method: String
    /// The URL the proof is for (no query or fragment).
    public let url: String
    /// When it was made.
    public let issuedAt: Date
    /// The access token hash it carries, if any.
    public let accessTokenHash: String?

    /// Signs a proof for `method` on `url` (its query and fragment are dropped), bound to
    /// `accessToken` when one is sent with the request.
    public static func sign(
        method: String, url: String, accessToken: String? = nil, key: SigningKey, algorithm: JWSAlgorithm? = nil, now: Date = Date()
    ) throws -> String {
        let name = algorithm ?? key.algorithm
        guard key.algorithm.signs(as: name) else {
            throw VouchKitError.unsupported("a \(key.algorithm.rawValue) key cannot sign as \(name.rawValue)")
        }
        let jwk = key.publicKey.jwk
        var jwkMembers: [String: JSONValue] = ["kty": .string(jwk.kty)]
        if let crv = jwk.crv { jwkMembers["crv"] = .string(crv) }
        if let x = jwk.x { jwkMembers["x"] = .string(x) }
        if let y = jwk.y { jwkMembers["y"] = .string(y) }
        let header: JSONValue = ["typ": .string(mediaType), "alg": .string(name.rawValue), "jwk": .object(jwkMembers)]
        var claims: [String: JSONValue] = [
            "jti": .string(Base64URL.encode(Array((0..<16).map { _ in UInt8.random(in: 0...255) }))),
            "htm": .string(method), "htu": .string(Self.target(url)), "iat": .number(now.timeIntervalSince1970.rounded(.down)),
        ]
        if let accessToken { claims["ath"] = .string(Self.hash(accessToken)) }
        let signingInput = Base64URL.encode(header.canonicalJSON) + "." + Base64URL.encode(JSONValue.object(claims).canonicalJSON)
        return signingInput + "." + Base64URL.encode(try key.signature(for: Array(signingInput.utf8)))
    }

    /// The `ath` of an access token: base64url(SHA-256(token)).
    public static func hash(_ accessToken: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Array(accessToken.utf8))))
    }

    /// A URL without its query and fragment, as `htu` names it.
    public static func target(_ url: String) -> String {
        var text = Substring(url)
        if let mark = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<mark] }
        return String(text)
    }

    /// Reads and checks a proof: its type, an accepted algorithm, a public key in the header, the
    /// signature by that key, and the claims (`iat` within `window` seconds of `now`, `htm` equal
    /// to `method`, `ath` equal to the hash of `accessToken` when one is sent, and none when not).
    /// The URL and the `jti`'s single use are the caller's to check: they depend on where the
    /// request arrived and on what the caller remembers.
    public static func verify(
        _ proof: String, method: String, accessToken: String?, now: Date = Date(), window: TimeInterval = 60
    ) -> Result<DPoPProof, VerificationFailure> {
        let jws: CompactJWS
        do {
            jws = try CompactJWS(parsing: proof.trimmingASCIIWhitespace)
        } catch {
            return .failure(VerificationFailure(.format, "the DPoP proof is not a compact JWS: \(error)"))
        }
        guard jws.header.typ == mediaType else {
            return .failure(VerificationFailure(.mediaType, "the DPoP proof's typ is \(jws.header.typ?.prefix(64) ?? "missing"), expected \(mediaType)"))
        }
        guard jws.header.crit == nil else {
            return .failure(VerificationFailure(.signature, "the DPoP proof marks extensions as critical, which are not understood here"))
        }
        guard let jwk = jws.header.jwk, let key = try? PublicKey(jwk: jwk) else {
            return .failure(VerificationFailure(.signature, "the DPoP proof's header needs the public key that signed it (jwk)"))
        }
        guard JWS.verify(jws, key: key) else {
            return .failure(VerificationFailure(.signature, "the DPoP proof is not signed by the key in its header (or its alg does not match it)"))
        }
        let claims: Claims
        do {
            claims = try Claims(json: Array(jws.payload))
        } catch let error as VouchKitError {
            return .failure(VerificationFailure(.format, "the DPoP proof's claims: \(error.reason)"))
        } catch {
            return .failure(VerificationFailure(.format, "the DPoP proof's claims are not JSON"))
        }
        guard ConstantTime.equals(claims.htm, method) else {
            return .failure(VerificationFailure(.audience, "the DPoP proof is for \(claims.htm.prefix(16)), not \(method)"))
        }
        guard abs(claims.iat.date.timeIntervalSince(now)) <= window else {
            return .failure(VerificationFailure(.validity, "the DPoP proof was made at \(RFC3339.format(claims.iat.date)), more than \(Int(window)) s from now"))
        }
        switch (accessToken, claims.ath) {
        case (nil, nil): break
        case (let token?, let ath?) where ConstantTime.equals(ath, hash(token)): break
        case (nil, _?): return .failure(VerificationFailure(.format, "the DPoP proof names an access token (ath), but none was sent"))
        case (_?, _): return .failure(VerificationFailure(.audience, "the DPoP proof is not bound to this access token (ath)"))
        }
        return .success(DPoPProof(
            thumbprint: key.thumbprint, key: key, jti: claims.jti, method: claims.htm, url: claims.htu, issuedAt: claims.iat.date,
            accessTokenHash: claims.ath))
    }

    struct Claims {
        let jti: String
        let htm: String
        let htu: String
        let iat: NumericDate
        let ath: String?

        /// Reads the claims with the one-pass JSON reader; `jti`, `htm`, `htu` and `iat` are required.
        init(json bytes: [UInt8]) throws {
            var scanner = JSONScanner(bytes)
            var jti: String?, htm: String?, htu: String?, iat: NumericDate?, ath: String?
            try scanner.readObject { scanner, key in
                switch key {
                case "jti": try JSONScanner.once(jti != nil, key, in: "the proof"); jti = try scanner.readString()
                case "htm": try JSONScanner.once(htm != nil, key, in: "the proof"); htm = try scanner.readString()
                case "htu": try JSONScanner.once(htu != nil, key, in: "the proof"); htu = try scanner.readString()
                case "iat": try JSONScanner.once(iat != nil, key, in: "the proof"); iat = try scanner.readNumericDate("iat")
                case "ath": try JSONScanner.once(ath != nil, key, in: "the proof"); ath = try scanner.readString()
                default: try scanner.skipValue()
                }
            }
            try scanner.finish()
            guard let jti, let htm, let htu, let iat else { throw VouchKitError.malformedInput("a DPoP proof needs jti, htm, htu and iat") }
            guard (16...256).contains(jti.utf8.count) else { throw VouchKitError.malformedInput("a DPoP proof's jti is 16–256 bytes (UTF-8)") }
            guard htu.utf8.count <= 2048, htm.utf8.count <= 16 else { throw VouchKitError.malformedInput("a DPoP proof's htm or htu is too long") }
            (self.jti, self.htm, self.htu, self.iat, self.ath) = (jti, htm, htu, iat, ath)
        }
    }
}
