import Crypto
import Foundation
import Synchronization
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
import X509

extension IssuanceService {
    /// The current CRL (DER), from the revocation state: made again when a certificate's revocation
    /// changed (so a revocation shows on the next request, on every node) and at least hourly (its
    /// nextUpdate is a day ahead). Entries are encoded once, when the revocation is taken up, so a
    /// new CRL costs a concatenation and a signature however large the fleet. The CRL number is the
    /// hour of issue times 2^32 plus the generation of the last certificate change: it grows with every
    /// new CRL, is the same on every node, and is above every number of the former scheme.
    ///
    /// Each issuing CA in use (see `issuingCAs`) signs its own, listing every revoked certificate of
    /// the authority: serial numbers are random 159-bit values, so an entry issued by the other
    /// matches nothing.
    func certificateRevocationList(of authority: CertificateAuthority) async throws -> [UInt8] {
        try await revocations.sync()
        let hour = clock.seconds / 3600
        let issuer = authority.generation
        if let cached = revocationCache.withLock({ $0.crls[issuer] }), cached.generation == revocations.certificatesGeneration, cached.hour == hour {
            return cached.der
        }
        // Entries of certificates expired by the start of the hour are left out, the same on every node.
        let contents = revocations.crl(unexpiredAt: hour * 3600)
        let generation = contents.generation
        // Hashing a large CRL takes milliseconds: not on the cooperative pool.
        let der = try await withTaskExecutorPreference(signingThread) {
            try authority.certificateRevocationList(
                encodedEntries: contents.entries, number: hour << 32 | (generation & 0xFFFF_FFFF), now: self.clock.now, validity: 86_400)
        }
        revocationCache.withLock { cache in
            if let cached = cache.crls[issuer], (cached.generation, cached.hour) > (generation, hour) { return }
            cache.crls[issuer] = (generation, hour, der)
        }
        return der
    }

    /// The root's own CRL (DER): the root has revoked no intermediate while this server runs on it.
    /// With the root key here, made once a day and valid for a week (the CRL number is the day's
    /// first second);
    /// without it, the one signed offline (see `RootRevocationLists`).
    func rootRevocationList() throws -> [UInt8] {
        try rootCRLs.current(now: clock.now)
    }

    /// How long a signed OCSP answer is valid (nextUpdate − thisUpdate).
    static let ocspValidity = 600
    /// How long a signed answer is handed out again while the statuses it states hold: half its
    /// validity, so that what is served always has at least five minutes left.
    static let ocspReuse = 300

    /// Answers an OCSP request (DER), or an OCSP error response for a malformed one. A signed answer
    /// is kept per request and handed out again while every certificate it names has the status it
    /// states (checked against the revocation state on every request, so a revocation shows on the
    /// very next one) and it is younger than `ocspReuse`; requests with a nonce, or naming a
    /// certificate this authority does not know, are signed each time. `path` is the encoded form
    /// a GET carried the request in: a kept answer is then found by it too (`ocsp(path:decode:)`).
    func ocsp(_ request: [UInt8], path: String? = nil) async throws -> OCSPAnswer {
        let now = clock.seconds
        try await revocations.sync()
        return try await ocspAfterSync(request, path: path, now: now)
    }

