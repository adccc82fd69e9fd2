import Foundation

/// Compact JWS signing and verification, on swift-crypto directly (jwt-kit reads what this signs;
/// `JWTKitInteropTests` shows it).
///
/// Verification checks the signature over the token's signing input with swift-crypto directly,
/// the same primitive jwt-kit calls. Going through jwt-kit's `JWTKeyCollection` parsed and
/// decoded every token a second time: measured in `Benchmarks/` it added 0.16 of a raw Ed25519
/// verify to each credential and telemetry check (59 allocations against 3), which kept both
/// below their throughput targets.
public enum JWS {
    /// Signs `payload` (any `Encodable`, encoded as compact JSON with sorted keys) with `key`. The
    /// header carries `alg` from the key, `typ`, optional `cty`, and `kid` (a DID URL).
    ///
    /// Built here rather than through jwt-kit's `JWTKeyCollection`, which made a key collection (an
    /// actor) and a serializer for every token: a tenth of the server's cost per enrollment.
    public static func sign(
        _ payload: some Encodable & Sendable, type: String, contentType: String? = nil, kid: String, key: SigningKey
    ) async throws -> String {
        var header = ["alg": key.algorithm.rawValue, "typ": type, "kid": kid]
        if let contentType { header["cty"] = contentType }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        let signingInput: String
        do {
            // A JSONValue (every credential) is written directly; other payloads go through JSONEncoder.
            let payloadJSON = try (payload as? JSONValue)?.canonicalJSON ?? Array(encoder.encode(payload))
            signingInput = Base64URL.encode(try encoder.encode(header)) + "." + Base64URL.encode(payloadJSON)
        } catch {
            throw VouchKitError.malformedInput("the JWS payload cannot be encoded as JSON: \(error)")
        }
        let signature = try key.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Verifies the signature of `jws` with `key`. The header's `alg` must be the key's algorithm;
    /// `none` and any mismatch are refused before any cryptography runs.
    public static func verify(_ jws: CompactJWS, key: PublicKey) -> Bool {
        guard jws.header.alg == key.algorithm.rawValue else { return false }
        return key.isValidSignature(jws.signature, for: jws.signingInput)
    }
}
