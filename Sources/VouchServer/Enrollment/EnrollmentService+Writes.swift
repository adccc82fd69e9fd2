import Foundation
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

extension EnrollmentService {
    /// One checked and signed enrollment, waiting to be written with others in one transaction.
    struct EnrollmentWrite: Sendable {
        var nonceDigest: String
        var nonceExpiresAt: Int
        var device: DeviceRecord
        var groupID: String
        var groupName: String
        var takesTokenUse: Bool
        /// Nil for a pending (manual-approval) enrollment.
        var prepared: IssuanceService.PreparedIdentity?
        var enrolledEvent: EventDraft
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
        let spentNonces = try await session.nonces.spent(digests: writes.map(\.nonceDigest))
        let enrolledKeys = try await session.devices.ids(keyThumbprints: writes.map(\.device.keyThumbprint))
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
                results[index] = .failure(ServiceError.conflict("this key is already enrolled as device \(existing)"))
                continue
            }
            guard !claimed.contains(key) else {
                results[index] = .failure(ServiceError.conflict("this key is being enrolled by another request"))
                continue
            }
            if let factory = write.factory {
                // Counted in the transaction, with the batch's own: one factory certificate
                // enrolls as many standing devices as its group allows (one by default).
                var standing = vouched[factory.fingerprint] ?? 0
                if vouched[factory.fingerprint] == nil { standing = try await session.devices.standing(factoryCertificate: factory.fingerprint) }
                guard standing < factory.limit else {
                    results[index] = .failure(ServiceError.conflict(
                        "this factory certificate already vouches for \(standing) device(s), as many as group \(write.groupName) allows; revoke or decommission the other first"))
                    continue
                }
                vouched[factory.fingerprint] = standing + 1
            }
            if write.takesTokenUse, try await !session.groups.takeTokenUse(groupID: write.groupID) {
                results[index] = .failure(ServiceError.unauthenticated("the claim token of group \(write.groupName) has no uses left"))
                continue
            }
            claimed.insert(key)
            accepted.append(index)
        }
        var written = accepted.map { writes[$0] }
        try await session.nonces.spend(written.map { (digest: $0.nonceDigest, expiresAt: $0.nonceExpiresAt) })
        try await session.devices.insert(written.map(\.device))
        for write in written {
            if let factory = write.factory {
                try await session.devices.recordFactoryCertificate(deviceID: write.device.id, fingerprint: factory.fingerprint, at: clock.seconds)
            }
        }
        let drafts = try written.flatMap { write in
            try EventRecorder.checked([write.enrolledEvent] + (write.prepared?.events ?? []), actor: "device:\(write.device.id)")
        }
        // The events first, so that certificates and credentials are stored with their log indexes.
        let events = try await session.events.append(drafts, at: clock.seconds)
        var offset = 0
        for position in written.indices {
            let count = 1 + (written[position].prepared?.events.count ?? 0)
            written[position].prepared?.tie(to: events[offset + 1..<offset + count])
            offset += count
        }
        try await session.certificates.insert(written.compactMap { $0.prepared?.certificate })
        try await session.credentials.insert(written.flatMap { $0.prepared?.credentials ?? [] })
        for (index, write) in zip(accepted, written) {
            results[index] = .success(
                write.prepared?.bundle
                    ?? EnrollmentBundle(deviceId: write.device.id, did: write.device.did, state: write.device.state.rawValue, roleCredentials: []))
        }
        return results.map { $0 ?? .failure(BatcherError.noAnswer) }
    }

    static let staleEnrollmentNonce = ServiceError.unauthenticated(
        "the nonce is unknown, already used or expired; request a new one from POST /v1/enrollments/nonce"
    )
}
