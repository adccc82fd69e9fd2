import Crypto
import Foundation
import Logging
import Synchronization
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// The policy in force and its versions, and the decisions made under it.
final class PolicyService: Sendable {
    let store: Store
    let directory: DirectoryService
    let monitoring: MonitoringService
    let events: EventRecorder
    let logger: Logger
    private let state = Mutex(CompiledPolicy(version: 0, document: .empty))

    init(store: Store, directory: DirectoryService, monitoring: MonitoringService, events: EventRecorder, logger: Logger) {
        self.store = store
        self.directory = directory
        self.monitoring = monitoring
        self.events = events
        self.logger = logger
    }

    /// The policy in force.
    var current: CompiledPolicy { state.withLock { $0 } }

    /// Loads the policy in force from the store (at start, and when another node changed it).
    func load() async throws {
        guard let row = try await store.read({ try await $0.policies.latest() }), row.version > current.version else { return }
        do {
            install(CompiledPolicy(version: row.version, document: try PolicyDocument(parsing: row.source)))
        } catch {
            // Uploads are validated, so only a changed parser gets here: keep deciding with the
            // version in force (or deny everything, at a first start) and say so.
            logger.error(
                "the stored policy does not parse; keeping the version in force",
                metadata: ["policy.version": "\(row.version)", "error": "\(error)", "policy.inForce": "\(current.version)"])
        }
    }

    private func install(_ policy: CompiledPolicy) {
        let changed = state.withLock { current -> Bool in
            guard policy.version > current.version else { return false }
            current = policy
            return true
        }
        if changed {
            directory.invalidateAll()
            monitoring.configure(policy.monitoring)
        }
    }

    /// Validates and stores a new policy version; an unchanged text keeps the version in force.
    func upload(_ source: String, actor: String) async throws -> (PolicyVersionView, created: Bool) {
        let document: PolicyDocument
        do {
            document = try PolicyDocument(parsing: source)
        } catch {
            var problem = ServiceError.unprocessable(
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
        let (row, created) = try await store.transaction { session -> (PolicyRecord, Bool) in
            if let latest = try await session.policies.latest(), latest.digest == digest { return (latest, false) }
            let version = try await session.counters.next(.policies)
            let row = PolicyRecord(version: version, source: source, digest: digest, createdAt: self.events.clock.seconds, actor: actor)
            try await session.policies.insert(row)
            try await self.events.record(session, kind: .policyUpdated, subject: "policy", actor: actor, data: [
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
    func version(_ version: Int?) async throws -> PolicyVersionView {
        let wanted = version ?? current.version
        guard wanted > 0 else {
            return PolicyVersionView(version: 0, digest: "", createdAt: 0, actor: "", zones: [], roles: [], flows: 0, source: "")
        }
        guard let row = try await store.read({ try await $0.policies.find(version: wanted) }) else {
            throw ServiceError.notFound("no policy version \(wanted)")
        }
        let document = (try? PolicyDocument(parsing: row.source)) ?? .empty
        return Self.view(row, document, source: true)
    }

    func versions() async throws -> [PolicyVersionView] {
        try await store.read { try await $0.policies.versions(limit: 1000) }.map {
            PolicyVersionView(version: $0.version, digest: $0.digest, createdAt: $0.createdAt, actor: $0.actor, zones: [], roles: [], flows: 0)
        }
    }

    private static func view(_ row: PolicyRecord, _ document: PolicyDocument, source: Bool) -> PolicyVersionView {
        PolicyVersionView(
            version: row.version, digest: row.digest, createdAt: row.createdAt, actor: row.actor, zones: document.zones.map(\.name),
            roles: document.roles.map(\.name), flows: document.flows.count, source: source ? row.source : nil
        )
    }

    // MARK: Decisions

    /// Decides `request` for the device `reference` (id or DID). Unknown devices and devices that
    /// may not act are denied; so is a peer that is not a device here. Denials are counted when
    /// `countingDenials` (an enforcement point asked on behalf of a real attempt).
    func decide(
        _ reference: String, _ request: AuthorizationRequest, countingDenials: Bool
    ) async throws -> (AuthorizationDecision, DeviceDirectory.Entry?) {
        func countDenial(_ entry: DeviceDirectory.Entry) {
            if countingDenials { monitoring.observe(.counting(.policyDenials), of: entry) }
        }
        let policy = current
        guard let entry = try await directory.entry(reference) else {
            return (.deny("no device \(reference.prefix(128)) is enrolled here", policyVersion: policy.version), nil)
        }
        guard entry.state.mayAct else {
            countDenial(entry)
            return (.deny("device \(entry.row.id) is \(entry.state.rawValue) and may not act", policyVersion: policy.version), entry)
        }
        var request = request
        if let peer = request.context.peer {
            guard let peerEntry = try await directory.entry(peer), peerEntry.state.mayAct else {
                countDenial(entry)
                return (.deny("peer \(peer.prefix(128)) is not a device here that may act", code: .peer, policyVersion: policy.version), entry)
            }
            request.context.peerZone = peerEntry.state == .quarantined ? ZoneRules.quarantineZone : peerEntry.row.zone
        }
        let decision = Authorizer.decide(request, for: directory.subject(of: entry, under: policy), zones: policy.zoneRules)
        if !decision.allowed { countDenial(entry) }
        return (decision, entry)
    }
}
