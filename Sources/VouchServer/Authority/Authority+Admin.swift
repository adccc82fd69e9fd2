import Foundation
import Synchronization
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
import X509

/// What an API key may do.
public enum APIScope: String, Sendable, Codable, CaseIterable, Comparable {
    /// An enforcement point (a broker plugin, a gateway): asks `POST /v1/authorize` on behalf of
    /// real attempts, and only that. Its denials count against the device in monitoring; the
    /// questions of every other key never move a score. It reads nothing else.
    case gateway
    /// Reads everything.
    case readOnly = "read-only"
    /// Reads, manages devices and groups.
    case `operator`
    /// Everything, including API keys.
    case admin

    var rank: Int {
        switch self {
        case .gateway: -1
        case .readOnly: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (lhs: APIScope, rhs: APIScope) -> Bool { lhs.rank < rhs.rank }
}

/// An enrollment group as the API shows it.
struct GroupView: Codable, Sendable {
    var id: String
    var name: String
    var disabled: Bool
    var tokenUsesLeft: Int?
    var rules: EnrollmentRules
    var createdAt: Int
    var updatedAt: Int

    init(_ row: GroupRow) throws {
        id = row.id
        name = row.name
        disabled = row.disabled != 0
        tokenUsesLeft = row.tokenUsesLeft
        rules = try Authority.decode(EnrollmentRules.self, from: row.settings)
        createdAt = row.createdAt
        updatedAt = row.updatedAt
    }
}

extension Authority {
    // MARK: API keys

    /// Creates an API key; the secret is returned once and stored only as its digest.
    func createAPIKey(name: String, scope: APIScope, actor: String) async throws -> (APIKeyRow, secret: String) {
        guard !name.isEmpty, name.utf8.count <= 128 else {
            throw APIError.unprocessable("an API key needs a name of 1–128 bytes")
        }
        let secret = Secrets.make(prefix: "vk")
        let row = APIKeyRow(
            id: Secrets.identifier("key", now: now), name: name, scope: scope.rawValue,
            secretHash: Secrets.digest(secret), createdAt: nowSeconds
        )
        try await store.transaction { session in
            try await session.insert(row)
            // The key's name and scope are for operators (GET /v1/admin/api-keys), not the public log.
            try await self.record(session, kind: "apikey.created", subject: row.id, actor: actor)
        }
        return (row, secret)
    }

    /// The live key whose secret is `secret`, if any.
    ///
    /// Live keys are remembered by their digest, so that hot endpoints (`/v1/authorize`) do not
    /// read the database per request; a revocation forgets the key here at once, and on other
    /// nodes when they see its event (within the sequencer's interval).
    func authenticate(apiKey secret: String) async throws -> APIKeyRow? {
        guard secret.hasPrefix("vk_"), secret.utf8.count < 128 else { return nil }
        let digest = Secrets.digest(secret)
        if let row = apiKeyCache.withLock({ $0[digest] }) {
            return Secrets.matches(secret, digest: row.secretHash) ? row : nil
        }
        guard let row = try await store.read({ try await $0.apiKey(secretHash: digest) }), row.revokedAt == nil else { return nil }
        guard Secrets.matches(secret, digest: row.secretHash) else { return nil }
        apiKeyCache.withLock { cache in
            if cache.count >= 10_000 { cache.removeAll() }
            cache[digest] = row
        }
        return row
    }

    /// Forgets a revoked key.
    func forgetAPIKey(id: String) {
        apiKeyCache.withLock { cache in cache = cache.filter { $0.value.id != id } }
    }

    func apiKeys() async throws -> [APIKeyRow] {
        try await store.read { try await $0.apiKeys() }
    }

    /// Revokes a key. Refused (409) when it is the key making the request (revoke it with another
    /// admin key) or the last live admin key (nobody could then manage the authority).
    func revokeAPIKey(id: String, actor: String) async throws {
        try await store.transaction { session in
            let live = try await session.liveAPIKeysForUpdate()
            if let target = live.first(where: { $0.id == id }) {
                guard actor != "apikey:\(id)" else {
                    throw APIError.conflict("a key cannot revoke itself; revoke \(id) with another admin key")
                }
                if target.scope == APIScope.admin.rawValue, !live.contains(where: { $0.id != id && $0.scope == APIScope.admin.rawValue }) {
                    throw APIError.conflict("\(id) is the last live admin key; create another admin key (POST /v1/admin/api-keys with \"scope\": \"admin\") before revoking it")
                }
            }
            guard try await session.revokeAPIKey(id: id, at: self.nowSeconds) else {
                throw APIError.notFound("no live API key with id \(id)")
            }
            try await self.record(session, kind: "apikey.revoked", subject: id, actor: actor)
        }
        forgetAPIKey(id: id)
    }

    // MARK: Groups

    /// Creates a group; claim-token groups get their token, returned once.
    func createGroup(name: String, rules: EnrollmentRules, actor: String) async throws -> (GroupView, token: String?) {
        guard EnrollmentRules.isName(name) else {
            throw APIError.unprocessable("a group name is 1–64 characters of a–z, 0–9, '-', '_' or '.'")
        }
        let problems = rules.problems + manufacturerRootProblems(rules)
        guard problems.isEmpty else { throw APIError.unprocessable(problems.joined(separator: "; ")) }
        let token = rules.attestation == .claimToken ? Secrets.make(prefix: "ct") : nil
        let stamp = nowSeconds
        let row = GroupRow(
            id: Secrets.identifier("grp", now: now), name: name, tokenHash: token.map(Secrets.digest),
            tokenUsesLeft: rules.attestation == .claimToken ? rules.tokenUses : nil,
            settings: try Self.json(rules), disabled: 0, createdAt: stamp, updatedAt: stamp
        )
        try await store.transaction { session in
            if try await session.group(name: name) != nil {
                throw APIError.conflict("a group named \(name) already exists")
            }
            try await session.insert(row)
            try await self.record(session, kind: "group.created", subject: row.id, actor: actor, data: ["name": .string(name), "settings": try JSONValue(parsing: Data(row.settings.utf8))])
        }
        return (try GroupView(row), token)
    }

    func groups() async throws -> [GroupView] {
        try await store.read { try await $0.groups() }.map(GroupView.init)
    }

    func group(_ idOrName: String) async throws -> GroupView {
        guard let row = try await findGroup(idOrName) else { throw APIError.notFound("no enrollment group \(idOrName)") }
        return try GroupView(row)
    }

    func findGroup(_ idOrName: String) async throws -> GroupRow? {
        try await store.read { session in
            if let row = try await session.group(id: idOrName) { return row }
            return try await session.group(name: idOrName)
        }
    }

    /// Replaces a group's rules; `rotateToken` issues a new claim token (with the rules' uses).
    func updateGroup(_ idOrName: String, rules: EnrollmentRules, rotateToken: Bool, actor: String) async throws -> (GroupView, token: String?) {
        let problems = rules.problems + manufacturerRootProblems(rules)
        guard problems.isEmpty else { throw APIError.unprocessable(problems.joined(separator: "; ")) }
        guard var row = try await findGroup(idOrName) else { throw APIError.notFound("no enrollment group \(idOrName)") }
        let old = try Self.decode(EnrollmentRules.self, from: row.settings)
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
        row.settings = try Self.json(rules)
        row.updatedAt = nowSeconds
        let updated = row
        let rotated = token != nil
        try await store.transaction { session in
            try await session.update(updated)
            try await self.record(session, kind: "group.updated", subject: updated.id, actor: actor, data: ["settings": try JSONValue(parsing: Data(updated.settings.utf8)), "tokenRotated": .bool(rotated)])
        }
        return (try GroupView(updated), token)
    }

    func setGroupDisabled(_ idOrName: String, disabled: Bool, actor: String) async throws -> GroupView {
        guard var row = try await findGroup(idOrName) else { throw APIError.notFound("no enrollment group \(idOrName)") }
        row.disabled = disabled ? 1 : 0
        row.updatedAt = nowSeconds
        let updated = row
        try await store.transaction { session in
            try await session.update(updated)
            try await self.record(session, kind: disabled ? "group.disabled" : "group.enabled", subject: updated.id, actor: actor)
        }
        return try GroupView(updated)
    }

    private func manufacturerRootProblems(_ rules: EnrollmentRules) -> [String] {
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
