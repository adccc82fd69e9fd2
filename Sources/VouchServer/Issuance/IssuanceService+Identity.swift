import Foundation
import Logging
import SwiftASN1
import Synchronization
import VouchAPI
import VouchCore
import VouchKit
import VouchStore
import X509

extension IssuanceService {
    /// What issuing an identity produces before anything is written: the signed certificate and
    /// credentials, their rows and events. Signing happens here, outside any transaction, so that the
    /// database (one connection on SQLite) is held only for the writes.
    struct PreparedIdentity: Sendable {
        var certificate: CertificateRecord
        var credentials: [CredentialRecord]
        var bundle: EnrollmentBundle
        /// `certificate.issued`, then `credential.issued`.
        var events: [EventDraft]

        /// Records the log indexes of the appended `events` on the rows and in the bundle.
        mutating func tie(to appended: ArraySlice<EventRecord>) {
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
        _ session: StoreSession, device: DeviceRecord, key: PublicKey, group: GroupRecord, actor: String
    ) async throws -> EnrollmentBundle {
        // The next slot, at its keyed random position (as `reserveStatusIndex()` hands them out).
        let index = statusIndexes.index(ofSlot: try await session.counters.next(.statusIndex) - 1)
        let prepared = try await prepareIdentity(device: device, key: key, group: group, statusIndex: index)
        return try await commit(prepared, in: session, actor: actor)
    }

    /// Signs the certificate and credentials of `device`, with status entries at `statusIndex`.
    func prepareIdentity(
        device: DeviceRecord, key: PublicKey, group: GroupRecord, statusIndex index: Int
    ) async throws -> PreparedIdentity {
        let rules = group.rules
        let groupName = group.name
        let issuedAt = clock.now
        var profile = CertificateAuthority.DeviceProfile(
            deviceID: device.id, did: device.did, spiffeID: "spiffe://\(trustDomain)/device/\(device.id)",
            publicKey: key.certificatePublicKey,
            notBefore: issuedAt.addingTimeInterval(-60), notAfter: issuedAt.addingTimeInterval(TimeInterval(rules.certificateValidity)),
            crlURL: publicURL + Self.crlPath(generation: ca.generation), ocspURL: publicURL + "/v1/pki/ocsp",
            issuerURL: publicURL + Self.certificatePath(generation: ca.generation)
        )
        profile.profile = rules.certificateProfile ?? .vouch
        let certificate = try ca.issueDeviceCertificate(profile)
        let pem = try CertificateAuthority.pem(certificate) + "\n"
        let serial = Hex.encode(certificate.serialNumber.bytes)
        let certificateRow = CertificateRecord(
            serial: serial, deviceId: device.id, pem: pem, notBefore: Int(certificate.notValidBefore.timeIntervalSince1970),
            notAfter: Int(certificate.notValidAfter.timeIntervalSince1970)
        )
        let status = [
            CredentialStatusEntry(listURL: statusListURL(.revocation, index: index), index: index % Self.statusListSize, purpose: .revocation),
            CredentialStatusEntry(listURL: statusListURL(.suspension, index: index), index: index % Self.statusListSize, purpose: .suspension),
        ]
        let attributes = device.attributes
        let roles = device.roles
        var claims: [String: JSONValue] = [
            "deviceId": .string(device.id), "group": .string(groupName), "zone": .string(device.zone),
            "keyThumbprint": .string(device.keyThumbprint),
        ]
        let previousDIDs = device.previousDids
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
            types: [CredentialKind.identity.rawValue], subject: device.did, claims: claims, validFrom: issuedAt, validFor: validity, status: status,
            contexts: [context], relatedResources: pinned
        )
        func row(_ kind: CredentialKind, _ token: String) -> CredentialRecord {
            CredentialRecord(
                id: Secrets.identifier("vc", now: issuedAt), deviceId: device.id, kind: kind, token: token,
                statusIndex: index, issuedAt: Int(issuedAt.timeIntervalSince1970), expiresAt: Int(issuedAt.timeIntervalSince1970 + validity)
            )
        }
        var credentialRows = [row(.identity, identity)]
        var roleCredentials: [String] = []
        // Role credentials carry their capabilities under the policy in force, so that an offline
        // verifier decides as the server would (until the policy changes and the device renews).
        let policy = self.policy.current
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
            credentialRows.append(row(.role, credential))
            roleCredentials.append(credential)
        }
        return PreparedIdentity(
            certificate: certificateRow, credentials: credentialRows,
            bundle: EnrollmentBundle(
                deviceId: device.id, did: device.did, state: device.state.rawValue, certificate: pem, chain: ca.chainPEM,
                identityCredential: identity, roleCredentials: roleCredentials
            ),
            events: [
                EventDraft(kind: .certificateIssued, subject: device.id, data: [
                    "serial": .string(serial), "notAfter": .string(RFC3339.format(certificate.notValidAfter)),
                ]),
                EventDraft(kind: .credentialIssued, subject: device.id, data: [
                    "types": .array(([CredentialKind.identity] + roles.map { _ in CredentialKind.role }).map { .string($0.rawValue) }),
                    "statusIndex": .number(Double(index)),
                ]),
            ]
        )
    }

    /// Writes a prepared identity and its events inside `session`.
    func commit(_ prepared: PreparedIdentity, in session: StoreSession, actor: String) async throws -> EnrollmentBundle {
        var prepared = prepared
        let events = try await self.events.record(session, actor: actor, events: prepared.events)
        prepared.tie(to: events[...])
        try await session.certificates.insert([prepared.certificate])
        try await session.credentials.insert(prepared.credentials)
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
        let last = try await store.transaction { try await $0.counters.advance(.statusIndex, by: block) }
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

    /// What every path that issues to an existing device (renewal, rotation, approval) checks in
    /// its transaction: no step-up is pending, and a group that requires known-good firmware has
    /// one. Renewal and rotation need a `fresh` measurement answering their nonce; an operator's
    /// approval (no device on the line) goes by the latest one recorded.
    func checkGates(_ session: StoreSession, device: DeviceRecord, group: GroupRecord, fresh: FirmwareVerdict?, latestCounts: Bool = false) async throws {
        if let asked = try await session.stepUps.find(deviceID: device.id) {
            throw ServiceError.stepUpRequired(
                device, asked, "it is issued nothing until it attests known-good firmware (POST /v1/devices/self/attestation with {\"nonce\", \"measurement\"})")
        }
        guard group.rules.requireKnownFirmware == true else { return }
        if let fresh {
            guard fresh.status == .good else {
                throw ServiceError.conflict("group \(group.name) issues only to devices running known-good firmware; the measurement sent is \(fresh.status.rawValue): \(fresh.detail)")
            }
            return
        }
        if latestCounts {
            let report = try await session.firmware.report(deviceID: device.id)
            guard report?.status == .good else {
                throw ServiceError.conflict(
                    "group \(group.name) issues only to devices running known-good firmware; "
                        + (report.map { "the latest measurement (\($0.digest.prefix(16))…) is \($0.status.rawValue)" } ?? "this device has reported no measurement"))
            }
            return
        }
        throw ServiceError.conflict(
            "group \(group.name) issues only to devices running known-good firmware: send a measurement answering a nonce from POST /v1/auth/challenge with the request ({\"nonce\", \"measurement\"})")
    }
}