    private func ocspAfterSync(_ request: [UInt8], path: String?, now: Int) async throws -> OCSPAnswer {
        if let cached = ocspCache.withLock({ $0.entries[request] }), let answer = stillStanding(cached, now: now) {
            if let path { ocspCache.withLock { Self.remember(path, for: request, in: &$0) } }
            return answer
        }
        let summary: OCSPRequestSummary
        do {
            summary = try OCSPRequestSummary(derEncoded: request)
        } catch {
            return OCSPAnswer(der: CertificateAuthority.ocspErrorResponse(status: 1))
        }
        // Read before the statuses: a revocation applied meanwhile moves it, and the answer is then
        // checked status by status when handed out again.
        let generation = revocations.certificatesGeneration
        var statuses: [(serial: String, status: OCSPCertificateStatus)] = []
        var newerThanState = false
        // The responder of the issuing CA the request names answers (a delegated responder speaks
        // only for its own CA); what another issued is unknown to it.
        let signer = issuingCAs.first { authority in summary.certificates.contains { authority.issued($0) } } ?? ca
        for id in summary.certificates {
            let serial = Hex.encode(id.serialNumber.bytes)
            guard signer.issued(id) else {
                statuses.append((serial, .unknown))
                continue
            }
            if let revoked = revokedStatus(of: serial) {
                statuses.append((serial, revoked))
            } else if let row = try await store.read({ try await $0.certificates.find(serial: serial) }),
                // With two issuing CAs, a certificate the other issued is unknown to this one.
                previousCA == nil || (try? Certificate(pemEncoded: row.pem))?.issuer == signer.intermediate.subject
            {
                // Good as of the state's generation; the row, read after it, may be newer: it wins,
                // and an answer that the state does not back yet is not kept.
                if let revokedAt = row.revokedAt {
                    statuses.append((serial, .revoked(at: Date(timeIntervalSince1970: TimeInterval(revokedAt)), reason: row.reason ?? .unspecified)))
                    newerThanState = true
                } else {
                    statuses.append((serial, .good))
                }
            } else {
                statuses.append((serial, .unknown))
            }
        }
        let der = try signer.ocspResponse(
            for: summary, statuses: statuses.map(\.status), now: Date(timeIntervalSince1970: TimeInterval(now)),
            validity: TimeInterval(Self.ocspValidity))
        let keep = summary.nonce == nil && !newerThanState && !statuses.contains { $0.status == .unknown }
        guard keep else { return OCSPAnswer(der: der) }
        let entry = OCSPCache.Entry(
            statuses: statuses, generation: generation, producedAt: now, der: der,
            etag: "\"" + Hex.encode(Array(SHA256.hash(data: der).prefix(16))) + "\"",
            lastModified: HTTPDate.format(now), expires: HTTPDate.format(now + Self.ocspValidity))
        ocspCache.withLock { cache in
            if cache.entries[request] == nil, cache.entries.count >= OCSPCache.limit {
                // Bounded whatever is asked: aged answers go first, then all, to make room.
                cache.entries = cache.entries.filter { now - $0.value.producedAt < Self.ocspReuse }
                if cache.entries.count >= OCSPCache.limit { cache.entries.removeAll(keepingCapacity: true) }
                cache.paths.removeAll(keepingCapacity: true)
            }
            cache.entries[request] = entry
            if let path { Self.remember(path, for: request, in: &cache) }
        }
        return OCSPAnswer(entry, validity: Self.ocspValidity)
    }

    /// OCSP by GET: the kept answer to the request `path` carried if there is one that still
    /// stands (no decoding), else the request `decode` makes of it answered as `ocsp(_:path:)`
    /// does. The revocation state is caught up once, and only for a path that is kept or decodes.
    func ocsp(path: String, decode: () throws -> [UInt8]) async throws -> OCSPAnswer {
        let now = clock.seconds
        let kept = ocspCache.withLock { cache in cache.paths[path].flatMap { cache.entries[$0] } }
        let request = kept == nil ? try decode() : nil
        try await revocations.sync()
        if let kept, let answer = stillStanding(kept, now: now) { return answer }
        return try await ocspAfterSync(try request ?? decode(), path: path, now: now)
    }

    /// The kept answer, if it is young enough and every status it states still holds: at once
    /// when no revocation has changed since it was made, else certificate by certificate.
    private func stillStanding(_ cached: OCSPCache.Entry, now: Int) -> OCSPAnswer? {
        guard now - cached.producedAt < Self.ocspReuse, now >= cached.producedAt else { return nil }
        guard cached.generation == revocations.certificatesGeneration
            || cached.statuses.allSatisfy({ (revokedStatus(of: $0.serial) ?? .good) == $0.status })
        else { return nil }
        return OCSPAnswer(cached, validity: Self.ocspValidity)
    }

    private static func remember(_ path: String, for request: [UInt8], in cache: inout OCSPCache) {
        guard cache.paths[path] == nil, path.utf8.count <= 1024 else { return }
        if cache.paths.count >= OCSPCache.limit { cache.paths.removeAll(keepingCapacity: true) }
        cache.paths[path] = request
    }

    /// What OCSP states for a certificate the revocation state holds as revoked or held; nil if it does not.
    private func revokedStatus(of serial: String) -> OCSPCertificateStatus? {
        revocations.revoked(serial: serial).map { .revoked(at: Date(timeIntervalSince1970: TimeInterval($0.revokedAt)), reason: $0.reason) }
    }

