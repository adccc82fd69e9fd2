import Crypto
import Foundation
import Logging
import SwiftASN1
import Synchronization
import VouchCore
import VouchKit
import VouchStore
import X509

/// `POST /v1/enrollments`.
struct EnrollmentRequest: Codable, Sendable {
    struct Attestation: Codable, Sendable {
        /// The group's claim token (claim-token groups).
        var claimToken: String?
        /// The factory certificate chain, leaf first, PEM (manufacturer-ca groups).
        var certificateChain: [String]?
        /// The factory key's JWS-format signature, base64url, over `FactoryAttestation.message`: the
        /// label, the nonce, the group and the thumbprint of the CSR's key.
        var signature: String?
    }

    var nonce: String
    var group: String
    /// PKCS#10 CSR, PEM.
    var csr: String
    var attributes: [String: String]?
    var attestation: Attestation
    /// Proof of possession: a JWS (`typ` vouch-pop+jwt) by the device key, `kid` its did:key URL,
    /// payload `{"nonce": …, "group": …}`.
    var proof: String
    /// The firmware the device runs: a signed envelope on topic `vouch/attestation/firmware`,
    /// answering `nonce`.
    var measurement: String?
}

/// What an enrolled (or renewed, rotated, approved) device receives.
struct EnrollmentBundle: Codable, Sendable {
    var deviceId: String
    var did: String
    var state: String
    /// What the authority made of the firmware measurement sent with the request, if any.
    var firmware: FirmwareVerdict?
    var certificate: String?
    var chain: String?
    var identityCredential: String?
    var roleCredentials: [String]
    var trustBundle: String?
    /// Where the issuance is in the transparency log.
    var log: IssuanceLog?
}

/// The transparency-log entries of an issuance: the indexes of its `certificate.issued` and
/// `credential.issued` events, and (when a checkpoint covered them within the server's receipt
/// timeout) a receipt for each: entry, inclusion proof and signed checkpoint.
struct IssuanceLog: Codable, Sendable {
    var certificateIndex: UInt64
    var credentialIndex: UInt64
    var receipts: [LogReceipt]?
}

extension Authority {
    /// A fresh single-use nonce for `purpose` (enrollment, or device for authentication, renewal and
    /// rotation). Nothing is written (see `NonceMinter`).
    func issueNonce(purpose: String) -> (nonce: String, expiresAt: Int) {
        let stamp = nowSeconds
        let purge = lastNoncePurge.withLock { last in
            guard stamp - last >= 60 else { return false }
            last = stamp
            return true
        }
        if purge {
            // Spent nonces past their expiry are refused on the expiry alone; forgetting them keeps
            // the table small. At most once a minute, off the request's path.
            Task {
                do {
                    try await self.store.write { try await $0.purgeSpentNonces(before: stamp) }
                } catch {
                    self.logger.warning("purging spent nonces failed: \(error)")
                }
            }
        }
        let expiresAt = stamp + Self.nonceLifetime
        return (nonces.mint(purpose: purpose, expiresAt: expiresAt), expiresAt)
    }

    /// A group's rules, decoded from its settings JSON once per distinct text: the text is the key,
    /// so a changed group is decoded afresh and nothing needs invalidating.
    func enrollmentRules(_ settings: String) throws -> EnrollmentRules {
        if let rules = rulesCache.withLock({ $0[settings] }) { return rules }
        let rules = try Self.decode(EnrollmentRules.self, from: settings)
        rulesCache.withLock { cache in
            if cache.count >= 256 { cache.removeAll() }
            cache[settings] = rules
        }
        return rules
    }

    /// Verifies a proof of possession and returns the key it proves and its payload.
    func verifyPossession(_ token: String, expectedNonce: String) throws -> (PublicKey, DID, PossessionProof) {
        let (key, did, proof) = try verifySelfSigned(
            token, as: PossessionProof.self, mediaType: PossessionProof.mediaType, name: "proof of possession",
            shape: "{\"nonce\": …, \"group\": …}"
        )
        guard ConstantTime.equals(proof.nonce, expectedNonce) else {
            throw APIError.unauthorized("the proof of possession signs another nonce")
        }
        return (key, did, proof)
    }

