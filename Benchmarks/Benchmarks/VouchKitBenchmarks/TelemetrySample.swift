import Crypto
import VouchKit

/// One signed telemetry envelope and its device's key, for taking the telemetry path apart.
struct TelemetrySample: Sendable {
    /// The `vouch-telemetry+jwt`.
    let token: String
    /// The token, parsed.
    let jws: CompactJWS
    /// The device's key as VouchKit holds it.
    let key: PublicKey
    /// The device's key as swift-crypto holds it.
    let cryptoKey: Curve25519.Signing.PublicKey
    /// The bytes the signature covers.
    let signingInput: [UInt8]

    init() async throws {
        let token = try await TelemetryFeed(devices: 1, messages: 1).sample
        let jws = try CompactJWS(parsing: token)
        let key = try DIDURL(jws.header.kid ?? "").did.didKeyPublicKey()
        self.token = token
        self.jws = jws
        self.key = key
        self.cryptoKey = try Curve25519.Signing.PublicKey(rawRepresentation: key.rawRepresentation)
        self.signingInput = Array(jws.signingInput)
    }
}