    /// The signed BitstringStatusListCredential with id `revocation-N` or `suspension-N`.
    func statusListCredential(id: String) async throws -> String {
        let parts = id.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let purpose = StatusPurpose(rawValue: String(parts[0])),
            purpose == .revocation || purpose == .suspension, let number = Int(parts[1]), number >= 0, number < 1_000_000,
            String(number) == parts[1]
        else {
            throw ServiceError.notFound("no status list \(id.prefix(64)); lists are named revocation-N or suspension-N")
        }
        // Made again when one of its bits changed or hourly, so that a list is never served near the
        // end of its day; from the revocation state, never from the table.
        try await revocations.sync()
        let key = RevocationState.ListKey(purpose: purpose, number: number)
        let hour = clock.seconds / 3600
        if let cached = revocationCache.withLock({ $0.statusLists[id] }), cached.generation == revocations.generation(of: key), cached.hour == hour {
            return cached.token
        }
        // Only lists in use are served (and so cached): list 0, and those that slots handed out reach.
        if number > 0 {
            let slots = try await store.read { try await $0.counters.current(.statusIndex) }
            guard number <= (slots - 1) / Self.statusListSize else {
                throw ServiceError.notFound("no status list \(id.prefix(64)): no credential has a bit in it")
            }
        }
        let (generation, offsets) = revocations.bits(of: key)
        // Setting the bits and compressing the list: not on the cooperative pool.
        let token = try await withTaskExecutorPreference(signingThread) {
            var list = try BitstringStatusList(size: Self.statusListSize)
            for offset in offsets {
                try list.set(offset)
            }
            return try await StatusListCredential.issue(
                list, purpose: purpose, url: "\(self.publicURL)/v1/status-lists/\(id)", issuer: self.issuer, validFrom: self.clock.now, validFor: 86_400
            )
        }
        revocationCache.withLock { cache in
            if let cached = cache.statusLists[id], (cached.generation, cached.hour) > (generation, hour) { return }
            // Bounded whatever is asked: stale lists go first, then any, to make room.
            if cache.statusLists[id] == nil, cache.statusLists.count >= RevocationCache.statusListLimit {
                cache.statusLists = cache.statusLists.filter { $0.value.hour == hour }
                if cache.statusLists.count >= RevocationCache.statusListLimit { cache.statusLists.removeAll(keepingCapacity: true) }
            }
            cache.statusLists[id] = (generation, hour, token)
        }
        return token
    }

    /// A signed trust bundle: the issuer and its key, the CA certificates and the current status lists.
    /// Signed once per revocation generation and hour (it embeds the first status lists).
    func trustBundle() async throws -> String {
        try await revocations.sync()
        let generations = [revocations.generation(of: .init(purpose: .revocation, number: 0)), revocations.generation(of: .init(purpose: .suspension, number: 0))]
        let hour = clock.seconds / 3600
        let policy = self.policy.current
        if let cached = revocationCache.withLock({ $0.trustBundle }), cached.generations == generations, cached.hour == hour,
            cached.policyVersion == policy.version
        {
            return cached.token
        }
        let token = try await signTrustBundle(policy: policy)
        revocationCache.withLock { cache in
            if let cached = cache.trustBundle, cached.hour > hour || (cached.hour == hour && cached.policyVersion > policy.version) { return }
            cache.trustBundle = (generations, policy.version, hour, token)
        }
        return token
    }

    private func signTrustBundle(policy: CompiledPolicy) async throws -> String {
        let issued = clock.now
        let contents = TrustBundle.Contents(
            authority: DID(key: issuerKey.publicKey).description,
            issuedAt: issued,
            expiresAt: issued.addingTimeInterval(7 * 86_400),
            trustedIssuers: [TrustedIssuer(id: did.description, keys: [Self.keyWithID(issuerKey.publicKey.jwk, issuer.keyID)])],
            caCertificates: try [ca.root.serializeAsPEM().pemString] + issuingCAs.map { try $0.intermediate.serializeAsPEM().pemString },
            statusListCredentials: [
                try await statusListCredential(id: "revocation-0"),
                try await statusListCredential(id: "suspension-0"),
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

/// An OCSP answer (DER) and what an HTTP cache may do with it.
struct OCSPAnswer: Sendable {
    var der: [UInt8]
    /// Set for an answer that HTTP caches may keep (no nonce, every certificate known): its
    /// validator, when it was produced and when it stops being valid (nextUpdate), and those two
    /// as HTTP dates.
    var etag: String?
    var producedAt: Int = 0
    var nextUpdate: Int = 0
    var lastModified = ""
    var expires = ""

    /// The longest an HTTP cache may keep an answer without asking again.
    static let httpMaxAge = 60
    static let cacheControl = "max-age=\(httpMaxAge), public, no-transform, must-revalidate"
    /// The path OCSP requests by GET come under, the encoded request after it.
    static let getPrefix = "/v1/pki/ocsp/"

    init(der: [UInt8]) {
        self.der = der
    }

    init(_ entry: OCSPCache.Entry, validity: Int) {
        der = entry.der
        etag = entry.etag
        producedAt = entry.producedAt
        nextUpdate = entry.producedAt + validity
        lastModified = entry.lastModified
        expires = entry.expires
    }
}
