import Crypto
import Foundation
import Logging
import Synchronization
import VouchCore
import VouchKit
import VouchStore

/// A policy version as the admin API shows it.
struct PolicyVersionView: Codable, Sendable {
    var version: Int
    /// Lower-case hex SHA-256 of the source text.
    var digest: String
    var createdAt: Int
    var actor: String
    var zones: [String]
    var roles: [String]
    var flows: Int
    /// The document as uploaded (absent in lists).
    var source: String?
}

/// `PATCH /v1/admin/devices/{id}`: where a device stands in the policy.
struct AssignmentRequest: Codable, Sendable {
    var zone: String?
    var roles: [String]?
}

extension Authority {
    /// The policy in force.
    var currentPolicy: CompiledPolicy { policyState.withLock { $0 } }

    /// Loads the policy in force from the store (at start, and when another node changed it).
    func loadPolicy() async throws {
        // The event counter first: a policy change landing between the two reads is then seen
        // again by `followEvents`, never skipped.
        let lastEvent = try await store.read { try await $0.current("events") }
        followedEvents.withLock { if $0 == 0 { $0 = lastEvent } }
        guard let row = try await store.read({ try await $0.latestPolicy() }), row.version > currentPolicy.version else { return }
        do {
            install(CompiledPolicy(version: row.version, document: try PolicyDocument(parsing: row.source)))
        } catch {
            // Uploads are validated, so only a changed parser gets here: keep deciding with the
            // version in force (or deny everything, at a first start) and say so.
            logger.error(
                "the stored policy does not parse; keeping the version in force",
                metadata: ["policy.version": "\(row.version)", "error": "\(error)", "policy.inForce": "\(currentPolicy.version)"])
        }
    }

    private func install(_ policy: CompiledPolicy) {
        let changed = policyState.withLock { current -> Bool in
            guard policy.version > current.version else { return false }
            current = policy
            return true
        }
        if changed {
            directory.invalidateAll()
            monitor.configure(policy.monitoring)
        }
    }

    /// Validates and stores a new policy version; an unchanged text keeps the version in force.
    func uploadPolicy(_ source: String, actor: String) async throws -> (PolicyVersionView, created: Bool) {
        let document: PolicyDocument
        do {
            document = try PolicyDocument(parsing: source)
        } catch {
            var problem = APIError.unprocessable(
                "the policy has \(error.problems.count == 1 ? "a problem" : "\(error.problems.count) problems"): \(error.problems.prefix(5).map(\.description).joined(separator: "; "))"
            )
            problem.members["problems"] = .array(error.problems.map { problem in
                var members: [String: JSONValue] = ["path": .string(problem.path), "message": .string(problem.message)]
                if let line = problem.location.line { members["line"] = .number(Double(line)) }
                if let column = problem.location.column { members["column"] = .number(Double(column)) }
                return .object(members)
            })
            throw problem
        }
        let digest = Hex.encode(Array(SHA256.hash(data: Data(source.utf8))))
        let (row, created) = try await store.transaction { session -> (PolicyRow, Bool) in
            if let latest = try await session.latestPolicy(), latest.digest == digest { return (latest, false) }
            let version = try await session.next("policies")
            let row = PolicyRow(version: version, source: source, digest: digest, createdAt: self.nowSeconds, actor: actor)
            try await session.insert(row)
            try await self.record(session, kind: "policy.updated", subject: "policy", actor: actor, data: [
                "version": .number(Double(version)), "digest": .string(digest),
                "zones": .array(document.zones.map { .string($0.name) }), "roles": .array(document.roles.map { .string($0.name) }),
                "flows": .number(Double(document.flows.count)),
            ])
            return (row, true)
        }
        if created { install(CompiledPolicy(version: row.version, document: document)) }
        return (Self.view(row, document, source: false), created)
    }

    /// A stored version with its text; the one in force without `version`.
    func policyVersion(_ version: Int?) async throws -> PolicyVersionView {
        let wanted = version ?? currentPolicy.version
        guard wanted > 0 else {
            return PolicyVersionView(version: 0, digest: "", createdAt: 0, actor: "", zones: [], roles: [], flows: 0, source: "")
        }
        guard let row = try await store.read({ try await $0.policy(version: wanted) }) else {
            throw APIError.notFound("no policy version \(wanted)")
        }
        let document = (try? PolicyDocument(parsing: row.source)) ?? .empty
        return Self.view(row, document, source: true)
    }

