import Crypto
import Foundation
import Logging
import SwiftASN1
import VouchAPI
import VouchCore
import VouchKit
import VouchStore
import X509

/// Zero-touch enrollment, and the reissues an enrolled device asks for (renewal, key rotation):
/// every check runs before anything is written, signing happens outside the transaction, and
/// enrollments that arrive together are written in one (see `Batcher`).
final class EnrollmentService: Sendable {
    let store: Store
    let groups: GroupService
    let nonces: NonceService
    let issuance: IssuanceService
    let firmware: FirmwareService
    let deviceAuth: DeviceAuthService
    let directory: DirectoryService
    let events: EventRecorder
    /// Group commit of enrollments (see `Batcher`).
    let batcher = Batcher<EnrollmentWrite, EnrollmentBundle>()

    var clock: ServerClock { events.clock }

    init(
        store: Store, groups: GroupService, nonces: NonceService, issuance: IssuanceService, firmware: FirmwareService,
        deviceAuth: DeviceAuthService, directory: DirectoryService, events: EventRecorder
    ) {
        self.store = store
        self.groups = groups
        self.nonces = nonces
        self.issuance = issuance
        self.firmware = firmware
        self.deviceAuth = deviceAuth
        self.directory = directory
        self.events = events
    }

    /// Verifies a proof of possession and returns the key it proves and its payload.
    func verifyPossession(_ token: String, expectedNonce: String) throws -> (PublicKey, DID, PossessionProof) {
        let (key, did, proof) = try SelfSignedProof.verify(
            token, as: PossessionProof.self, mediaType: PossessionProof.mediaType, name: "proof of possession",
            shape: "{\"nonce\": …, \"group\": …}"
        )
        guard ConstantTime.equals(proof.nonce, expectedNonce) else {
            throw ServiceError.unauthenticated("the proof of possession signs another nonce")
        }
        return (key, did, proof)
    }

