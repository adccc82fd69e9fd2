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
        do {
            jws = try CompactJWS(parsing: token)
            claims = try TelemetryEnvelope.Claims(json: jws.payloadBytes)
        } catch {
            return .failure(VerificationFailure(.format, "\(error)"))
        }
        guard jws.header.typ == MediaType.telemetry else {
            return .failure(VerificationFailure(.mediaType, "typ is \(jws.header.typ ?? "missing"), expected \(MediaType.telemetry)"))
        }
        guard let device = try? DID(claims.iss), let payload = Base64URL.decode(claims.payload) else {
            return .failure(VerificationFailure(.format, "iss must be a DID and payload base64url"))
        }
        let signature = await SignaturePolicy().check(jws, controller: claims.iss, relationship: .authentication, environment: environment)
        if case .failsToMeetPolicy(let failures) = signature { return .failure(failures[0]) }
        let time = Date(timeIntervalSince1970: claims.iat)
        guard abs(time.timeIntervalSince(now)) <= replayGuard.window else {
            return .failure(VerificationFailure(.validity, "message time \(RFC3339.format(time)) is outside the \(Int(replayGuard.window)) s window"))
        }
        if case .failure(let failure) = replayGuard.accept(device: claims.iss, sequence: claims.seq, time: time, now: now) {
            return .failure(failure)
        }
        return .success(TelemetryEnvelope(device: device, sequence: claims.seq, time: time, topic: claims.topic, payload: Data(payload)))
    }
}
