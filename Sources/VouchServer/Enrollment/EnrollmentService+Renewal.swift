import Foundation
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

extension EnrollmentService {
    /// Renews an acting device's certificate and credentials for the key it already holds. A
    /// measurement sent with it must answer the request's nonce (spent here) and is recorded; the
    /// issuance gates decide (`checkIssuanceGates`).
    func renew(_ device: DeviceRecord, _ request: RenewalRequest = RenewalRequest()) async throws -> EnrollmentBundle {
        let verdict = try await firmware.freshMeasurement(request.measurement, nonce: request.nonce, by: device, phase: .renewal)
        var bundle = try await store.transaction { session in
            guard let row = try await session.devices.find(id: device.id, forUpdate: true), row.keyThumbprint == device.keyThumbprint else {
                throw ServiceError.conflict("device \(device.id) changed while renewing; try again")
            }
            guard row.state == .active else {
                throw ServiceError.conflict("device \(row.id) is \(row.state.rawValue); only an active device renews")
            }
            let group = try await GroupService.group(session, of: row)
            try await self.issuance.checkGates(session, device: row, group: group, fresh: verdict)
            let key = try PublicKey(jwk: row.publicKey)
            let actor = "device:\(row.id)"
            try await self.events.record(session, kind: .deviceRenewed, subject: row.id, actor: actor, data: ["keyThumbprint": .string(row.keyThumbprint)])
            return try await self.issuance.issueIdentity(session, device: row, key: key, group: group, actor: actor)
        }
        bundle.firmware = verdict
        return await issuance.withTrustBundle(bundle)
    }

    /// Replaces a device's key. Both keys sign the same proof over a fresh nonce; the device id is
    /// kept, the old certificates are revoked as superseded and the old credentials' revocation bits
    /// set, the new DID is linked to the old, and a new certificate and credentials are issued — one
    /// transaction with its events.
    func rotate(_ request: RotationRequest) async throws -> EnrollmentBundle {
        let (newKey, newDID, proof) = try deviceAuth.verifyDeviceProof(request.proof, nonce: request.nonce, purpose: .rotate)
        let (oldKey, _, previous) = try deviceAuth.verifyDeviceProof(request.previousKeyProof, nonce: request.nonce, purpose: .rotate)
        guard previous == proof else {
            throw ServiceError.invalidRequest("proof and previousKeyProof must sign the same payload")
        }
        guard let named = proof.newKeyThumbprint, ConstantTime.equals(named, newKey.thumbprint) else {
            throw ServiceError.invalidRequest("the proofs must name the new key's thumbprint in newKeyThumbprint")
        }
        guard newKey != oldKey else { throw ServiceError.invalidRequest("the new key must differ from the current key") }
        let device = try await deviceAuth.deviceHolding(oldKey, id: proof.deviceId, proofName: "previousKeyProof")
        guard device.state == .active else {
            throw ServiceError.conflict("device \(device.id) is \(device.state.rawValue); only an active device rotates its key")
        }
        let rules = try await store.read { try await GroupService.group($0, of: device) }.rules
        let csrKey = try checkCSR(request.csr, allowed: rules.allowedKeyTypes)
        guard csrKey == newKey else { throw ServiceError.invalidRequest("the CSR's key differs from the key that signed proof") }
        // A measurement (by the current key) answers the nonce, which is then spent with it, first.
        let verdict = try await firmware.freshMeasurement(request.measurement, nonce: request.measurement.map { _ in request.nonce }, by: device, phase: .rotation)

        var bundle = try await store.transaction { session in
            if request.measurement == nil {
                guard try await self.nonces.spendDeviceNonce(request.nonce, in: session) else { throw NonceService.stale }
            }
            guard var row = try await session.devices.find(id: device.id, forUpdate: true), row.keyThumbprint == device.keyThumbprint,
                row.state == device.state
            else {
                throw ServiceError.conflict("device \(device.id) changed while rotating; try again")
            }
            if let holder = try await session.devices.find(keyThumbprint: newKey.thumbprint) {
                throw ServiceError.conflict("the new key is already enrolled as device \(holder.id)")
            }
            let group = try await GroupService.group(session, of: row)
            try await self.issuance.checkGates(session, device: row, group: group, fresh: verdict)
            let stamp = self.clock.seconds
            let oldIndexes = try await session.credentials.statusIndexes(deviceID: row.id)
            let generation = try await session.counters.next(.revocations)
            let superseded = try await session.certificates.revoke(deviceID: row.id, at: stamp, reason: .superseded, generation: generation)
            try await session.statusBits.set(.revocation, indexes: oldIndexes, at: stamp, generation: generation)
            let oldDID = row.did
            row.previousDids.append(oldDID)
            row.did = newDID.description
            row.keyThumbprint = newKey.thumbprint
            row.publicKey = newKey.jwk
            row.updatedAt = stamp
            try await session.devices.update(row)
            let actor = "device:\(row.id)"
            try await self.events.record(session, kind: .deviceRotated, subject: row.id, actor: actor, data: [
                "previousDid": .string(oldDID), "did": .string(row.did), "keyThumbprint": .string(row.keyThumbprint),
                "supersededSerials": .array(superseded.map(JSONValue.string)),
            ])
            return try await self.issuance.issueIdentity(session, device: row, key: newKey, group: group, actor: actor)
        }
        directory.invalidate(device.id)
        bundle.firmware = verdict
        return await issuance.withTrustBundle(bundle)
    }
}
