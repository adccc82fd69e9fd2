import Foundation
import Testing
import VouchCore
import VouchKit
import VouchStore

extension RepositoryConformance {
    func certificates() async throws {
        let certificates = [
            CertificateRecord(serial: "0a", deviceId: "dev_2", pem: "pem-a", notBefore: 100, notAfter: 1_000, logIndex: 7),
            CertificateRecord(serial: "0b", deviceId: "dev_2", pem: "pem-b", notBefore: 200, notAfter: 2_000),
            CertificateRecord(serial: "0c", deviceId: "dev_1", pem: "pem-c", notBefore: 150, notAfter: 500),
            // Superseded by a key rotation before anything else happened: holds never touch it.
            CertificateRecord(serial: "0d", deviceId: "dev_2", pem: "pem-d", notBefore: 50, notAfter: 3_000, revokedAt: 60, reason: .superseded),
        ]
        try await store.transaction { try await $0.certificates.insert(certificates) }
        #expect(try await store.read { try await $0.certificates.find(serial: "0a") } == certificates[0])
        #expect(try await store.read { try await $0.certificates.of(deviceID: "dev_2") } == [certificates[3], certificates[0], certificates[1]])
        // A hold: every good certificate of the device, reason certificateHold.
        let held = try await store.transaction { try await $0.certificates.revoke(deviceID: "dev_2", at: 300, reason: .certificateHold, generation: 1) }
        #expect(held.sorted() == ["0a", "0b"])
        let onHold = try #require(try await store.read { try await $0.certificates.find(serial: "0b") })
        #expect(onHold.isOnHold && onHold.revokedAt == 300 && onHold.reason == .certificateHold)
        // Nothing good is left to hold again.
        #expect(try await store.transaction { try await $0.certificates.revoke(deviceID: "dev_2", at: 301, reason: .certificateHold, generation: 2) }.isEmpty)
        // Lifting the hold makes them good again.
        #expect(try await store.transaction { try await $0.certificates.resolveHolds(deviceID: "dev_2", at: 310, revokingFor: nil, generation: 3) }.sorted() == ["0a", "0b"])
        let lifted = certificates.map { record -> CertificateRecord in
            var record = record
            if record.revokedAt == nil { record.revocationGeneration = 3 }
            return record
        }
        #expect(try await store.read { try await $0.certificates.of(deviceID: "dev_2") } == [lifted[3], lifted[0], lifted[1]])
        // What changed after generation 2: the lifted holds, good again, with the generation that lifted them.
        let changes = try await store.read { try await $0.certificates.revocationChanges(after: 2) }
        #expect(changes.map(\.serial).sorted() == ["0a", "0b"] && changes.allSatisfy { $0.revokedAt == nil && $0.revocationGeneration == 3 })
        #expect(try await store.read { try await $0.certificates.revocationChanges(after: 3) }.isEmpty)
        #expect(try await store.read { try await $0.certificates.latestRevocationGeneration() } == 3)
        // Held again, then revoked for a reason: the holds become that revocation.
        try await store.transaction { _ = try await $0.certificates.revoke(deviceID: "dev_2", at: 320, reason: .certificateHold, generation: 4) }
        #expect(try await store.transaction { try await $0.certificates.resolveHolds(deviceID: "dev_2", at: 330, revokingFor: .keyCompromise, generation: 5) }.count == 2)
        let revoked = try #require(try await store.read { try await $0.certificates.find(serial: "0a") })
        #expect(revoked.reason == .keyCompromise && revoked.revokedAt == 330 && !revoked.isOnHold)
        // The CRL's entries: revoked and not expired at the time asked.
        try await store.transaction { _ = try await $0.certificates.revoke(deviceID: "dev_1", at: 340, reason: .superseded, generation: 6) }
        #expect(try await store.read { try await $0.certificates.find(serial: "0d") } == certificates[3])
        #expect(try await store.read { try await $0.certificates.revoked(unexpiredAt: 400) }.map(\.serial) == ["0a", "0b", "0c", "0d"])
        #expect(try await store.read { try await $0.certificates.revoked(unexpiredAt: 600) }.map(\.serial) == ["0a", "0b", "0d"])
        #expect(try await store.read { try await $0.certificates.revoked(unexpiredAt: 2_500) }.map(\.reason) == [.superseded])
        let later = try await store.read { try await $0.certificates.revocationChanges(after: 4) }
        #expect(later.map(\.serial).sorted() == ["0a", "0b", "0c"])
        #expect(later.map(\.revocationGeneration).sorted { ($0 ?? 0) < ($1 ?? 0) } == [5, 5, 6])
        #expect(try await store.read { try await $0.certificates.latestRevocationGeneration() } == 6)
    }

