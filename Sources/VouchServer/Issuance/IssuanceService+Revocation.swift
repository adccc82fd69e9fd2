import Foundation
import Synchronization
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
import X509

extension IssuanceService {
    /// The current CRL (DER). Regenerated whenever an event has been recorded since the last one, so
    /// a revocation is visible to the next request on every node, and at least hourly, so that its
    /// nextUpdate (a day ahead) never passes. The CRL number is the last event's sequence times 100,000
    /// plus the hour of issue modulo 100,000: it grows with every new CRL and is the same on every node.
    func certificateRevocationList() async throws -> [UInt8] {
        let seq = try await store.read { try await $0.counters.current(.events) }
        let hour = clock.seconds / 3600
        if let cached = revocationCache.withLock({ $0.crl }), cached.seq == seq, cached.hour == hour {
            return cached.der
        }
        // The sequence was read before the rows: the CRL holds at least what that sequence says, and a
        // later change moves the sequence past what is cached.
        let stamp = clock.seconds
        let rows = try await store.read { try await $0.certificates.revoked(unexpiredAt: stamp) }
        let entries = rows.compactMap { row -> RevokedCertificate? in
            guard let revokedAt = row.revokedAt, let serial = Hex.decode(row.serial), !serial.isEmpty else { return nil }
            return RevokedCertificate(
                serialNumber: Certificate.SerialNumber(bytes: ArraySlice(serial)),
                revocationDate: Date(timeIntervalSince1970: TimeInterval(revokedAt)),
                reason: row.reason ?? .unspecified
            )
        }
        let der = try ca.certificateRevocationList(revoked: entries, number: seq * 100_000 + hour % 100_000, now: clock.now, validity: 86_400)
        revocationCache.withLock { cache in
            if let cached = cache.crl, (cached.seq, cached.hour) > (seq, hour) { return }
            cache.crl = (seq, hour, der)
        }
        return der
    }

    /// The root's own CRL (DER), made once a day and valid for a week: the root has revoked no
    /// intermediate while this server runs on it. The CRL number is the day.
    func rootRevocationList() throws -> [UInt8] {
        let day = clock.seconds / 86_400
        if let cached = revocationCache.withLock({ $0.rootCRL }), cached.day == day { return cached.der }
        let der = try ca.rootRevocationList(rootKey: rootKey, number: day, now: Date(timeIntervalSince1970: TimeInterval(day * 86_400)))
        revocationCache.withLock { $0.rootCRL = (day, der) }
        return der
    }

    /// Answers an OCSP request (DER), or an OCSP error response for a malformed one.
    func ocsp(_ request: [UInt8]) async throws -> [UInt8] {
        let summary: OCSPRequestSummary
        do {
            summary = try OCSPRequestSummary(derEncoded: request)
        } catch {
            return CertificateAuthority.ocspErrorResponse(status: 1)
        }
        var statuses: [OCSPCertificateStatus] = []
        for id in summary.certificates {
            guard ca.issued(id) else {
                statuses.append(.unknown)
                continue
            }
            let serial = Hex.encode(id.serialNumber.bytes)
            let row = try await store.read { try await $0.certificates.find(serial: serial) }
            if let row {
                if let revokedAt = row.revokedAt {
                    statuses.append(.revoked(at: Date(timeIntervalSince1970: TimeInterval(revokedAt)), reason: row.reason ?? .unspecified))
                } else {
                    statuses.append(.good)
                }
            } else {
                statuses.append(.unknown)
            }
        }
        return try ca.ocspResponse(for: summary, statuses: statuses, now: clock.now)
    }

