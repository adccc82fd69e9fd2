import Foundation
import VouchCore
import VouchKit
import VouchStore
import X509

/// The claims of a device access token: an RFC 9068 `at+jwt` signed by the server's issuer key,
/// bound to the device and to its key by the RFC 7800 confirmation `cnf.jkt` (the key's RFC 7638
/// thumbprint). It is never a bearer token: it is used with a fresh DPoP proof by that key (RFC
/// 9449), or, when issued over the mTLS listener without one, only over a connection with the
/// client certificate `cnf.x5t#S256` names (RFC 8705). A token stops working when the device leaves
/// the states that may act, or when its key is rotated.
struct DeviceAccessToken: Codable, Sendable {
    struct Confirmation: Codable, Sendable {
        var jkt: String
        var x5tS256: String?

        enum CodingKeys: String, CodingKey {
            case jkt
            case x5tS256 = "x5t#S256"
        }
    }
    static let mediaType = "at+jwt"

    var iss: String
    var sub: String
    var aud: String
    var iat: Int
    var exp: Int
    var jti: String
    var cnf: Confirmation
}

/// `POST /v1/auth/token`.
struct TokenRequest: Codable, Sendable {
    var nonce: String
    /// A `vouch-device+jwt` by the device key, purpose `authenticate`.
    var proof: String
    /// A fresh firmware measurement envelope, required when the device was asked to step up.
    var measurement: String?
}

/// `POST /v1/auth/token`'s answer (RFC 6749 §5.1 names).
struct TokenResponse: Codable, Sendable {
    var access_token: String
    var token_type: String
    var expires_in: Int
    var device_id: String
}

/// `POST /v1/devices/self/rotate`.
struct RotationRequest: Codable, Sendable {
    var nonce: String
    /// PKCS#10 CSR of the new key, PEM.
    var csr: String
    /// A `vouch-device+jwt` (purpose `rotate`) signed by the new key.
    var proof: String
    /// The same payload signed by the current key.
    var previousKeyProof: String
    /// A firmware measurement by the current key answering `nonce`: what a group that requires
    /// known-good firmware needs to issue.
    var measurement: String?
}

/// `POST /v1/devices/self/renew` (the body is optional).
struct RenewalRequest: Codable, Sendable {
    /// A nonce from `POST /v1/auth/challenge`, which `measurement` answers.
    var nonce: String?
    /// A firmware measurement answering `nonce`: what a group that requires known-good firmware
    /// needs to issue.
    var measurement: String?
}

/// How a request proved which device it comes from.
enum DeviceCredentialSource: Sendable {
    case accessToken(TokenPresentation)
    case clientCertificate(Certificate)
}

