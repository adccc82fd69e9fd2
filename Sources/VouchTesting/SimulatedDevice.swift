import Foundation
import VouchKit

/// A device for tests: its own key that never leaves it, its did:key, and a sequence counter for
/// telemetry. It signs what a real device signs.
public actor SimulatedDevice {
    /// The device's DID.
    public nonisolated let did: DID
    /// The device's public key.
    public nonisolated let publicKey: PublicKey
    private let key: SigningKey
    private var sequence: UInt64 = 0

    /// A new device with a fresh key of `type`.
    public init(_ type: SigningKey.KeyType = .ed25519) {
        key = SigningKey.generate(type)
        publicKey = key.publicKey
        did = DID(key: key.publicKey)
    }

    /// Signs a telemetry message with the next sequence number.
    public func telemetry(topic: String, payload: Data, at time: Date = Date()) async throws -> String {
        sequence += 1
        return try await TelemetryEnvelope(device: did, sequence: sequence, time: time, topic: topic, payload: payload).signed(with: key)
    }

    /// Answers a verifier's challenge.
    public func answer(_ challenge: Challenge, at time: Date = Date()) async throws -> String {
        try await ChallengeResponse.sign(challenge, key: key, now: time)
    }

    /// Presents credentials to a verifier.
    public func present(_ credentials: [String], nonce: String, audience: String, at time: Date = Date()) async throws -> String {
        try await Presentation.create(credentials: credentials, holderKey: key, nonce: nonce, audience: audience, now: time)
    }
}
