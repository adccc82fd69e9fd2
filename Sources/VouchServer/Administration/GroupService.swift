import Foundation
import SwiftASN1
import Synchronization
import VouchAPI
import VouchCore
import VouchKit
import VouchStore
import X509

/// Enrollment groups: their rules and claim tokens.
final class GroupService: Sendable {
    private let store: Store
    private let events: EventRecorder

    init(store: Store, events: EventRecorder) {
        self.store = store
        self.events = events
    }

    /// Creates a group; claim-token groups get their token, returned once.
    func create(name: String, rules: EnrollmentRules, actor: String) async throws -> (GroupView, token: String?) {
        guard EnrollmentRules.isName(name) else {
            throw ServiceError.unprocessable("a group name is 1–64 characters of a–z, 0–9, '-', '_' or '.'")
        }
        let problems = rules.problems + Self.manufacturerRootProblems(rules)
        guard problems.isEmpty else { throw ServiceError.unprocessable(problems.joined(separator: "; ")) }
        let token = rules.attestation == .claimToken ? Secrets.make(prefix: "ct") : nil
        let stamp = events.clock.seconds
        let row = GroupRecord(
            id: Secrets.identifier("grp", now: events.clock.now), name: name, tokenHash: token.map(Secrets.digest),
            tokenUsesLeft: rules.attestation == .claimToken ? rules.tokenUses : nil,
            rules: rules, disabled: false, createdAt: stamp, updatedAt: stamp
        )
        try await store.transaction { session in
            if try await session.groups.find(name: name) != nil {
                throw ServiceError.conflict("a group named \(name) already exists")
            }
            try await session.groups.insert(row)
            try await self.events.record(session, kind: .groupCreated, subject: row.id, actor: actor, data: ["name": .string(name), "settings": try row.settings()])
        }
        return (GroupView(row), token)
    }

    func list() async throws -> [GroupView] {
        try await store.read { try await $0.groups.all() }.map(GroupView.init)
    }

    func group(_ idOrName: String) async throws -> GroupView {
        guard let row = try await find(idOrName) else { throw ServiceError.notFound("no enrollment group \(idOrName)") }
        return GroupView(row)
    }

    /// The group with this id or name.
    func find(_ idOrName: String) async throws -> GroupRecord? {
        try await store.read { try await Self.find($0, idOrName) }
    }

    /// The group with this id or name, read in `session`.
    static func find(_ session: StoreSession, _ idOrName: String) async throws -> GroupRecord? {
        if let row = try await session.groups.find(id: idOrName) { return row }
        return try await session.groups.find(name: idOrName)
    }

    /// The group of a device, read in `session`.
    static func group(_ session: StoreSession, of device: DeviceRecord) async throws -> GroupRecord {
        guard let group = try await session.groups.find(id: device.groupId) else { throw StoreError.corrupt("device \(device.id) has no group") }
        return group
    }

    /// Replaces a group's rules; `rotateToken` issues a new claim token (with the rules' uses).
    func update(_ idOrName: String, rules: EnrollmentRules, rotateToken: Bool, actor: String) async throws -> (GroupView, token: String?) {
        let problems = rules.problems + Self.manufacturerRootProblems(rules)
        guard problems.isEmpty else { throw ServiceError.unprocessable(problems.joined(separator: "; ")) }
        guard var row = try await find(idOrName) else { throw ServiceError.notFound("no enrollment group \(idOrName)") }
        let old = row.rules
        var token: String?
        if rules.attestation == .claimToken && (rotateToken || old.attestation != .claimToken) {
            token = Secrets.make(prefix: "ct")
            row.tokenHash = token.map(Secrets.digest)
            row.tokenUsesLeft = rules.tokenUses
        } else if rules.attestation == .manufacturerCA {
            row.tokenHash = nil
            row.tokenUsesLeft = nil
        } else if rules.tokenUses != old.tokenUses {
            row.tokenUsesLeft = rules.tokenUses
        }
        row.rules = rules
        row.updatedAt = events.clock.seconds
        let updated = row
        let rotated = token != nil
        try await store.transaction { session in
            try await session.groups.update(updated)
            try await self.events.record(session, kind: .groupUpdated, subject: updated.id, actor: actor, data: ["settings": try updated.settings(), "tokenRotated": .bool(rotated)])
        }
        return (GroupView(updated), token)
    }

    func setDisabled(_ idOrName: String, disabled: Bool, actor: String) async throws -> GroupView {
        guard var row = try await find(idOrName) else { throw ServiceError.notFound("no enrollment group \(idOrName)") }
        row.disabled = disabled
        row.updatedAt = events.clock.seconds
        let updated = row
        try await store.transaction { session in
            try await session.groups.update(updated)
            try await self.events.record(session, kind: disabled ? .groupDisabled : .groupEnabled, subject: updated.id, actor: actor)
        }
        return GroupView(updated)
    }

    private static func manufacturerRootProblems(_ rules: EnrollmentRules) -> [String] {
        rules.manufacturerRoots.enumerated().compactMap { index, pem in
            do {
                let certificate = try Certificate(pemEncoded: pem)
                guard let constraints = try certificate.extensions.basicConstraints, case .isCertificateAuthority = constraints else {
                    return "manufacturer root \(index + 1) is not a CA certificate (basicConstraints cA)"
                }
                return nil
            } catch {
                return "manufacturer root \(index + 1) is not a PEM X.509 certificate"
            }
        }
    }
}
