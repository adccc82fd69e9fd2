import Foundation
import SwiftASN1
import Synchronization
import X509

/// A device's side of Vouch: its own key, which never leaves it, its did:key, and the sequence its
/// signed messages are numbered by. It signs what a real device signs: the proof of possession and
/// the CSR of enrollment, device proofs, telemetry and firmware measurements, answers
/// to challenges and presentations. The simulator's machines, the tests' devices and the CLI's
/// device agent are all one of these (VouchAPI adds the requests that carry what it signs).
public final class DeviceAgent: Sendable {
    /// The device key.
    public let key: SigningKey
    /// The device's DID (did:key of `key`).
    public let did: DID
    private let sequence: Mutex<UInt64>

    /// A device with `key` (a fresh Ed25519 key by default) whose last signed message was number
    /// `sequence`.
    public init(key: SigningKey = .generate(.ed25519), sequence: UInt64 = 0) {
        self.key = key
        did = DID(key: key.publicKey)
        self.sequence = Mutex(sequence)
    }

    /// A device with a fresh key of `type`.
    public convenience init(_ type: SigningKey.KeyType) {
        self.init(key: .generate(type))
    }

    public var publicKey: PublicKey { key.publicKey }

    /// The next message number: every envelope the device signs has its own.
    public func nextSequence() -> UInt64 {
        sequence.withLock { last in
            last += 1
            return last
        }
    }

    /// The PKCS#10 request of the device key, PEM, its subject the device's DID.
    public func certificateSigningRequestPEM() throws -> String {
        try key.certificateSigningRequest(commonName: did.description).serializeAsPEM().pemString
    }

    /// The proof of possession of enrollment: the server's `nonce` and the `group`, signed.
    public func possessionProof(nonce: String, group: String) async throws -> String {
        try await PossessionProof(nonce: nonce, group: group).sign(with: key)
    }

    /// A `vouch-device+jwt` over the server's `nonce`, for `purpose`.
    public func deviceProof(nonce: String, deviceId: String, purpose: DeviceProof.Purpose = .authenticate) async throws -> String {
        try await DeviceProof(nonce: nonce, deviceId: deviceId, purpose: purpose).sign(with: key)
    }

    /// Signs a telemetry message with the next sequence number.
    public func telemetry(topic: String, payload: Data, at time: Date = Date()) async throws -> String {
        try await TelemetryEnvelope(device: did, sequence: nextSequence(), time: time, topic: topic, payload: payload).signed(with: key)
    }

    /// Signs a report of the firmware the device runs, with the next sequence number, answering
    /// the server's `nonce` when it gave one.
    public func measurement(_ firmware: FirmwareMeasurement, answering nonce: String? = nil, at time: Date = Date()) async throws -> String {
        try await (nonce.map(firmware.answering) ?? firmware).envelope(device: did, sequence: nextSequence(), time: time).signed(with: key)
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