    /// Verifies a JWS of type `mediaType` signed by the key its `kid` names (a did:key verification
    /// method) and decodes its payload. `name` and `shape` word the errors.
    func verifySelfSigned<Payload: Decodable>(
        _ token: String, as: Payload.Type, mediaType: String, name: String, shape: String
    ) throws -> (PublicKey, DID, Payload) {
        let jws: CompactJWS
        do {
            jws = try CompactJWS(parsing: token)
        } catch {
            throw APIError.badRequest("the \(name) is not a compact JWS: \(error)")
        }
        guard jws.header.typ == mediaType else {
            throw APIError.badRequest("the \(name) must have typ \(mediaType)")
        }
        guard jws.header.crit == nil else { throw APIError.badRequest("the \(name) must not carry crit") }
        guard let kid = jws.header.kid, let url = try? DIDURL(kid), url.did.method == "key",
            let key = try? url.did.didKeyPublicKey()
        else {
            throw APIError.badRequest("the \(name)'s kid must be the signing key's did:key verification method")
        }
        guard JWS.verify(jws, key: key) else {
            throw APIError.unauthorized("the \(name)'s signature does not verify with the key its kid names")
        }
        do {
            return (key, url.did, try jws.decodePayload(as: Payload.self))
        } catch {
            throw APIError.badRequest("the \(name)'s payload must be \(shape)")
        }
    }

