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
    /// header carries `alg` from the key (or `algorithm`, another name for the key's algorithm, such
    /// as the fully-specified `Ed25519` of RFC 9864), `typ`, optional `cty`, and `kid` (a DID URL).
    ///
    /// Built here rather than through jwt-kit's `JWTKeyCollection`, which made a key collection (an
    /// actor) and a serializer for every token: a tenth of the server's cost per enrollment.
    public static func sign(
        _ payload: some Encodable & Sendable, type: String, contentType: String? = nil, kid: String, key: SigningKey,
        algorithm: JWSAlgorithm? = nil
    ) async throws -> String {
        let name = algorithm ?? key.algorithm
        guard key.algorithm.signs(as: name) else {
            throw VouchKitError.unsupported("a \(key.algorithm.rawValue) key cannot sign as \(name.rawValue)")
        }
        var header: [String: JSONValue] = ["alg": .string(name.rawValue), "typ": .string(type), "kid": .string(kid)]
        if let contentType { header["cty"] = .string(contentType) }
        let signingInput: String
        do {
            // The header and a JSONValue payload (every credential) are written directly, sorted
            // keys as JSONEncoder writes them; other payloads go through JSONEncoder.
            let payloadJSON: [UInt8]
            if let value = payload as? JSONValue {
                payloadJSON = value.canonicalJSON
            } else {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .secondsSince1970
                payloadJSON = Array(try encoder.encode(payload))
            }
            signingInput = Base64URL.encode(JSONValue.object(header).canonicalJSON) + "." + Base64URL.encode(payloadJSON)
        } catch {
            throw VouchKitError.malformedInput("the JWS payload cannot be encoded as JSON: \(error)")
        }
        let signature = try key.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Verifies the signature of `jws` with `key`. The header's `alg` must be the key's algorithm;
    /// `none` and any mismatch are refused before any cryptography runs.
    public static func verify(_ jws: CompactJWS, key: PublicKey) -> Bool {
        guard let named = JWSAlgorithm(rawValue: jws.header.alg), named.verifies(with: key.algorithm) else { return false }
        return key.isValidSignature(jws.signature, for: jws.signingInput)
    }
}
