import Foundation
import JWTKit

/// Compact JWS signing (through jwt-kit) and verification.
///
/// Verification checks the signature over the token's signing input with swift-crypto directly,
/// the same primitive jwt-kit calls. Going through jwt-kit's `JWTKeyCollection` parsed and
/// decoded every token a second time: measured in `Benchmarks/` it added 0.16 of a raw Ed25519
/// verify to each credential and telemetry check (59 allocations against 3), which kept both
/// below their throughput targets.
public enum JWS {
    /// Signs `payload` (any `Encodable`, encoded as compact JSON with sorted keys) with `key`. The
    /// header carries `alg` from the key, `typ`, optional `cty`, and `kid` (a DID URL).
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
    public static func verify(_ jws: CompactJWS, key: PublicKey) -> Bool {
        guard jws.header.alg == key.algorithm.rawValue else { return false }
        return key.isValidSignature(jws.signature, for: jws.signingInput)
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
