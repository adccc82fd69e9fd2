import Foundation
import JWTKit

/// Compact JWS signing and verification, through jwt-kit.
public enum JWS {
    /// Signs `payload` (any `Encodable`, encoded as compact JSON) with `key`. The header carries
    /// `alg` from the key, `typ`, optional `cty`, and `kid` (a DID URL).
    public static func sign(
        _ payload: some Encodable & Sendable, type: String, contentType: String? = nil, kid: String, key: SigningKey
    ) async throws -> String {
        let keys = JWTKeyCollection()
        try await key.register(in: keys, kid: kid)
        var header = JWTHeader()
        header.alg = key.algorithm.rawValue
        header.typ = type
        header.kid = kid
        if let contentType { header.cty = contentType }
        do {
            return try await keys.sign(EncodablePayload(value: payload), header: header)
        } catch {
            throw VouchKitError.cryptographicFailure("signing the JWS failed: \(error)")
        }
    }

    /// Verifies the signature of `jws` with `key`. The header's `alg` must be the key's algorithm;
    /// `none` and any mismatch are refused before any cryptography runs.
    public static func verify(_ jws: CompactJWS, key: PublicKey) async -> Bool {
        guard jws.header.alg == key.algorithm.rawValue else { return false }
        let keys = JWTKeyCollection()
        switch key.backing {
        case .ed25519(let backing):
            await keys.add(eddsa: EdDSA.PublicKey(backing: backing))
        case .p256(let backing):
            guard let jwtKey = try? ES256PublicKey(backing: backing) else { return false }
            await keys.add(ecdsa: jwtKey)
        case .p384(let backing):
            guard let jwtKey = try? ES384PublicKey(backing: backing) else { return false }
            await keys.add(ecdsa: jwtKey)
        case .p521(let backing):
            guard let jwtKey = try? ES512PublicKey(backing: backing) else { return false }
            await keys.add(ecdsa: jwtKey)
        }
        do {
            _ = try await keys.verify(jws.token, as: SignatureOnly.self)
            return true
        } catch {
            return false
        }
    }
}

/// Wraps any `Encodable` as a jwt-kit payload.
private struct EncodablePayload<Value: Encodable & Sendable>: JWTPayload {
    let value: Value

    func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
    }

    init(value: Value) {
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "encode-only payload"))
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A payload that reads nothing: the claims are checked by VouchKit's policies, jwt-kit checks the signature.
private struct SignatureOnly: JWTPayload {
    init() {}
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
