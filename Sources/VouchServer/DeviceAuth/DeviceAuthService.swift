import Foundation
import Logging
import SwiftASN1
import VouchAPI
import VouchCore
import VouchKit
import VouchStore
import X509

/// How devices prove who they are: device proofs over nonces buy access tokens bound to the
/// device key (DPoP) or to the client certificate (mTLS); every request of a device is checked
/// against the records (see `authenticatedDevice`). A device asked to step up attests here.
final class DeviceAuthService: Sendable {
    let store: Store
    let nonces: NonceService
    let firmware: FirmwareService
    let events: EventRecorder
    let logger: Logger
    /// The key that signs access tokens (the issuer key), its `kid`, and who tokens name.
    let tokenKey: SigningKey
    let tokenKeyID: String
    let did: DID
    let publicURL: String
    /// The CA whose device certificates the mTLS listener takes.
    let ca: CertificateAuthority
    /// `ca`, then the issuing CA before a rotation while what it issued is in use.
    let issuingCAs: [CertificateAuthority]
    /// DPoP proofs seen (each serves one request).
    let dpopReplays = DPoPReplayGuard()

    /// Access token lifetime.
    static let accessTokenLifetime = 600
    /// Access token lifetime of a quarantined device.
    static let quarantineTokenLifetime = 120

    var clock: ServerClock { events.clock }

    init(
        store: Store, nonces: NonceService, firmware: FirmwareService, events: EventRecorder, tokenKey: SigningKey, tokenKeyID: String, did: DID,
        publicURL: String, ca: CertificateAuthority, issuingCAs: [CertificateAuthority]? = nil, logger: Logger
    ) {
        self.store = store
        self.nonces = nonces
        self.firmware = firmware
        self.events = events
        self.tokenKey = tokenKey
        self.tokenKeyID = tokenKeyID
        self.did = did
        self.publicURL = publicURL
        self.ca = ca
        self.issuingCAs = issuingCAs ?? [ca]
        self.logger = logger
    }

    /// Exchanges a signed nonce for a 10-minute access token bound to the device and its key, and
    /// used with DPoP proofs by that key, or bound to the client certificate it was asked over.
    func issueAccessToken(_ request: TokenRequest, binding: TokenBinding) async throws -> TokenResponse {
        let (key, _, proof) = try verifyDeviceProof(request.proof, nonce: request.nonce, purpose: .authenticate)
        // The key is checked before anything about the device is told: whoever does not hold the
        // device's key learns neither whether it exists nor its state.
        let device = try await deviceHolding(key, id: proof.deviceId)
        try Self.requireActing(device)
        var certificateThumbprint: String?
        switch binding {
        case .dpop(let dpop):
            guard ConstantTime.equals(dpop.thumbprint, device.keyThumbprint) else {
                throw ServiceError.unauthenticated("the DPoP proof must be signed by the key of device \(device.id)")
            }
        case .certificate(let certificate, let thumbprint):
            guard try await deviceForClientCertificate(certificate).id == device.id else {
                throw ServiceError.unauthenticated("the client certificate is not device \(device.id)'s")
            }
            certificateThumbprint = thumbprint
        }
        try await nonces.consumeDeviceNonce(request.nonce)
        try await stepUp(device, measurement: request.measurement, nonce: request.nonce)
        let issuedAt = clock.seconds
        // A quarantined device gets short-lived tokens: it is meant to remediate, then be looked at.
        let lifetime = device.state == .quarantined ? Self.quarantineTokenLifetime : Self.accessTokenLifetime
        let claims = DeviceAccessToken(
            iss: did.description, sub: device.id, aud: publicURL, iat: issuedAt, exp: issuedAt + lifetime,
            jti: Base64URL.encode(Secrets.randomBytes(16)), cnf: .init(jkt: device.keyThumbprint, x5tS256: certificateThumbprint)
        )
        let token = try await JWS.sign(claims, type: DeviceAccessToken.mediaType, kid: tokenKeyID, key: tokenKey)
        return TokenResponse(access_token: token, token_type: certificateThumbprint == nil ? "DPoP" : "Bearer", expires_in: lifetime, device_id: device.id)
    }

    /// When a response rule asked the device to step up, a token is issued only with a fresh
    /// measurement of known-good firmware answering the request's `nonce`, which clears the request.
    private func stepUp(_ device: DeviceRecord, measurement token: String?, nonce: String) async throws {
        guard let asked = try await store.read({ try await $0.stepUps.find(deviceID: device.id) }) else { return }
        guard let token else {
            throw ServiceError.stepUpRequired(
                device, asked, "send a firmware measurement answering this request's nonce with it ({\"nonce\", \"proof\", \"measurement\"})")
        }
        // The measurement must answer this request's nonce (spent above), so none made earlier, or
        // for another question, can be replayed.
        let verdict = try await firmware.attest(token, by: device, phase: .stepUp, nonce: nonce)
        guard verdict.status == .good else { throw ServiceError.stepUpRequired(device, asked, "the measurement sent is \(verdict.status.rawValue): \(verdict.detail)") }
        try await steppedUp(device, verdict: verdict)
    }

