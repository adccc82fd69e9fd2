import Foundation

/// Verifies signed telemetry: the signature by a key of the device named in the envelope (no device
/// can sign for another), the clock window, and a strictly increasing sequence per device.
public struct TelemetryVerifier: Sendable {
    private let environment: VerificationEnvironment
    private let replayGuard: ReplayGuard

    /// Creates a verifier; its clock window is the replay guard's.
    public init(replayGuard: ReplayGuard = ReplayGuard(), resolver: any DIDResolver = DIDKeyResolver(), trust: TrustBundle? = nil) {
        self.environment = VerificationEnvironment(trust: trust, resolver: resolver)
        self.replayGuard = replayGuard
    }

    /// Verifies `token` and, when it is accepted, records its sequence number.
    public func verify(_ token: String, now: Date = Date()) async -> Result<TelemetryEnvelope, VerificationFailure> {
        let jws: CompactJWS
        let claims: TelemetryEnvelope.Claims
        switch TelemetryEnvelope.read(token) {
        case .success(let read): (jws, claims) = read
        case .failure(let failure): return .failure(failure)
        }
        let envelope: TelemetryEnvelope
        switch TelemetryEnvelope.envelope(claims) {
        case .success(let read): envelope = read
        case .failure(let failure): return .failure(failure)
        }
        let signature = await SignaturePolicy().check(jws, controller: claims.iss, relationship: .authentication, environment: environment)
        if case .failsToMeetPolicy(let failures) = signature { return .failure(failures[0]) }
        guard abs(envelope.time.timeIntervalSince(now)) <= replayGuard.window else {
            return .failure(VerificationFailure(.validity, "message time \(RFC3339.format(envelope.time)) is outside the \(Int(replayGuard.window)) s window"))
        }
        if case .failure(let failure) = replayGuard.accept(device: claims.iss, sequence: claims.seq, time: envelope.time, now: now) {
            return .failure(failure)
        }
        return .success(envelope)
    }
}