    /// Parses and checks a CSR: PEM, signature, key type.
    func checkCSR(_ pem: String, allowed: [SigningKey.KeyType]) throws -> PublicKey {
        guard pem.utf8.count <= 16_384 else { throw APIError.badRequest("the CSR is larger than 16 KiB") }
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: pem)
        } catch {
            throw APIError.badRequest("the csr is not a PEM PKCS#10 certificate request")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw APIError.badRequest("the CSR's signature does not verify with its own key")
        }
        let key: PublicKey
        do {
            key = try PublicKey(certificateKey: csr.publicKey)
        } catch {
            throw APIError.unprocessable("the CSR's key type is not supported; use Ed25519 or P-256")
        }
        let type: SigningKey.KeyType? =
            switch key.algorithm {
            case .edDSA: .ed25519
            case .es256: .p256
            default: nil
            }
        guard let type, allowed.contains(type) else {
            throw APIError.unprocessable("this group accepts keys of type \(allowed.map(\.rawValue).joined(separator: ", ")) only")
        }
        return key
    }

    /// Enrolls a device. Every check runs before anything is written; the writes are one transaction.
    func enroll(_ request: EnrollmentRequest) async throws -> (EnrollmentBundle, created: Bool) {
        guard let groupRow = try await findGroup(request.group), groupRow.name == request.group || groupRow.id == request.group else {
            throw APIError.notFound("no enrollment group named \(request.group.prefix(64))")
        }
        guard groupRow.disabled == 0 else { throw APIError.forbidden("enrollment group \(groupRow.name) is disabled") }
        let rules = try enrollmentRules(groupRow.settings)

        let (proofKey, did, proof) = try verifyPossession(request.proof, expectedNonce: request.nonce)
        guard proof.group == request.group else {
            throw APIError.unauthorized("the proof of possession names group \(proof.group.prefix(64)), not \(request.group.prefix(64))")
        }
        let csrKey = try checkCSR(request.csr, allowed: rules.allowedKeyTypes)
        guard csrKey == proofKey else {
            throw APIError.badRequest("the CSR's key differs from the key of the proof of possession")
        }
        // Checked now (it answers the enrollment nonce, like the proof), recorded once the device exists.
        let measurement = try request.measurement.map { try openMeasurement($0, did: did.description, key: csrKey, nonce: request.nonce) }
        let attributes = request.attributes ?? [:]
        let attributeProblems = rules.attributeProblems(attributes)
        guard attributeProblems.isEmpty else { throw APIError.unprocessable(attributeProblems.joined(separator: "; ")) }

        var usesToken = false
        var factoryFingerprint: String?
        switch rules.attestation {
        case .claimToken:
            guard let token = request.attestation.claimToken, let hash = groupRow.tokenHash, Secrets.matches(token, digest: hash) else {
                throw APIError.unauthorized("the claim token is wrong for group \(groupRow.name)")
            }
            if let expiry = rules.tokenExpiresAt, expiry <= nowSeconds {
                throw APIError.unauthorized("the claim token of group \(groupRow.name) expired at \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(expiry))))")
            }
            usesToken = groupRow.tokenUsesLeft != nil
        case .manufacturerCA:
            factoryFingerprint = try await verifyFactoryEvidence(
                request.attestation, nonce: request.nonce, group: groupRow.name, enrolling: csrKey, rules: rules)
        }

        let takesTokenUse = usesToken
        let thumbprint = csrKey.thumbprint
        let nonceDigest = Secrets.digest(request.nonce)
        let stamp = nowSeconds
        let deviceID = Secrets.identifier("dev", now: now)
        let pending = rules.approval == .manual
        let device = DeviceRow(
            id: deviceID, groupId: groupRow.id, zone: rules.defaultZone, state: (pending ? DeviceState.pending : .active).rawValue,
            did: did.description, keyThumbprint: thumbprint, publicKey: try Self.json(csrKey.jwk),
            attributes: try Self.json(attributes), roles: try Self.json(rules.defaultRoles), previousDids: "[]",
            createdAt: stamp, updatedAt: stamp
        )
        // Sign before the transaction, so that the database is held only for the writes; but only
        // for a nonce that is there to be spent (the batch spends it for good).
        guard let nonceExpiresAt = nonces.expiry(of: request.nonce, purpose: "enrollment", now: stamp),
            try await store.read({ try await $0.spentNonces(digests: [nonceDigest]) }).isEmpty
        else {
            throw Self.staleEnrollmentNonce
        }
        let prepared: PreparedIdentity? =
            pending
            ? nil
            : try await prepareIdentity(
                device: device, key: csrKey, rules: rules, groupName: groupRow.name, statusIndex: try await reserveStatusIndex())
        let enrolled: (kind: String, subject: String, data: [String: JSONValue]) = (
            kind: pending ? "device.pending" : "device.enrolled", subject: deviceID,
            data: [
                "group": .string(groupRow.name), "did": .string(device.did), "keyThumbprint": .string(thumbprint),
                "attestation": .string(rules.attestation.rawValue),
            ]
        )
        let write = EnrollmentWrite(
            nonceDigest: nonceDigest, nonceExpiresAt: nonceExpiresAt, device: device, groupID: groupRow.id, groupName: groupRow.name, takesTokenUse: takesTokenUse,
            prepared: prepared, enrolledEvent: enrolled,
            factory: factoryFingerprint.map { (fingerprint: $0, limit: rules.devicesPerFactoryCertificate ?? 1) }
        )
        var bundle = try await enrollmentBatcher.submit(write) { writes in await self.writeEnrollments(writes) }
        if let measurement, bundle.deviceId == deviceID {
            bundle.firmware = try await recordMeasurement(measurement, device: device, phase: .enrollment)
        }
        return (await withTrustBundle(bundle), !pending)
    }

    /// One checked and signed enrollment, waiting to be written with others in one transaction.
    struct EnrollmentWrite: Sendable {
        var nonceDigest: String
        var nonceExpiresAt: Int
        var device: DeviceRow
        var groupID: String
        var groupName: String
        var takesTokenUse: Bool
        /// Nil for a pending (manual-approval) enrollment.
        var prepared: PreparedIdentity?
        var enrolledEvent: (kind: String, subject: String, data: [String: JSONValue])
        /// The factory certificate that vouched (SHA-256 of its DER, hex) and how many standing
        /// devices it may vouch for (manufacturer-ca groups).
        var factory: (fingerprint: String, limit: Int)?
    }

    /// Writes a batch of enrollments in one transaction. Each is answered on its own: one whose nonce
    /// is spent (also by another in the batch), whose key is enrolled (also by another in the batch)
    /// or whose token has no use left is refused and leaves no trace, not even a spent nonce; only the
    /// others are written. Statements are per batch, not per enrollment. When the batch fails as a
    /// whole (such as a unique key committed meanwhile by another node), each enrollment is tried
    /// again alone, so that one request's problem is not the others'.
    func writeEnrollments(_ writes: [EnrollmentWrite]) async -> [Result<EnrollmentBundle, any Error>] {
        do {
            return try await store.transaction { try await self.writeEnrollments(writes, in: $0) }
        } catch {
            guard writes.count > 1 else { return [.failure(error)] }
            var results: [Result<EnrollmentBundle, any Error>] = []
            for write in writes {
                results.append(contentsOf: await writeEnrollments([write]))
            }
            return results
        }
    }

    private func writeEnrollments(_ writes: [EnrollmentWrite], in session: StoreSession) async throws -> [Result<EnrollmentBundle, any Error>] {
        var results = [Result<EnrollmentBundle, any Error>?](repeating: nil, count: writes.count)
        let spentNonces = try await session.spentNonces(digests: writes.map(\.nonceDigest))
        let enrolledKeys = try await session.deviceIDs(keyThumbprints: writes.map(\.device.keyThumbprint))
        var spent: Set<String> = []
        var claimed: Set<String> = []
        var vouched: [String: Int] = [:]
        var accepted: [Int] = []
        for (index, write) in writes.enumerated() {
            let key = write.device.keyThumbprint
            // A nonce serves one request, even when two in one batch carry it.
            guard !spentNonces.contains(write.nonceDigest), spent.insert(write.nonceDigest).inserted else {
                results[index] = .failure(Self.staleEnrollmentNonce)
                continue
            }
            if let existing = enrolledKeys[key] {
                results[index] = .failure(APIError.conflict("this key is already enrolled as device \(existing)"))
                continue
            }
            guard !claimed.contains(key) else {
                results[index] = .failure(APIError.conflict("this key is being enrolled by another request"))
                continue
            }
            if let factory = write.factory {
                // Counted in the transaction, with the batch's own: one factory certificate
                // enrolls as many standing devices as its group allows (one by default).
                var standing = vouched[factory.fingerprint] ?? 0
                if vouched[factory.fingerprint] == nil { standing = try await session.standingDevices(factoryCertificate: factory.fingerprint) }
                guard standing < factory.limit else {
                    results[index] = .failure(APIError.conflict(
                        "this factory certificate already vouches for \(standing) device(s), as many as group \(write.groupName) allows; revoke or decommission the other first"))
                    continue
                }
                vouched[factory.fingerprint] = standing + 1
            }
            if write.takesTokenUse, try await !session.takeTokenUse(groupID: write.groupID) {
                results[index] = .failure(APIError.unauthorized("the claim token of group \(write.groupName) has no uses left"))
                continue
            }
            claimed.insert(key)
            accepted.append(index)
        }
        var written = accepted.map { writes[$0] }
        try await session.spendNonces(written.map { (digest: $0.nonceDigest, expiresAt: $0.nonceExpiresAt) })
        try await session.insert(devices: written.map(\.device))
        for write in written {
            if let factory = write.factory {
                try await session.recordFactoryCertificate(deviceID: write.device.id, fingerprint: factory.fingerprint, at: nowSeconds)
            }
        }
        let drafts = written.flatMap { write in
            Self.drafts([write.enrolledEvent] + (write.prepared?.events ?? []), actor: "device:\(write.device.id)")
        }
        // The events first, so that certificates and credentials are stored with their log indexes.
        let events = try await session.appendEvents(drafts, at: nowSeconds)
        var offset = 0
        for position in written.indices {
            let count = 1 + (written[position].prepared?.events.count ?? 0)
            written[position].prepared?.tie(to: events[offset + 1..<offset + count])
            offset += count
        }
        try await session.insert(certificates: written.compactMap { $0.prepared?.certificate })
        try await session.insert(credentials: written.flatMap { $0.prepared?.credentials ?? [] })
        for (index, write) in zip(accepted, written) {
            results[index] = .success(
                write.prepared?.bundle
                    ?? EnrollmentBundle(deviceId: write.device.id, did: write.device.did, state: write.device.state, roleCredentials: []))
        }
        return results.map { $0 ?? .failure(BatcherError.noAnswer) }
    }

    static let staleEnrollmentNonce = APIError.unauthorized(
        "the nonce is unknown, already used or expired; request a new one from POST /v1/enrollments/nonce"
    )

    /// What issuing an identity produces before anything is written: the signed certificate and
    /// credentials, their rows and events. Signing happens here, outside any transaction, so that the
    /// database (one connection on SQLite) is held only for the writes.
    struct PreparedIdentity: Sendable {
        var certificate: CertificateRow
        var credentials: [CredentialRow]
        var bundle: EnrollmentBundle
        /// `certificate.issued`, then `credential.issued`.
        var events: [(kind: String, subject: String, data: [String: JSONValue])]

        /// Records the log indexes of the appended `events` on the rows and in the bundle.
        mutating func tie(to appended: ArraySlice<EventRow>) {
            guard appended.count == 2, let certificateEvent = appended.first, let credentialEvent = appended.last else { return }
            certificate.logIndex = certificateEvent.seq - 1
            for position in credentials.indices {
                credentials[position].logIndex = credentialEvent.seq - 1
            }
            bundle.log = IssuanceLog(certificateIndex: LogEntry.index(of: certificateEvent), credentialIndex: LogEntry.index(of: credentialEvent))
        }
    }

    /// Issues certificate, identity credential and role credentials for an active device, inside
    /// `session` (lifecycle approval, renewal, rotation: the device row is read in the same transaction).
    func issueIdentity(
        _ session: StoreSession, device: DeviceRow, key: PublicKey, rules: EnrollmentRules, groupName: String, actor: String
    ) async throws -> EnrollmentBundle {
        // The next slot, at its keyed random position (as `reserveStatusIndex()` hands them out).
        let index = statusIndexes.index(ofSlot: try await session.next("status_index") - 1)
        let prepared = try await prepareIdentity(device: device, key: key, rules: rules, groupName: groupName, statusIndex: index)
        return try await commit(prepared, in: session, actor: actor)
    }

    /// Signs the certificate and credentials of `device`, with status entries at `statusIndex`.
    func prepareIdentity(
        device: DeviceRow, key: PublicKey, rules: EnrollmentRules, groupName: String, statusIndex index: Int
    ) async throws -> PreparedIdentity {
        let issuedAt = now
        var profile = CertificateAuthority.DeviceProfile(
            deviceID: device.id, did: device.did, spiffeID: "spiffe://\(trustDomain)/device/\(device.id)",
            publicKey: key.certificatePublicKey,
            notBefore: issuedAt.addingTimeInterval(-60), notAfter: issuedAt.addingTimeInterval(TimeInterval(rules.certificateValidity)),
            crlURL: publicURL + "/v1/pki/crl", ocspURL: publicURL + "/v1/pki/ocsp", issuerURL: publicURL + "/v1/pki/intermediate.crt"
        )
        profile.profile = rules.certificateProfile ?? .vouch
        let certificate = try ca.issueDeviceCertificate(profile)
        let pem = try certificate.serializeAsPEM().pemString + "\n"
        let serial = Hex.encode(certificate.serialNumber.bytes)
        let certificateRow = CertificateRow(
            serial: serial, deviceId: device.id, pem: pem, notBefore: Int(certificate.notValidBefore.timeIntervalSince1970),
            notAfter: Int(certificate.notValidAfter.timeIntervalSince1970)
        )
        let status = [
            CredentialStatusEntry(listURL: statusListURL(.revocation, index: index), index: index % Self.statusListSize, purpose: .revocation),
            CredentialStatusEntry(listURL: statusListURL(.suspension, index: index), index: index % Self.statusListSize, purpose: .suspension),
        ]
        let attributes = try Self.decode([String: String].self, from: device.attributes)
        let roles = try Self.decode([String].self, from: device.roles)
        var claims: [String: JSONValue] = [
            "deviceId": .string(device.id), "group": .string(groupName), "zone": .string(device.zone),
            "keyThumbprint": .string(device.keyThumbprint),
        ]
        let previousDIDs = try Self.decode([String].self, from: device.previousDids)
        if !previousDIDs.isEmpty {
            // A rotated device's earlier DIDs, so that a verifier can link the new identity to the old.
            claims["previousDids"] = .array(previousDIDs.map(JSONValue.string))
        }
        for (name, value) in attributes where claims[name] == nil {
            claims[name] = .string(value)
        }
        let validity = TimeInterval(rules.credentialValidity)
        // Vouch's terms are defined by its own context, pinned by digest (VC 2.0 §5.3).
        let context = VouchContext.url(authority: publicURL)
        let pinned: [JSONValue] = [["id": .string(context), "digestSRI": .string(VouchContext.digestSRI(url: context))]]
        let identity = try await issuer.issue(
            types: ["DeviceIdentityCredential"], subject: device.did, claims: claims, validFrom: issuedAt, validFor: validity, status: status,
            contexts: [context], relatedResources: pinned
        )
        func row(_ type: String, _ token: String) -> CredentialRow {
            CredentialRow(
                id: Secrets.identifier("vc", now: issuedAt), deviceId: device.id, type: type, token: token,
                statusIndex: index, issuedAt: Int(issuedAt.timeIntervalSince1970), expiresAt: Int(issuedAt.timeIntervalSince1970 + validity)
            )
        }
        var credentialRows = [row("DeviceIdentityCredential", identity)]
        var roleCredentials: [String] = []
        // Role credentials carry their capabilities under the policy in force, so that an offline
        // verifier decides as the server would (until the policy changes and the device renews).
        let policy = currentPolicy
        let facts = DeviceFacts(
            id: device.id, did: device.did, zone: device.zone, group: groupName, attributes: attributes, roles: roles, quarantined: false
        )
        for role in roles {
            var roleClaims: [String: JSONValue] = ["deviceId": .string(device.id), "role": .string(role), "zone": .string(device.zone)]
            if policy.version > 0 {
                roleClaims["capabilities"] = .array(policy.statements(role: role, for: facts).statements.map(\.json))
                roleClaims["policyVersion"] = .number(Double(policy.version))
            }
            let credential = try await issuer.issue(
                types: [AuthorizationSubject.roleCredentialType], subject: device.did, claims: roleClaims,
                validFrom: issuedAt, validFor: validity, status: status, contexts: [context], relatedResources: pinned
            )
            credentialRows.append(row("DeviceRoleCredential", credential))
            roleCredentials.append(credential)
        }
        return PreparedIdentity(
            certificate: certificateRow, credentials: credentialRows,
            bundle: EnrollmentBundle(
                deviceId: device.id, did: device.did, state: device.state, certificate: pem, chain: try ca.chainPEM,
                identityCredential: identity, roleCredentials: roleCredentials
            ),
            events: [
                (kind: "certificate.issued", subject: device.id, data: [
                    "serial": .string(serial), "notAfter": .string(RFC3339.format(certificate.notValidAfter)),
                ]),
                (kind: "credential.issued", subject: device.id, data: [
                    "types": .array((["DeviceIdentityCredential"] + roles.map { _ in "DeviceRoleCredential" }).map(JSONValue.string)),
                    "statusIndex": .number(Double(index)),
                ]),
            ]
        )
    }

    /// Writes a prepared identity and its events inside `session`.
    func commit(_ prepared: PreparedIdentity, in session: StoreSession, actor: String) async throws -> EnrollmentBundle {
        var prepared = prepared
        let events = try await record(session, actor: actor, events: prepared.events)
        prepared.tie(to: events[...])
        try await session.insert(certificates: [prepared.certificate])
        try await session.insert(credentials: prepared.credentials)
        return prepared.bundle
    }

    /// Adds log receipts to an answer whose change is committed: waits (at most the receipt
    /// timeout) for a checkpoint covering its issuance events. Without one in time the answer goes
    /// with the indexes alone; `GET /v1/log/proof/inclusion?index=` gives the receipt later.
    func withLogReceipts(_ bundle: EnrollmentBundle) async -> EnrollmentBundle {
        guard var issuance = bundle.log else { return bundle }
        let last = max(issuance.certificateIndex, issuance.credentialIndex)
        guard let checkpoint = await log.waitForCheckpoint(covering: last + 1, timeout: receiptTimeout) else {
            logger.warning("no checkpoint covered log entry \(last) within \(receiptTimeout); answering without receipts")
            return bundle
        }
        do {
            var receipts: [LogReceipt] = []
            for index in [issuance.certificateIndex, issuance.credentialIndex] {
                guard let receipt = try await log.receipt(index: index, checkpoint: checkpoint) else { return bundle }
                receipts.append(receipt)
            }
            issuance.receipts = receipts
        } catch {
            logger.error("building log receipts for device \(bundle.deviceId) failed: \(error)")
            return bundle
        }
        var bundle = bundle
        bundle.log = issuance
        return bundle
    }

    /// A status-list index for an enrollment: a slot from a block reserved in advance (one counter
    /// update per 64 enrollments instead of one each), placed at its keyed random position in its
    /// list. Slots of a block unused when the process stops stay unused, which costs nothing but a
    /// bit that is never set.
    func reserveStatusIndex() async throws -> Int {
        if let slot = statusIndexPool.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return statusIndexes.index(ofSlot: slot) }
        let block = Self.statusIndexBlock
        let last = try await store.transaction { try await $0.advance("status_index", by: block) }
        let reserved = (last - block)..<last
        statusIndexPool.withLock { $0.append(contentsOf: reserved.dropFirst()) }
        return statusIndexes.index(ofSlot: reserved.lowerBound)
    }

    /// Adds the signed trust bundle to an answer whose change is already committed. Failing to sign
    /// it must not turn a done change into an error the device would retry (a rotation, above all):
    /// the answer then goes without it, and the device fetches `GET /v1/trust-bundle`.
    func withTrustBundle(_ bundle: EnrollmentBundle) async -> EnrollmentBundle {
        guard bundle.certificate != nil else { return bundle }
        var bundle = bundle
        do {
            bundle.trustBundle = try await trustBundle()
        } catch {
            logger.error("signing the trust bundle for device \(bundle.deviceId) failed: \(error)")
        }
        return bundle
    }

    /// The URL of the status list holding `index` for `purpose`.
    func statusListURL(_ purpose: StatusPurpose, index: Int) -> String {
        "\(publicURL)/v1/status-lists/\(purpose.rawValue)-\(index / Self.statusListSize)"
    }

    /// Checks manufacturer evidence: the chain reaches one of the group's roots, no certificate in it
    /// is listed by a CRL the operator supplied for its issuer (nor is such a CRL out of date), and
    /// the factory key signed the labelled message over the nonce, the group and the key being
    /// enrolled. Returns the factory certificate's fingerprint (SHA-256 of its DER, hex).
    private func verifyFactoryEvidence(
        _ evidence: EnrollmentRequest.Attestation, nonce: String, group: String, enrolling key: PublicKey, rules: EnrollmentRules
    ) async throws -> String {
        guard let chain = evidence.certificateChain, !chain.isEmpty, chain.count <= 5 else {
            throw APIError.badRequest("manufacturer attestation needs certificateChain: the factory certificate first, then intermediates (at most 5)")
        }
        guard let signatureText = evidence.signature, let signature = Base64URL.decode(signatureText) else {
            throw APIError.badRequest("manufacturer attestation needs signature: the factory key's signature over the attestation message, base64url")
        }
        let certificates: [Certificate]
        do {
            certificates = try chain.map { try Certificate(pemEncoded: $0) }
        } catch {
            throw APIError.badRequest("certificateChain holds something that is not a PEM X.509 certificate")
        }
        let trusted = CertificateStore(try rules.manufacturerRoots.map { try Certificate(pemEncoded: $0) })
        var verifier = Verifier(rootCertificates: trusted) {
            RFC5280Policy()
        }
        let result = await verifier.validate(leaf: certificates[0], intermediates: CertificateStore(certificates.dropFirst()))
        guard case .validCertificate(let path) = result else {
            throw APIError.unauthorized("the factory certificate does not chain to a manufacturer root of this group")
        }
        let crls = try (rules.manufacturerCRLs ?? []).map { try RevocationListReader(pemOrDER: $0) }
        for (certificate, issuer) in zip(path, path.dropFirst()) {
            for crl in crls where crl.isSigned(by: issuer) {
                if let next = crl.nextUpdate, next < now {
                    throw APIError.unauthorized(
                        "the group's CRL of \(issuer.subject) expired at \(RFC3339.format(next)); an operator must supply a current one before this chain is trusted")
                }
                if crl.lists(certificate) {
                    throw APIError.unauthorized("the factory chain's certificate \(certificate.subject) is revoked by its issuer's CRL")
                }
            }
        }
        let message = FactoryAttestation.message(nonce: nonce, group: group, keyThumbprint: key.thumbprint)
        guard let factoryKey = try? PublicKey(certificateKey: certificates[0].publicKey), factoryKey.isValidSignature(signature, for: message) else {
            throw APIError.unauthorized(
                "the factory key's signature does not verify: it signs \"\(FactoryAttestation.label)\\n<nonce>\\n<group>\\n<thumbprint of the CSR's key>\"")
        }
        return Hex.encode(Array(SHA256.hash(data: try DERBytes.of(certificates[0]))))
    }
}