    func policyVersions() async throws -> [PolicyVersionView] {
        try await store.read { try await $0.policyVersions(limit: 1000) }.map {
            PolicyVersionView(version: $0.version, digest: $0.digest, createdAt: $0.createdAt, actor: $0.actor, zones: [], roles: [], flows: 0)
        }
    }

    private static func view(_ row: PolicyRow, _ document: PolicyDocument, source: Bool) -> PolicyVersionView {
        PolicyVersionView(
            version: row.version, digest: row.digest, createdAt: row.createdAt, actor: row.actor, zones: document.zones.map(\.name),
            roles: document.roles.map(\.name), flows: document.flows.count, source: source ? row.source : nil
        )
    }

    /// Moves a device to another zone or gives it other roles. The zone and roles must be defined
    /// by the policy in force; `quarantine` is entered and left through the lifecycle actions.
    /// A move or a role taken away revokes the credentials issued so far (the device renews);
    /// a role added shows in the credentials of the next renewal.
    func assign(_ id: String, _ request: AssignmentRequest, actor: String) async throws -> DeviceView {
        // An unknown device is 404 whatever the body says; the transaction below checks again.
        guard try await store.read({ try await $0.device(id: id) }) != nil else {
            throw APIError.notFound("no device with id \(id.prefix(64))")
        }
        let policy = currentPolicy
        if let zone = request.zone {
            guard zone != ZoneRules.quarantineZone else {
                throw APIError.unprocessable("a device enters the quarantine zone with POST /v1/admin/devices/\(id.prefix(64))/quarantine, and leaves it with /release")
            }
            guard policy.zoneRules.zones.contains(zone) else {
                throw APIError.unprocessable("zone \(zone.prefix(64)) is not defined by policy version \(policy.version); zones: \(policy.zoneRules.zones.subtracting([ZoneRules.quarantineZone]).sorted().joined(separator: ", "))")
            }
        }
        if let roles = request.roles {
            guard roles.count <= 32, Set(roles).count == roles.count else { throw APIError.unprocessable("roles must be at most 32 distinct names") }
            for role in roles where !policy.defines(role: role) {
                throw APIError.unprocessable("role \(role.prefix(64)) is not defined by policy version \(policy.version)")
            }
        }
        guard request.zone != nil || request.roles != nil else { throw APIError.badRequest("give zone, roles or both") }
        let row = try await store.transaction { session -> DeviceRow in
            guard var row = try await session.device(id: id, forUpdate: true) else {
                throw APIError.notFound("no device with id \(id.prefix(64))")
            }
            guard let state = DeviceState(rawValue: row.state), !state.isTerminal, state != .revoked else {
                throw APIError.conflict("device \(id) is \(row.state); its zone and roles no longer change")
            }
            var data: [String: JSONValue] = [:]
            // Credentials name the zone and carry their roles' capabilities: moving the device or
            // taking a role away revokes them, so that offline verifiers stop honouring what no
            // longer holds. The device renews for credentials that say what does.
            var narrowed = false
            if let zone = request.zone, zone != row.zone {
                data["zone"] = ["from": .string(row.zone), "to": .string(zone)]
                row.zone = zone
                narrowed = true
            }
            if let roles = request.roles {
                let before = try Self.decode([String].self, from: row.roles)
                if before != roles {
                    data["roles"] = ["from": .array(before.map(JSONValue.string)), "to": .array(roles.map(JSONValue.string))]
                    row.roles = try Self.json(roles)
                    narrowed = narrowed || !Set(before).isSubset(of: roles)
                }
            }
            guard !data.isEmpty else { return row }
            let stamp = self.nowSeconds
            if narrowed {
                let indexes = try await session.statusIndexes(deviceID: id)
                try await session.setStatusBits(purpose: StatusPurpose.revocation.rawValue, indexes: indexes, at: stamp)
                _ = try await session.next("revocations")
                data["credentialsRevoked"] = .bool(!indexes.isEmpty)
            }
            row.updatedAt = stamp
            try await session.update(row)
            try await self.record(session, kind: "device.assigned", subject: id, actor: actor, data: data)
            return row
        }
        directory.invalidate(id)
        return try DeviceView(row)
    }