    /// The signed BitstringStatusListCredential with id `revocation-N` or `suspension-N`.
    /// `generation`, when the caller has just read it, saves reading it again.
    func statusListCredential(id: String, generation known: Int? = nil) async throws -> String {
        let parts = id.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let purpose = StatusPurpose(rawValue: String(parts[0])),
            purpose == .revocation || purpose == .suspension, let number = Int(parts[1]), number >= 0, number < 1_000_000,
            String(number) == parts[1]
        else {
            throw ServiceError.notFound("no status list \(id.prefix(64)); lists are named revocation-N or suspension-N")
        }
        // Rebuilt when the revocation generation moved (any change to status bits moves it, in the
        // same transaction) or hourly, so that a list is never served near the end of its day.
        let generation: Int
        if let known {
            generation = known
        } else {
            generation = try await store.read { try await $0.counters.current(.revocations) }
        }
        let hour = clock.seconds / 3600
        if let cached = revocationCache.withLock({ $0.statusLists[id] }), cached.generation == generation, cached.hour == hour {
            return cached.token
        }
        // Only lists in use are served (and so cached): list 0, and those that slots handed out reach.
        if number > 0 {
            let slots = try await store.read { try await $0.counters.current(.statusIndex) }
            guard number <= (slots - 1) / Self.statusListSize else {
                throw ServiceError.notFound("no status list \(id.prefix(64)): no credential has a bit in it")
            }
        }
        // The generation was read before the bits, so the list holds at least what it says.
        let range = (number * Self.statusListSize)..<((number + 1) * Self.statusListSize)
        let bits = try await store.read { try await $0.statusBits.set(purpose, in: range) }
        var list = try BitstringStatusList(size: Self.statusListSize)
        for bit in bits {
            try list.set(bit - range.lowerBound)
        }
        let token = try await StatusListCredential.issue(
            list, purpose: purpose, url: "\(publicURL)/v1/status-lists/\(id)", issuer: issuer, validFrom: clock.now, validFor: 86_400
        )
        revocationCache.withLock { cache in
            if let cached = cache.statusLists[id], (cached.generation, cached.hour) > (generation, hour) { return }
            // Bounded whatever is asked: stale lists go first, then any, to make room.
            if cache.statusLists[id] == nil, cache.statusLists.count >= RevocationCache.statusListLimit {
                cache.statusLists = cache.statusLists.filter { $0.value.generation == generation && $0.value.hour == hour }
                if cache.statusLists.count >= RevocationCache.statusListLimit { cache.statusLists.removeAll(keepingCapacity: true) }
            }
            cache.statusLists[id] = (generation, hour, token)
        }
        return token
    }

    /// A signed trust bundle: the issuer and its key, the CA certificates and the current status lists.
    /// Signed once per revocation generation and hour (it embeds the first status lists).
    func trustBundle() async throws -> String {
        let generation = try await store.read { try await $0.counters.current(.revocations) }
        let hour = clock.seconds / 3600
        let policy = self.policy.current
        if let cached = revocationCache.withLock({ $0.trustBundle }), cached.generation == generation, cached.hour == hour,
            cached.policyVersion == policy.version
        {
            return cached.token
        }
        let token = try await signTrustBundle(generation: generation, policy: policy)
        revocationCache.withLock { cache in
            if let cached = cache.trustBundle, (cached.generation, cached.policyVersion, cached.hour) > (generation, policy.version, hour) { return }
            cache.trustBundle = (generation, policy.version, hour, token)
        }
        return token
    }

    private func signTrustBundle(generation: Int, policy: CompiledPolicy) async throws -> String {
        let issued = clock.now
        let contents = TrustBundle.Contents(
            authority: DID(key: issuerKey.publicKey).description,
            issuedAt: issued,
            expiresAt: issued.addingTimeInterval(7 * 86_400),
            trustedIssuers: [TrustedIssuer(id: did.description, keys: [Self.keyWithID(issuerKey.publicKey.jwk, issuer.keyID)])],
            caCertificates: [try ca.root.serializeAsPEM().pemString, try ca.intermediate.serializeAsPEM().pemString],
            statusListCredentials: [
                try await statusListCredential(id: "revocation-0", generation: generation),
                try await statusListCredential(id: "suspension-0", generation: generation),
            ],
            statusListURLs: ["\(publicURL)/v1/status-lists/revocation-0", "\(publicURL)/v1/status-lists/suspension-0"],
            zones: policy.zoneRules
        )
        return try await TrustBundle.sign(contents, key: issuerKey)
    }

    static func keyWithID(_ jwk: JWK, _ kid: String) -> JWK {
        var jwk = jwk
        jwk.kid = kid
        return jwk
    }
}
