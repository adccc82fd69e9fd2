import Foundation
import VouchKit

// What a device asks of the server: nonces, enrollment, tokens, renewal and rotation, firmware
// attestation and telemetry.
extension VouchClient {
    /// `POST /v1/enrollments/nonce`.
    public func enrollmentNonce() async throws -> NonceResponse {
        try await call("POST", "/v1/enrollments/nonce")
    }

    /// `POST /v1/enrollments`: the bundle's `state` is `pending` when the group wants approval.
    public func enroll(_ request: EnrollmentRequest) async throws -> EnrollmentBundle {
        try await call("POST", "/v1/enrollments", body: .json(request))
    }

    /// `GET /v1/enrollments/{id}`: a pending enrollment, polled by the device that asked.
    public func enrollment(_ id: String) async throws -> EnrollmentBundle {
        try await call("GET", "/v1/enrollments/\(Self.segment(id))")
    }

    /// `POST /v1/auth/challenge`.
    public func challenge() async throws -> NonceResponse {
        try await call("POST", "/v1/auth/challenge")
    }

    /// `POST /v1/auth/token`, with the DPoP proof of this client's device credential.
    public func token(_ request: TokenRequest) async throws -> TokenResponse {
        try await call("POST", "/v1/auth/token", body: .json(request))
    }

    /// Authenticates device `deviceId` by `key`: a challenge, a `vouch-device+jwt` over its
    /// nonce, and the access token; returns a client that uses the token. `measurement` is asked of
    /// the device when it must step up (it answers the challenge's nonce).
    public func authenticated(
        deviceId: String, key: SigningKey, measurement: (@Sendable (_ nonce: String) async throws -> String)? = nil
    ) async throws -> (client: VouchClient, token: TokenResponse) {
        try await authenticated(deviceId: deviceId, agent: DeviceAgent(key: key), measurement: measurement)
    }

    /// The same, for `agent`.
    public func authenticated(
        deviceId: String, agent: DeviceAgent, measurement: (@Sendable (_ nonce: String) async throws -> String)? = nil
    ) async throws -> (client: VouchClient, token: TokenResponse) {
        let device = agent.client(self)
        let nonce = try await device.challenge().nonce
        let proof = try await agent.deviceProof(nonce: nonce, deviceId: deviceId)
        let token = try await device.token(TokenRequest(nonce: nonce, proof: proof, measurement: try await measurement?(nonce)))
        return (agent.client(self, accessToken: token.access_token), token)
    }

    /// `GET /v1/devices/self`.
    public func ownRecord() async throws -> DeviceView {
        try await call("GET", "/v1/devices/self")
    }

    /// `POST /v1/devices/self/renew`.
    public func renew(_ request: RenewalRequest? = nil) async throws -> EnrollmentBundle {
        try await call("POST", "/v1/devices/self/renew", body: request.map { .json($0) } ?? .none)
    }

    /// `POST /v1/devices/self/rotate`.
    public func rotate(_ request: RotationRequest) async throws -> EnrollmentBundle {
        try await call("POST", "/v1/devices/self/rotate", body: .json(request))
    }

    /// `POST /v1/devices/self/attestation`.
    public func attest(_ body: MeasurementBody) async throws -> FirmwareVerdict {
        try await call("POST", "/v1/devices/self/attestation", body: .json(body))
    }

    /// `POST /v1/telemetry`.
    public func sendTelemetry(_ envelopes: [String]) async throws -> TelemetryReceipt {
        try await call("POST", "/v1/telemetry", body: .json(TelemetryUpload(envelopes: envelopes)))
    }
}