    /// Parses and checks a CSR: PEM, signature, key type.
    func checkCSR(_ pem: String, allowed: [SigningKey.KeyType]) throws -> PublicKey {
        guard pem.utf8.count <= 16_384 else { throw ServiceError.invalidRequest("the CSR is larger than 16 KiB") }
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(pemEncoded: pem)
        } catch {
            throw ServiceError.invalidRequest("the csr is not a PEM PKCS#10 certificate request")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw ServiceError.invalidRequest("the CSR's signature does not verify with its own key")
        }
        let key: PublicKey
        do {
            key = try PublicKey(certificateKey: csr.publicKey)
        } catch {
            throw ServiceError.unprocessable("the CSR's key type is not supported; use Ed25519 or P-256")
        }
        let type: SigningKey.KeyType? =
            switch key.algorithm {
            case .edDSA: .ed25519
            case .es256: .p256
            default: nil
            }
        guard let type, allowed.contains(type) else {
            throw ServiceError.unprocessable("this group accepts keys of type \(allowed.map(\.rawValue).joined(separator: ", ")) only")
        }
        return key
    }

    /// Enrolls a device. Every check runs before anything is written; the writes are one transaction.
    func enroll(_ request: EnrollmentRequest) async throws -> (EnrollmentBundle, created: Bool) {
        // The group and whether the nonce is spent already, in one read: the nonce is checked after
        // the proof (its error is the one a replay earns), but read now, so that no enrollment
        // waits on the database twice before it signs. Reads by key, on this thread.
        let nonceDigest = Secrets.digest(request.nonce)
        let (found, nonceSpent) = try await store.readByKey { session in
            (try await GroupService.find(session, request.group), try await !session.nonces.spent(digests: [nonceDigest]).isEmpty)
        }
        guard let groupRow = found, groupRow.name == request.group || groupRow.id == request.group else {
            throw ServiceError.notFound("no enrollment group named \(request.group.prefix(64))")
        }
        guard !groupRow.disabled else { throw ServiceError.forbidden("enrollment group \(groupRow.name) is disabled") }
        let rules = groupRow.rules

        let (proofKey, did, proof) = try verifyPossession(request.proof, expectedNonce: request.nonce)
        guard proof.group == request.group else {
            throw ServiceError.unauthenticated("the proof of possession names group \(proof.group.prefix(64)), not \(request.group.prefix(64))")
        }
        let csrKey = try checkCSR(request.csr, allowed: rules.allowedKeyTypes)
        guard csrKey == proofKey else {
            throw ServiceError.invalidRequest("the CSR's key differs from the key of the proof of possession")
        }
        // Checked now (it answers the enrollment nonce, like the proof), recorded once the device exists.
        let measurement = try request.measurement.map { try firmware.openMeasurement($0, did: did.description, key: csrKey, nonce: request.nonce) }
        let attributes = request.attributes ?? [:]
        let attributeProblems = rules.attributeProblems(attributes)
        guard attributeProblems.isEmpty else { throw ServiceError.unprocessable(attributeProblems.joined(separator: "; ")) }

        var usesToken = false
        var factoryFingerprint: String?
        switch rules.attestation {
        case .claimToken:
            guard let token = request.attestation.claimToken, let hash = groupRow.tokenHash, Secrets.matches(token, digest: hash) else {
                throw ServiceError.unauthenticated("the claim token is wrong for group \(groupRow.name)")
            }
            if let expiry = rules.tokenExpiresAt, expiry <= clock.seconds {
                throw ServiceError.unauthenticated("the claim token of group \(groupRow.name) expired at \(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(expiry))))")
            }
            usesToken = groupRow.tokenUsesLeft != nil
        case .manufacturerCA:
            factoryFingerprint = try await verifyFactoryEvidence(
                request.attestation, nonce: request.nonce, group: groupRow.name, enrolling: csrKey, rules: rules)
        }

        let takesTokenUse = usesToken
        let jwk = csrKey.jwk
        let thumbprint = jwk.kid ?? csrKey.thumbprint
        let stamp = clock.seconds
        let deviceID = Secrets.identifier("dev", now: clock.now)
        let pending = rules.approval == .manual
        let device = DeviceRecord(
            id: deviceID, groupId: groupRow.id, zone: rules.defaultZone, state: pending ? .pending : .active,
            did: did.description, keyThumbprint: thumbprint, publicKey: jwk, attributes: attributes, roles: rules.defaultRoles, previousDids: [],
            createdAt: stamp, updatedAt: stamp
        )
        // Sign before the transaction, so that the database is held only for the writes; but only
        // for a nonce that is there to be spent (the batch spends it for good).
        guard let nonceExpiresAt = nonces.expiry(of: request.nonce, purpose: .enrollment), !nonceSpent else {
            throw Self.staleEnrollmentNonce
        }
        let prepared: IssuanceService.PreparedIdentity? =
            pending
            ? nil
            : try await issuance.prepareIdentity(
                device: device, key: csrKey, group: groupRow, statusIndex: try await issuance.reserveStatusIndex())
        let enrolled = EventDraft(
            kind: pending ? .devicePending : .deviceEnrolled, subject: deviceID,
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
        var bundle = try await batcher.submit(write) { writes in await self.writeEnrollments(writes) }
        if let measurement, bundle.deviceId == deviceID {
            bundle.firmware = try await firmware.recordMeasurement(measurement, device: device, phase: .enrollment)
        }
        return (await issuance.withTrustBundle(bundle), !pending)
    }

    /// Checks manufacturer evidence: the chain reaches one of the group's roots, no certificate in it
    /// is listed by a CRL the operator supplied for its issuer (nor is such a CRL out of date), and
    /// the factory key signed the labelled message over the nonce, the group and the key being
    /// enrolled. Returns the factory certificate's fingerprint (SHA-256 of its DER, hex).
    private func verifyFactoryEvidence(
        _ evidence: EnrollmentRequest.Attestation, nonce: String, group: String, enrolling key: PublicKey, rules: EnrollmentRules
    ) async throws -> String {
        guard let chain = evidence.certificateChain, !chain.isEmpty, chain.count <= 5 else {
            throw ServiceError.invalidRequest("manufacturer attestation needs certificateChain: the factory certificate first, then intermediates (at most 5)")
        }
        guard let signatureText = evidence.signature, let signature = Base64URL.decode(signatureText) else {
            throw ServiceError.invalidRequest("manufacturer attestation needs signature: the factory key's signature over the attestation message, base64url")
        }
        let certificates: [Certificate]
        do {
            certificates = try chain.map { try Certificate(pemEncoded: $0) }
        } catch {
            throw ServiceError.invalidRequest("certificateChain holds something that is not a PEM X.509 certificate")
        }
        let trusted = CertificateStore(try rules.manufacturerRoots.map { try Certificate(pemEncoded: $0) })
        var verifier = Verifier(rootCertificates: trusted) {
            RFC5280Policy()
        }
        let result = await verifier.validate(leaf: certificates[0], intermediates: CertificateStore(certificates.dropFirst()))
        guard case .validCertificate(let path) = result else {
            throw ServiceError.unauthenticated("the factory certificate does not chain to a manufacturer root of this group")
        }
        let crls = try (rules.manufacturerCRLs ?? []).map { try RevocationListReader(pemOrDER: $0) }
        for (certificate, issuer) in zip(path, path.dropFirst()) {
            for crl in crls where crl.isSigned(by: issuer) {
                if let next = crl.nextUpdate, next < clock.now {
                    throw ServiceError.unauthenticated(
                        "the group's CRL of \(issuer.subject) expired at \(RFC3339.format(next)); an operator must supply a current one before this chain is trusted")
                }
                if crl.lists(certificate) {
                    throw ServiceError.unauthenticated("the factory chain's certificate \(certificate.subject) is revoked by its issuer's CRL")
                }
            }
        }
        let message = FactoryAttestation.message(nonce: nonce, group: group, keyThumbprint: key.thumbprint)
        guard let factoryKey = try? PublicKey(certificateKey: certificates[0].publicKey), factoryKey.isValidSignature(signature, for: message) else {
            throw ServiceError.unauthenticated(
                "the factory key's signature does not verify: it signs \"\(FactoryAttestation.label)\\n<nonce>\\n<group>\\n<thumbprint of the CSR's key>\"")
        }
        return Hex.encode(Array(SHA256.hash(data: try DERBytes.of(certificates[0]))))
    }

    /// The enrollment `id` as its device polls it: its state, and once approved its certificate and
    /// credentials. Only for the key the device holds (`keyThumbprint`, from its DPoP proof): whoever
    /// does not hold it learns nothing, not even whether the id exists.
    func enrollment(id: String, heldBy keyThumbprint: String) async throws -> EnrollmentBundle {
        let unknown = ServiceError.notFound("no enrollment \(id.prefix(64)) for the key that signed the DPoP proof")
        guard let row = try await store.read({ try await $0.devices.find(id: id) }) else { throw unknown }
        guard ConstantTime.equals(keyThumbprint, row.keyThumbprint) else { throw unknown }
        let (certificates, credentials) = try await store.read { session in
            (try await session.certificates.of(deviceID: row.id), try await session.credentials.of(deviceID: row.id))
        }
        let current = certificates.last { $0.revokedAt == nil }
        let identity = credentials.last { $0.kind == .identity }
        let roles = identity.map { identity in credentials.filter { $0.kind == .role && $0.statusIndex == identity.statusIndex }.map(\.token) } ?? []
        var bundle = EnrollmentBundle(
            deviceId: row.id, did: row.did, state: row.state.rawValue, certificate: current?.pem,
            chain: current == nil ? nil : issuance.ca.chainPEM, identityCredential: current == nil ? nil : identity?.token,
            roleCredentials: current == nil ? [] : roles
        )
        if let certificateIndex = current?.logIndex, let credentialIndex = identity?.logIndex {
            bundle.log = IssuanceLog(certificateIndex: UInt64(certificateIndex), credentialIndex: UInt64(credentialIndex))
        }
        return bundle
    }
}
