import Foundation
import VouchCore
import VouchKit
import VouchStore

/// One envelope's outcome in a telemetry batch.
struct TelemetryOutcome: Sendable {
    /// Why an envelope was refused.
    enum Refusal: String, Sendable, CaseIterable {
        /// Not a telemetry envelope: not a JWS, wrong type, missing claims.
        case format
        /// Not signed by the sending device's key, or issued in another device's name.
        case forged
        /// Its sequence number is not above the last one accepted.
        case replay
        /// Its time is outside the clock window, or older than this server's replay memory.
        case clock
        /// The device's policy does not allow publishing to its topic.
        case policy
    }

    var refusal: Refusal?
    var detail: String?

    static let accepted = TelemetryOutcome(refusal: nil, detail: nil)
}

/// Signed telemetry from devices: each envelope checked (signature, name, clock, sequence,
/// policy), what is accepted fed to monitoring, and the last few messages kept when asked.
final class TelemetryService: Sendable {
    private let policy: PolicyService
    private let directory: DirectoryService
    private let monitoring: MonitoringService
    private let clock: ServerClock
    /// The highest telemetry sequence number accepted per device, within the clock window.
    private let replayGuard = ReplayGuard(capacity: 1_000_000, window: TelemetryService.clockWindow)
    /// When this server started: telemetry signed earlier is beyond its replay memory.
    private let startedAt: Date
    /// How many accepted telemetry messages to keep per device for the console (0: none).
    let keep: Int

    /// How far an envelope's time may be from the server's clock.
    static let clockWindow: TimeInterval = 300

    init(policy: PolicyService, directory: DirectoryService, monitoring: MonitoringService, clock: ServerClock, keep: Int) {
        self.policy = policy
        self.directory = directory
        self.monitoring = monitoring
        self.clock = clock
        self.keep = keep
        // Envelope times are whole seconds: the second the server starts in counts as its own (a
        // previous run would have had to stop within that same second to have seen one of them).
        self.startedAt = Date(timeIntervalSince1970: clock.now.timeIntervalSince1970.rounded(.down))
    }

    /// The messages kept of a device, oldest first.
    func recentMessages(of device: String) async throws -> [RecentTelemetry.Message] {
        guard try await directory.entry(device) != nil else { throw ServiceError.notFound("no device with id \(device.prefix(64))") }
        return monitoring.recentTelemetry.recent(device)
    }

    /// Checks each envelope of a batch from an authenticated `device` (see `ingest(_:from:source:)`).
    func ingest(_ envelopes: [String], from device: DeviceRecord, source: IPAddress?) async throws -> [TelemetryOutcome] {
        guard let entry = try await directory.entry(device.id) else {
            throw ServiceError.unauthenticated("device \(device.id) is not known here")
        }
        return ingest(envelopes, from: entry, source: source)
    }

    /// The most envelopes a batch may hold.
    static let telemetryBatchLimit = TelemetryBatch.limit
    /// The largest envelope taken, in bytes.
    static let envelopeLimit = 16 * 1024

    /// Checks each envelope of a batch from `device`, authenticated by the request: the device's
    /// own signature and name, the clock window, the sequence (no replay), and that its policy
    /// allows publishing to the topic. What is accepted feeds monitoring, as do the refusals.
    func ingest(_ envelopes: [String], from device: DeviceDirectory.Entry, source: IPAddress?) -> [TelemetryOutcome] {
        let now = clock.now
        let id = device.row.id
        let did = device.row.did
        let policy = self.policy.current
        let subject = directory.subject(of: device, under: policy)
        var outcomes: [TelemetryOutcome] = []
        outcomes.reserveCapacity(envelopes.count)
        var accepted = 0
        var bytes = 0
        var observation = Observation(source: source, connection: true)
        for token in envelopes {
            guard token.utf8.count <= Self.envelopeLimit else {
                outcomes.append(TelemetryOutcome(refusal: .format, detail: "an envelope is at most \(Self.envelopeLimit) bytes"))
                continue
            }
            let envelope: TelemetryEnvelope
            switch TelemetryEnvelope.open(token, device: did, key: device.key) {
            case .success(let opened):
                envelope = opened
            case .failure(let failure):
                let forged = failure.check == .signature
                if forged { observation.count(.signatureFailures) }
                outcomes.append(TelemetryOutcome(refusal: forged ? .forged : .format, detail: failure.reason))
                continue
            }
            let skew = envelope.time.timeIntervalSince(now)
            guard abs(skew) <= replayGuard.window else {
                observation.count(.clockSkew)
                outcomes.append(TelemetryOutcome(refusal: .clock, detail: "sent at \(RFC3339.format(envelope.time)), \(Int(skew.rounded())) s from the server's clock; the window is \(Int(replayGuard.window)) s"))
                continue
            }
            guard envelope.time >= startedAt else {
                // Not provably a replay (a device may have buffered it across a restart): counted
                // as clock trouble, which weighs less.
                observation.count(.clockSkew)
                outcomes.append(TelemetryOutcome(refusal: .clock, detail: "sent before this server started (\(RFC3339.format(startedAt))), beyond its replay memory; send it again with a new sequence number"))
                continue
            }
            if case .failure(let failure) = replayGuard.accept(device: id, sequence: envelope.sequence, time: envelope.time, now: now) {
                observation.count(.replays)
                outcomes.append(TelemetryOutcome(refusal: .replay, detail: failure.reason))
                continue
            }
            let decision: AuthorizationDecision
            do {
                let request = try AuthorizationRequest(
                    action: "publish", resource: envelope.topic, context: AuthorizationContext(sourceAddress: source, time: now))
                decision = Authorizer.decide(request, for: subject, zones: policy.zoneRules)
            } catch {
                observation.count(.policyDenials)
                outcomes.append(TelemetryOutcome(refusal: .policy, detail: error.reason))
                continue
            }
            guard decision.allowed else {
                observation.count(.policyDenials)
                outcomes.append(TelemetryOutcome(refusal: .policy, detail: decision.reasons.first?.description ?? "denied"))
                continue
            }
            accepted += 1
            bytes += envelope.payload.count
            outcomes.append(.accepted)
            if keep > 0 { monitoring.recentTelemetry.keep(envelope, device: id, limit: keep) }
        }
        observation.count(.messages, UInt32(accepted))
        observation.count(.bytes, UInt32(clamping: bytes))
        monitoring.observe(observation, of: device)
        return outcomes
    }
}