    // MARK: Decisions

    /// The directory entry for a device id or DID, from memory or the store; nil when unknown.
    func directoryEntry(_ reference: String) async throws -> DeviceDirectory.Entry? {
        let isDID = reference.hasPrefix("did:")
        if let id = isDID ? directory.id(did: reference) : reference, let entry = directory.entry(id: id) {
            return entry
        }
        let generation = directory.generation
        let found = try await store.read { session -> (DeviceRow, String)? in
            let row = isDID ? try await session.device(did: reference) : try await session.device(id: reference)
            guard let row else { return nil }
            return (row, try await session.group(id: row.groupId)?.name ?? "")
        }
        guard let (row, group) = found, let state = DeviceState(rawValue: row.state) else { return nil }
        let entry = DeviceDirectory.Entry(
            row: row, state: state,
            facts: DeviceFacts(
                id: row.id, did: row.did, zone: row.zone, group: group, attributes: try Self.decode([String: String].self, from: row.attributes),
                roles: try Self.decode([String].self, from: row.roles), quarantined: state == .quarantined
            ),
            key: try PublicKey(jwk: try Self.decode(JWK.self, from: row.publicKey))
        )
        directory.store(entry, readAt: generation)
        return entry
    }

    /// The subject of `entry` under `policy`, computed once per device and policy version.
    func subject(of entry: DeviceDirectory.Entry, under policy: CompiledPolicy) -> AuthorizationSubject {
        if let subject = entry.subject, entry.subjectVersion == policy.version { return subject }
        let subject = policy.subject(for: entry.facts)
        directory.remember(subject: subject, version: policy.version, for: entry.row.id, row: entry.row)
        return subject
    }

    /// Decides `request` for the device `reference` (id or DID). Unknown devices and devices that
    /// may not act are denied; so is a peer that is not a device here. Denials are counted when
    /// `countingDenials` (an enforcement point asked on behalf of a real attempt).
    func decide(
        _ reference: String, _ request: AuthorizationRequest, countingDenials: Bool
    ) async throws -> (AuthorizationDecision, DeviceDirectory.Entry?) {
        func countDenial(_ entry: DeviceDirectory.Entry) {
            if countingDenials { self.countDenial(entry) }
        }
        let policy = currentPolicy
        guard let entry = try await directoryEntry(reference) else {
            return (.deny("no device \(reference.prefix(128)) is enrolled here", policyVersion: policy.version), nil)
        }
        guard Self.actingStates.contains(entry.state) else {
            countDenial(entry)
            return (.deny("device \(entry.row.id) is \(entry.state.rawValue) and may not act", policyVersion: policy.version), entry)
        }
        var request = request
        if let peer = request.context.peer {
            guard let peerEntry = try await directoryEntry(peer), Self.actingStates.contains(peerEntry.state) else {
                countDenial(entry)
                return (.deny("peer \(peer.prefix(128)) is not a device here that may act", code: .peer, policyVersion: policy.version), entry)
            }
            request.context.peerZone = peerEntry.state == .quarantined ? ZoneRules.quarantineZone : peerEntry.row.zone
        }
        let decision = Authorizer.decide(request, for: subject(of: entry, under: policy), zones: policy.zoneRules)
        if !decision.allowed { countDenial(entry) }
        return (decision, entry)
    }

    /// Counts a policy denial against a device, for monitoring.
    func countDenial(_ entry: DeviceDirectory.Entry) {
        observe(.counting(.policyDenials), of: entry)
    }

    /// Takes up changes made by other nodes sharing the database: drops changed devices from the
    /// directory, forgets revoked API keys and loads a newer policy. Runs in the database
    /// service's loop.
    func followEvents() async throws {
        let after = followedEvents.withLock { $0 }
        let events = try await store.read { try await $0.eventSubjects(after: after, limit: 10_000) }
        guard let last = events.last else { return }
        var policyChanged = false
        for event in events {
            if event.kind == "policy.updated" {
                policyChanged = true
            } else if event.kind.hasPrefix("device.") {
                directory.invalidate(event.subject)
            } else if event.kind == "apikey.revoked" {
                forgetAPIKey(id: event.subject)
            }
        }
        if policyChanged { try await loadPolicy() }
        followedEvents.withLock { $0 = max($0, last.seq) }
    }
}