    /// Clears a pending step-up after a known-good measurement (nothing when none is pending).
    func steppedUp(_ device: DeviceRecord, verdict: FirmwareVerdict) async throws {
        try await store.transaction { session in
            guard let asked = try await session.stepUps.find(deviceID: device.id) else { return }
            try await session.stepUps.clear(deviceID: device.id)
            try await self.events.record(session, kind: .deviceSteppedUp, subject: device.id, actor: "device:\(device.id)", data: [
                "sha256": .string(verdict.sha256), "version": .string(verdict.version), "cause": .string(asked.cause),
            ])
        }
    }

    /// The device a request acts for, from its access token or its client certificate. Checked on
    /// every request: a device revoked, suspended or rotated since is refused at once, and so is
    /// a device asked to step up (unless `allowingStepUp`: reading its own record, attesting).
    func authenticatedDevice(_ source: DeviceCredentialSource, allowingStepUp: Bool = false) async throws -> DeviceRecord {
        // The step-up asked of the device is read with the device itself, in the same read.
        let (device, asked) = try await identifiedDevice(source, readingStepUp: !allowingStepUp)
        if let asked {
            throw ServiceError.stepUpRequired(
                device, asked,
                "send a firmware measurement answering a nonce from POST /v1/auth/challenge to POST /v1/devices/self/attestation ({\"nonce\", \"measurement\"}), "
                    + "or with a token request ({\"nonce\", \"proof\", \"measurement\"})")
        }
        return device
    }

    private func identifiedDevice(_ source: DeviceCredentialSource, readingStepUp: Bool) async throws -> (DeviceRecord, StepUpRecord?) {
        switch source {
        case .accessToken(let presented):
            let claims = try verifyAccessToken(presented.token)
            try checkBinding(claims, presented)
            let (device, asked) = try await store.read { session in
                (try await session.devices.find(id: claims.sub), readingStepUp ? try await session.stepUps.find(deviceID: claims.sub) : nil)
            }
            guard let device else { throw ServiceError.unauthenticated("the access token names a device that does not exist") }
            try Self.requireActing(device)
            guard ConstantTime.equals(claims.cnf.jkt, device.keyThumbprint) else {
                throw ServiceError.unauthenticated("the access token is bound to a key device \(device.id) no longer holds; get a new token")
            }
            return (device, asked)
        case .clientCertificate(let certificate):
            return try await holder(of: certificate, readingStepUp: readingStepUp)
        }
    }

    /// Verifies a device proof for `purpose` over `nonce`.
    func verifyDeviceProof(_ token: String, nonce: String, purpose: DeviceProof.Purpose) throws -> (PublicKey, DID, DeviceProof) {
        let (key, did, proof) = try SelfSignedProof.verify(
            token, as: DeviceProof.self, mediaType: DeviceProof.mediaType, name: "device proof",
            shape: "{\"nonce\": …, \"deviceId\": …, \"purpose\": \"authenticate\" or \"rotate\"}"
        )
        guard proof.purpose == purpose else {
            throw ServiceError.unauthenticated("the device proof is for \(proof.purpose.rawValue), not \(purpose.rawValue)")
        }
        guard ConstantTime.equals(proof.nonce, nonce) else { throw ServiceError.unauthenticated("the device proof signs another nonce") }
        return (key, did, proof)
    }

    /// The device `id` if `key` is its current key; one answer for an unknown device and a wrong key.
    func deviceHolding(_ key: PublicKey, id: String, proofName: String = "the proof") async throws -> DeviceRecord {
        let device = try await store.read { try await $0.devices.find(id: id) }
        guard let device, ConstantTime.equals(key.thumbprint, device.keyThumbprint) else {
            throw ServiceError.unauthenticated("\(proofName) is not signed by the current key of a device \(id.prefix(64))")
        }
        return device
    }

    private func verifyAccessToken(_ token: String) throws -> DeviceAccessToken {
        guard let jws = try? CompactJWS(parsing: token), jws.header.typ == DeviceAccessToken.mediaType, jws.header.kid == tokenKeyID,
            JWS.verify(jws, key: tokenKey.publicKey)
        else {
            throw ServiceError.unauthenticated("the bearer token is not an access token of this server; get one from POST /v1/auth/token")
        }
        guard let claims = try? jws.decodePayload(as: DeviceAccessToken.self), claims.iss == did.description, claims.aud == publicURL else {
            throw ServiceError.unauthenticated("the access token was not issued for this server")
        }
        let now = clock.seconds
        guard claims.exp > now else { throw ServiceError.unauthenticated("the access token expired; get a new one from POST /v1/auth/token") }
        guard claims.iat <= now + 60 else { throw ServiceError.unauthenticated("the access token is not valid yet") }
        return claims
    }

    static func requireActing(_ device: DeviceRecord) throws {
        guard device.state.mayAct else {
            throw ServiceError.forbidden("device \(device.id) is \(device.state.rawValue) and cannot act")
        }
    }
}
