import Foundation
import VouchKit

/// Telemetry envelopes signed in advance, handed out in order so that each verification is of a
/// new message that the replay guard accepts.
///
/// Messages go round-robin over `devices` devices, each with its own Ed25519 key and sequence
/// numbers counting up from 1, so the verifier sees the mix a gateway sees: many devices, each
/// in order. The feed is used by one benchmark at a time and its iterations run one after another.
final class TelemetryFeed {
    /// The verifier, with a replay guard that has seen none of the messages.
    let verifier: TelemetryVerifier
    private let tokens: [String]
    private var next = 0

    /// Signs `messages` envelopes from `devices` devices. Their time is now, so they stay inside
    /// the verifier's clock window (300 s) for as long as a benchmark runs.
    init(devices: Int, messages: Int) async throws {
        let keys = (0..<devices).map { _ in SigningKey.generate(.ed25519) }
        let dids = keys.map { DID(key: $0.publicKey) }
        let payload = Data(#"{"temperature":21.5,"humidity":48,"vibration":[0.01,0.02,0.01],"battery":97}"#.utf8)
        var tokens: [String] = []
        tokens.reserveCapacity(messages)
        for message in 0..<messages {
            let device = message % devices
            let envelope = TelemetryEnvelope(
                device: dids[device], sequence: UInt64(message / devices + 1), time: Date(),
                topic: "factory-1/line-3/\(dids[device].methodSpecificID.suffix(8))/environment", payload: payload)
            tokens.append(try await envelope.signed(with: keys[device]))
        }
        self.tokens = tokens
        self.verifier = TelemetryVerifier(replayGuard: ReplayGuard(capacity: 100_000, window: 300))
    }

    /// The first envelope, for benchmarks that take a telemetry token apart without verifying it in full.
    var sample: String { tokens[0] }

    /// The next envelope. Stops the run if the feed is used up: verifying a message twice would
    /// measure a replay rejection instead of an accepted message.
    func take() -> String {
        guard next < tokens.count else {
            fatalError("the telemetry feed has only \(tokens.count) envelopes; raise its size to the iterations run")
        }
        defer { next += 1 }
        return tokens[next]
    }
}