    func credentialsAndStatusBits() async throws {
        let credentials = [
            CredentialRecord(id: "vc_1", deviceId: "dev_2", kind: .identity, token: "t1", statusIndex: 40, issuedAt: 10, expiresAt: 20, logIndex: 3),
            CredentialRecord(id: "vc_2", deviceId: "dev_2", kind: .role, token: "t2", statusIndex: 40, issuedAt: 10, expiresAt: 20, logIndex: 3),
            CredentialRecord(id: "vc_3", deviceId: "dev_2", kind: .identity, token: "t3", statusIndex: 7, issuedAt: 30, expiresAt: 40),
        ]
        try await store.transaction { try await $0.credentials.insert(credentials) }
        #expect(try await store.read { try await $0.credentials.of(deviceID: "dev_2") } == credentials)
        #expect(try await store.read { try await $0.credentials.statusIndexes(deviceID: "dev_2") } == [7, 40])
        #expect(try await store.read { try await $0.credentials.of(deviceID: "dev_1") }.isEmpty)
        try await store.transaction { try await $0.statusBits.set(.revocation, indexes: [7, 40, 131_072], at: 1, generation: 1) }
        // Setting a set bit again is harmless.
        try await store.transaction { try await $0.statusBits.set(.revocation, indexes: [40], at: 2, generation: 2) }
        try await store.transaction { try await $0.statusBits.set(.suspension, indexes: [40], at: 2, generation: 3) }
        #expect(try await store.read { try await $0.statusBits.set(.revocation, in: 0..<131_072) }.sorted() == [7, 40])
        #expect(try await store.read { try await $0.statusBits.set(.revocation, in: 131_072..<262_144) } == [131_072])
        try await store.transaction { try await $0.statusBits.clear(.revocation, indexes: [40], generation: 4) }
        #expect(try await store.read { try await $0.statusBits.set(.revocation, in: 0..<131_072) } == [7])
        #expect(try await store.read { try await $0.statusBits.set(.suspension, in: 0..<131_072) } == [40])
        // Every change carries its generation; setting a set bit again changed nothing.
        #expect(try await store.read { try await $0.statusBits.changes(after: 2) } == [
            StatusBitChange(purpose: .suspension, index: 40, isSet: true, generation: 3),
            StatusBitChange(purpose: .revocation, index: 40, isSet: false, generation: 4),
        ])
        #expect(Set(try await store.read { try await $0.statusBits.allSet() }) == [
            StatusBitChange(purpose: .revocation, index: 7, isSet: true, generation: 1),
            StatusBitChange(purpose: .revocation, index: 131_072, isSet: true, generation: 1),
            StatusBitChange(purpose: .suspension, index: 40, isSet: true, generation: 3),
        ])
        // Set again after a clear: set, with the new generation.
        try await store.transaction { try await $0.statusBits.set(.revocation, indexes: [40], at: 5, generation: 5) }
        #expect(try await store.read { try await $0.statusBits.changes(after: 4) } == [StatusBitChange(purpose: .revocation, index: 40, isSet: true, generation: 5)])
        #expect(try await store.read { try await $0.statusBits.set(.revocation, in: 0..<131_072) }.sorted() == [7, 40])
    }

    func firmware() async throws {
        let image = FirmwareRecord(digest: String(repeating: "ab", count: 32), model: "m1", version: "1.0", status: .good, createdAt: 1, updatedAt: 1)
        let other = FirmwareRecord(digest: String(repeating: "cd", count: 32), model: "m0", version: "0.9", status: .good, createdAt: 1, updatedAt: 1)
        try await store.transaction { session in
            try await session.firmware.insert(image)
            try await session.firmware.insert(other)
        }
        #expect(try await store.read { try await $0.firmware.find(digest: image.digest) } == image)
        #expect(try await store.read { try await $0.firmware.all() } == [other, image])
        let report = FirmwareReport(deviceId: "dev_2", digest: image.digest, version: "1.0", status: .good, phase: .stepUp, reportedAt: 5)
        try await store.transaction { try await $0.firmware.record(report) }
        #expect(try await store.read { try await $0.firmware.report(deviceID: "dev_2") } == report)
        // A new report replaces the last.
        let boot = FirmwareReport(deviceId: "dev_2", digest: image.digest, version: "1.0", status: .unknown, phase: .boot, reportedAt: 6)
        try await store.transaction { try await $0.firmware.record(boot) }
        #expect(try await store.read { try await $0.firmware.report(deviceID: "dev_2") } == boot)
        // Revoking an image marks it and the devices that last reported it.
        #expect(try await store.transaction { try await $0.firmware.revoke(digest: image.digest, at: 9) } == ["dev_2"])
        #expect(try await store.read { try await $0.firmware.find(digest: image.digest) }?.status == .revoked)
        #expect(try await store.read { try await $0.firmware.report(deviceID: "dev_2") }?.status == .revoked)
        #expect(try await store.read { try await $0.firmware.find(digest: other.digest) } == other)
    }

    func log() async throws {
        let leaves = (0..<3).map { MerkleHash.leafHash(Data("entry \($0)".utf8)) }
        try await store.transaction { session in
            try await session.log.insertNodes(leaves.enumerated().map { (node: MerkleNode(level: 0, index: UInt64($0.offset)), hash: $0.element) })
            try await session.log.insertNodes([(node: MerkleNode(level: 1, index: 0), hash: leaves[0])])
        }
        #expect(try await store.read { try await $0.log.size() } == 3)
        let found = try await store.read { try await $0.log.nodes([MerkleNode(level: 0, index: 2), MerkleNode(level: 1, index: 0), MerkleNode(level: 4, index: 0)]) }
        #expect(found == [MerkleNode(level: 0, index: 2): leaves[2], MerkleNode(level: 1, index: 0): leaves[0]])
        #expect(try await store.read { try await $0.log.nodes(level: 0, from: 1, count: 5) } == [leaves[1], leaves[2]])
        #expect(try await store.read { try await $0.log.latestCheckpoint() } == nil)
        try await store.transaction { session in
            try await session.log.lock()
            try await session.log.insertCheckpoint(size: 2, root: leaves[1], note: "note 2", at: 1)
            try await session.log.insertCheckpoint(size: 3, root: leaves[2], note: "note 3", at: 2)
        }
        let latest = try #require(try await store.read { try await $0.log.latestCheckpoint() })
        #expect(latest.size == 3 && latest.root == leaves[2] && latest.note == "note 3")
        // A witnessed log: the checkpoint waits, cosignatures gather, publication clears the wait.
        try await store.transaction { try await $0.log.insertPending(size: 4, note: "pending 4", at: 3) }
        try await store.transaction { try await $0.log.insertPending(size: 5, note: "pending 5", at: 4) }
        let pending = try #require(try await store.read { try await $0.log.pendingCheckpoint() })
        #expect(pending.size == 5 && pending.note == "pending 5" && pending.createdAt == 4)
        _ = try await store.transaction { try await $0.log.addCosignature(size: 5, witness: "w1", line: "— w1 old\n", at: 5) }
        _ = try await store.transaction { try await $0.log.addCosignature(size: 5, witness: "w1", line: "— w1 new\n", at: 6) }
        let lines = try await store.transaction { try await $0.log.addCosignature(size: 5, witness: "w2", line: "— w2\n", at: 7) }
        #expect(lines == ["w1": "— w1 new\n", "w2": "— w2\n"])
        try await store.transaction { try await $0.log.clearPending(through: 5) }
        #expect(try await store.read { try await $0.log.pendingCheckpoint() } == nil)
    }

    /// What a transaction wrote before it failed is not there afterwards.
    func transactionsRollBack() async throws {
        struct Abandoned: Error {}
        let events = try await store.read { try await $0.counters.current(.events) }
        await #expect(throws: Abandoned.self) {
            try await store.transaction { session in
                try await session.events.append([EventDraft(kind: .monitorAlert, subject: "dev_1", actor: "test")], at: 1)
                try await session.devices.insert([Self.device("dev_rolled_back")])
                throw Abandoned()
            }
        }
        #expect(try await store.read { try await $0.counters.current(.events) } == events)
        #expect(try await store.read { try await $0.devices.find(id: "dev_rolled_back") } == nil)
    }
}