extension Authority {
    /// Device states whose identity may act: an active device, and a quarantined one (which policy
    /// confines to remediation).
    static let actingStates: Set<DeviceState> = [.active, .quarantined]

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
                throw APIError.unauthorized("the DPoP proof must be signed by the key of device \(device.id)")
            }
        case .certificate(let certificate, let thumbprint):
            guard try await deviceForClientCertificate(certificate).id == device.id else {
                throw APIError.unauthorized("the client certificate is not device \(device.id)'s")
            }
            certificateThumbprint = thumbprint
        }
        try await consumeDeviceNonce(request.nonce)
        try await stepUp(device, measurement: request.measurement, nonce: request.nonce)
        let issuedAt = nowSeconds
        // A quarantined device gets short-lived tokens: it is meant to remediate, then be looked at.
        let lifetime = device.state == DeviceState.quarantined.rawValue ? Self.quarantineTokenLifetime : Self.accessTokenLifetime
        let claims = DeviceAccessToken(
            iss: did.description, sub: device.id, aud: publicURL, iat: issuedAt, exp: issuedAt + lifetime,
            jti: Base64URL.encode(Secrets.randomBytes(16)), cnf: .init(jkt: device.keyThumbprint, x5tS256: certificateThumbprint)
        )
        let token = try await JWS.sign(claims, type: DeviceAccessToken.mediaType, kid: issuer.keyID, key: issuerKey)
        return TokenResponse(access_token: token, token_type: certificateThumbprint == nil ? "DPoP" : "Bearer", expires_in: lifetime, device_id: device.id)
    }

    /// When a response rule asked the device to step up, a token is issued only with a fresh
    /// measurement of known-good firmware answering the request's `nonce`, which clears the request.
    private func stepUp(_ device: DeviceRow, measurement token: String?, nonce: String) async throws {
        guard let asked = try await store.read({ try await $0.stepUp(deviceID: device.id) }) else { return }
        guard let token else {
            throw Self.stepUpRequired(
                device, asked, "send a firmware measurement answering this request's nonce with it ({\"nonce\", \"proof\", \"measurement\"})")
        }
        // The measurement must answer this request's nonce (spent above), so none made earlier, or
        // for another question, can be replayed.
        let verdict = try await attest(token, by: device, phase: .stepUp, nonce: nonce)
        guard verdict.status == "good" else { throw Self.stepUpRequired(device, asked, "the measurement sent is \(verdict.status): \(verdict.detail)") }
        try await steppedUp(device, verdict: verdict)
    }

    /// The refusal of a device that was asked to step up.
    static func stepUpRequired(_ device: DeviceRow, _ asked: StepUpRow, _ detail: String) -> APIError {
        var error = APIError.forbidden(
            "device \(device.id) was asked to step up at \(RFC3339.format(Date(timeIntervalSince1970: Double(asked.requiredAt)))) (\(asked.cause)); "
                + detail)
        error.extensions["stepUp"] = "firmware-attestation"
        return error
    }

    /// Clears a pending step-up after a known-good measurement (nothing when none is pending).
    func steppedUp(_ device: DeviceRow, verdict: FirmwareVerdict) async throws {
        try await store.transaction { session in
            guard let asked = try await session.stepUp(deviceID: device.id) else { return }
            try await session.clearStepUp(deviceID: device.id)
            try await self.record(session, kind: "device.stepped-up", subject: device.id, actor: "device:\(device.id)", data: [
                "sha256": .string(verdict.sha256), "version": .string(verdict.version), "cause": .string(asked.cause),
            ])
        }
    }

    /// The device a request acts for, from its access token or its client certificate. Checked on
    /// every request: a device revoked, suspended or rotated since is refused at once, and so is
    /// a device asked to step up (unless `allowingStepUp`: reading its own record, attesting).
    func authenticatedDevice(_ source: DeviceCredentialSource, allowingStepUp: Bool = false) async throws -> DeviceRow {
        // The step-up asked of the device is read with the device itself, in the same read.
        let (device, asked) = try await identifiedDevice(source, readingStepUp: !allowingStepUp)
        if let asked {
            throw Self.stepUpRequired(
                device, asked,
                "send a firmware measurement answering a nonce from POST /v1/auth/challenge to POST /v1/devices/self/attestation ({\"nonce\", \"measurement\"}), "
                    + "or with a token request ({\"nonce\", \"proof\", \"measurement\"})")
        }
        return device
    }

    private func identifiedDevice(_ source: DeviceCredentialSource, readingStepUp: Bool) async throws -> (DeviceRow, StepUpRow?) {
        switch source {
        case .accessToken(let presented):
            let claims = try verifyAccessToken(presented.token)
            try checkBinding(claims, presented)
            let (device, asked) = try await store.read { session in
                (try await session.device(id: claims.sub), readingStepUp ? try await session.stepUp(deviceID: claims.sub) : nil)
            }
            guard let device else { throw APIError.unauthorized("the access token names a device that does not exist") }
            try Self.requireActing(device)
            guard ConstantTime.equals(claims.cnf.jkt, device.keyThumbprint) else {
                throw APIError.unauthorized("the access token is bound to a key device \(device.id) no longer holds; get a new token")
            }
            return (device, asked)
        case .clientCertificate(let certificate):
            return try await holder(of: certificate, readingStepUp: readingStepUp)
        }
    }

    /// Checks a client certificate against the records: issued here, not revoked or on hold, not
    /// expired, and its device in a state that may act with the key the certificate holds.
    func deviceForClientCertificate(_ certificate: Certificate) async throws -> DeviceRow {
        try await holder(of: certificate, readingStepUp: false).device
    }

    private func holder(of certificate: Certificate, readingStepUp: Bool) async throws -> (device: DeviceRow, stepUp: StepUpRow?) {
        switch try await standing(of: certificate, readingStepUp: readingStepUp) {
        case .acting(let device, let stepUp): return (device, stepUp)
        case .refused(let refusal): throw refusal.problem
        }
    }

    /// What the records say of a client certificate: its device may act with it, or why not.
    func standing(of certificate: Certificate, readingStepUp: Bool = false) async throws -> ClientCertificateStanding {
        let serial = Hex.encode(certificate.serialNumber.bytes)
        let now = nowSeconds
        let (row, device, asked) = try await store.read { session -> (CertificateRow?, DeviceRow?, StepUpRow?) in
            guard let row = try await session.certificate(serial: serial) else { return (nil, nil, nil) }
            return (row, try await session.device(id: row.deviceId), readingStepUp ? try await session.stepUp(deviceID: row.deviceId) : nil)
        }
        guard let row, let device else {
            return .refused(ClientCertificateRefusal(.notIssuedHere, "the client certificate was not issued by this authority"))
        }
        guard row.revokedAt == nil else { return .refused(ClientCertificateRefusal(.revoked, "the client certificate is revoked or on hold")) }
        guard row.notBefore <= now, now < row.notAfter else { return .refused(ClientCertificateRefusal(now < row.notBefore ? .notYetValid : .expired, "the client certificate is not valid now")) }
        guard let state = DeviceState(rawValue: device.state), Self.actingStates.contains(state) else {
            return .refused(ClientCertificateRefusal(.deviceCannotAct, "device \(device.id) is \(device.state) and cannot act", forbidden: true))
        }
        guard let key = try? PublicKey(certificateKey: certificate.publicKey), ConstantTime.equals(key.thumbprint, device.keyThumbprint) else {
            return .refused(ClientCertificateRefusal(.keyReplaced, "the client certificate holds a key device \(device.id) no longer holds"))
        }
        return .acting(device, asked)
    }

    /// Renews an acting device's certificate and credentials for the key it already holds. A
    /// measurement sent with it must answer the request's nonce (spent here) and is recorded; the
    /// issuance gates decide (`checkIssuanceGates`).
    func renew(_ device: DeviceRow, _ request: RenewalRequest = RenewalRequest()) async throws -> EnrollmentBundle {
        let verdict = try await freshMeasurement(request.measurement, nonce: request.nonce, by: device, phase: .renewal)
        var bundle = try await store.transaction { session in
            guard let row = try await session.device(id: device.id, forUpdate: true), row.keyThumbprint == device.keyThumbprint else {
                throw APIError.conflict("device \(device.id) changed while renewing; try again")
            }
            guard DeviceState(rawValue: row.state) == .active else {
                throw APIError.conflict("device \(row.id) is \(row.state); only an active device renews")
            }
            let (group, rules) = try await Self.groupRules(session, for: row)
            try await self.checkIssuanceGates(session, device: row, group: group, rules: rules, fresh: verdict)
            let key = try PublicKey(jwk: try Self.decode(JWK.self, from: row.publicKey))
            let actor = "device:\(row.id)"
            try await self.record(session, kind: "device.renewed", subject: row.id, actor: actor, data: ["keyThumbprint": .string(row.keyThumbprint)])
            return try await self.issueIdentity(session, device: row, key: key, rules: rules, groupName: group.name, actor: actor)
        }
        bundle.firmware = verdict
        return await withTrustBundle(bundle)
    }

    /// A measurement sent to pass a gate: it must answer `nonce` (from `POST /v1/auth/challenge`),
    /// which is spent before the measurement is recorded, so that neither can serve twice.
    func freshMeasurement(_ token: String?, nonce: String?, by device: DeviceRow, phase: AttestationPhase) async throws -> FirmwareVerdict? {
        guard let token else {
            if nonce != nil { throw APIError.badRequest("a nonce is sent only with the measurement that answers it") }
            return nil
        }
        guard let nonce else {
            throw APIError.badRequest(
                "a measurement sent with this request answers a nonce: send {\"nonce\", \"measurement\"} with a nonce from POST /v1/auth/challenge in the measurement's payload")
        }
        guard let entry = try await directoryEntry(device.id) else { throw APIError.unauthorized("device \(device.id) is not known here") }
        let measurement = try openMeasurement(token, did: device.did, key: entry.key, nonce: nonce)
        try await consumeDeviceNonce(nonce)
        return try await recordMeasurement(measurement, device: device, phase: phase)
    }

    /// What every path that issues to an existing device (renewal, rotation, approval) checks in
    /// its transaction: no step-up is pending, and a group that requires known-good firmware has
    /// one. Renewal and rotation need a `fresh` measurement answering their nonce; an operator's
    /// approval (no device on the line) goes by the latest one recorded.
    func checkIssuanceGates(_ session: StoreSession, device: DeviceRow, group: GroupRow, rules: EnrollmentRules, fresh: FirmwareVerdict?, latestCounts: Bool = false) async throws {
        if let asked = try await session.stepUp(deviceID: device.id) {
            throw Self.stepUpRequired(
                device, asked, "it is issued nothing until it attests known-good firmware (POST /v1/devices/self/attestation with {\"nonce\", \"measurement\"})")
        }
        guard rules.requireKnownFirmware == true else { return }
        if let fresh {
            guard fresh.status == "good" else {
                throw APIError.conflict("group \(group.name) issues only to devices running known-good firmware; the measurement sent is \(fresh.status): \(fresh.detail)")
            }
            return
        }
        if latestCounts {
            let report = try await session.deviceFirmware(deviceID: device.id)
            guard report?.status == "good" else {
                throw APIError.conflict(
                    "group \(group.name) issues only to devices running known-good firmware; "
                        + (report.map { "the latest measurement (\($0.digest.prefix(16))…) is \($0.status)" } ?? "this device has reported no measurement"))
            }
            return
        }
        throw APIError.conflict(
            "group \(group.name) issues only to devices running known-good firmware: send a measurement answering a nonce from POST /v1/auth/challenge with the request ({\"nonce\", \"measurement\"})")
    }

    /// Replaces a device's key. Both keys sign the same proof over a fresh nonce; the device id is
    /// kept, the old certificates are revoked as superseded and the old credentials' revocation bits
    /// set, the new DID is linked to the old, and a new certificate and credentials are issued — one
    /// transaction with its events.
    func rotate(_ request: RotationRequest) async throws -> EnrollmentBundle {
        let (newKey, newDID, proof) = try verifyDeviceProof(request.proof, nonce: request.nonce, purpose: .rotate)
        let (oldKey, _, previous) = try verifyDeviceProof(request.previousKeyProof, nonce: request.nonce, purpose: .rotate)
        guard previous == proof else {
            throw APIError.badRequest("proof and previousKeyProof must sign the same payload")
        }
        guard let named = proof.newKeyThumbprint, ConstantTime.equals(named, newKey.thumbprint) else {
            throw APIError.badRequest("the proofs must name the new key's thumbprint in newKeyThumbprint")
        }
        guard newKey != oldKey else { throw APIError.badRequest("the new key must differ from the current key") }
        let device = try await deviceHolding(oldKey, id: proof.deviceId, proofName: "previousKeyProof")
        guard DeviceState(rawValue: device.state) == .active else {
            throw APIError.conflict("device \(device.id) is \(device.state); only an active device rotates its key")
        }
        let (_, rules) = try await store.read { try await Self.groupRules($0, for: device) }
        let csrKey = try checkCSR(request.csr, allowed: rules.allowedKeyTypes)
        guard csrKey == newKey else { throw APIError.badRequest("the CSR's key differs from the key that signed proof") }
        // A measurement (by the current key) answers the nonce, which is then spent with it, first.
        let verdict = try await freshMeasurement(request.measurement, nonce: request.measurement.map { _ in request.nonce }, by: device, phase: .rotation)

        var bundle = try await store.transaction { session in
            if request.measurement == nil {
                guard try await self.spendDeviceNonce(request.nonce, in: session) else { throw Self.staleNonce }
            }
            guard var row = try await session.device(id: device.id, forUpdate: true), row.keyThumbprint == device.keyThumbprint,
                row.state == device.state
            else {
                throw APIError.conflict("device \(device.id) changed while rotating; try again")
            }
            if let holder = try await session.device(keyThumbprint: newKey.thumbprint) {
                throw APIError.conflict("the new key is already enrolled as device \(holder.id)")
            }
            let (group, rules) = try await Self.groupRules(session, for: row)
            try await self.checkIssuanceGates(session, device: row, group: group, rules: rules, fresh: verdict)
            let stamp = self.nowSeconds
            let oldIndexes = try await session.statusIndexes(deviceID: row.id)
            let superseded = try await session.revokeCertificates(deviceID: row.id, at: stamp, reason: RevocationReason.superseded.rawValue)
            try await session.setStatusBits(purpose: StatusPurpose.revocation.rawValue, indexes: oldIndexes, at: stamp)
            _ = try await session.next("revocations")
            let oldDID = row.did
            var previousDIDs = try Self.decode([String].self, from: row.previousDids)
            previousDIDs.append(oldDID)
            row.did = newDID.description
            row.keyThumbprint = newKey.thumbprint
            row.publicKey = try Self.json(newKey.jwk)
            row.previousDids = try Self.json(previousDIDs)
            row.updatedAt = stamp
            try await session.update(row)
            let actor = "device:\(row.id)"
            try await self.record(session, kind: "device.rotated", subject: row.id, actor: actor, data: [
                "previousDid": .string(oldDID), "did": .string(row.did), "keyThumbprint": .string(row.keyThumbprint),
                "supersededSerials": .array(superseded.map(JSONValue.string)),
            ])
            return try await self.issueIdentity(session, device: row, key: newKey, rules: rules, groupName: group.name, actor: actor)
        }
        directory.invalidate(device.id)
        bundle.firmware = verdict
        return await withTrustBundle(bundle)
    }

    // MARK: Helpers

    static let staleNonce = APIError.unauthorized(
        "the nonce is unknown, already used or expired; request a new one from POST /v1/auth/challenge"
    )

    /// Verifies a device proof for `purpose` over `nonce`.
    func verifyDeviceProof(_ token: String, nonce: String, purpose: DeviceProof.Purpose) throws -> (PublicKey, DID, DeviceProof) {
        let (key, did, proof) = try verifySelfSigned(
            token, as: DeviceProof.self, mediaType: DeviceProof.mediaType, name: "device proof",
            shape: "{\"nonce\": …, \"deviceId\": …, \"purpose\": \"authenticate\" or \"rotate\"}"
        )
        guard proof.purpose == purpose else {
            throw APIError.unauthorized("the device proof is for \(proof.purpose.rawValue), not \(purpose.rawValue)")
        }
        guard ConstantTime.equals(proof.nonce, nonce) else { throw APIError.unauthorized("the device proof signs another nonce") }
        return (key, did, proof)
    }

    /// The device `id` if `key` is its current key; one answer for an unknown device and a wrong key.
    private func deviceHolding(_ key: PublicKey, id: String, proofName: String = "the proof") async throws -> DeviceRow {
        let device = try await store.read { try await $0.device(id: id) }
        guard let device, ConstantTime.equals(key.thumbprint, device.keyThumbprint) else {
            throw APIError.unauthorized("\(proofName) is not signed by the current key of a device \(id.prefix(64))")
        }
        return device
    }

    /// Spends a challenge nonce: one insert, committed by itself (token requests write nothing else).
    func consumeDeviceNonce(_ nonce: String) async throws {
        let taken = try await store.write { try await self.spendDeviceNonce(nonce, in: $0) }
        guard taken else { throw Self.staleNonce }
    }

    /// Spends `nonce`, minted for device authentication, in `session`; false when it is not one of
    /// ours, has expired or was spent already.
    func spendDeviceNonce(_ nonce: String, in session: StoreSession) async throws -> Bool {
        guard let expiresAt = nonces.expiry(of: nonce, purpose: "device", now: nowSeconds) else { return false }
        return try await session.spendNonce(digest: Secrets.digest(nonce), expiresAt: expiresAt)
    }

    private func verifyAccessToken(_ token: String) throws -> DeviceAccessToken {
        guard let jws = try? CompactJWS(parsing: token), jws.header.typ == DeviceAccessToken.mediaType, jws.header.kid == issuer.keyID,
            JWS.verify(jws, key: issuerKey.publicKey)
        else {
            throw APIError.unauthorized("the bearer token is not an access token of this server; get one from POST /v1/auth/token")
        }
        guard let claims = try? jws.decodePayload(as: DeviceAccessToken.self), claims.iss == did.description, claims.aud == publicURL else {
            throw APIError.unauthorized("the access token was not issued for this server")
        }
        let now = nowSeconds
        guard claims.exp > now else { throw APIError.unauthorized("the access token expired; get a new one from POST /v1/auth/token") }
        guard claims.iat <= now + 60 else { throw APIError.unauthorized("the access token is not valid yet") }
        return claims
    }

    static func requireActing(_ device: DeviceRow) throws {
        guard let state = DeviceState(rawValue: device.state), actingStates.contains(state) else {
            throw APIError.forbidden("device \(device.id) is \(device.state) and cannot act")
        }
    }

    static func groupRules(_ session: StoreSession, for device: DeviceRow) async throws -> (GroupRow, EnrollmentRules) {
        guard let group = try await session.group(id: device.groupId) else { throw StoreError.corrupt("device \(device.id) has no group") }
        return (group, try decode(EnrollmentRules.self, from: group.settings))
    }
}
