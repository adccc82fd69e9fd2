import Foundation
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// Devices as operators see and change them: lists, details, and the lifecycle actions.
final class LifecycleService: Sendable {
    private let store: Store
    private let groups: GroupService
    private let issuance: IssuanceService
    private let directory: DirectoryService
    private let monitoring: MonitoringService
    private let events: EventRecorder

    init(
        store: Store, groups: GroupService, issuance: IssuanceService, directory: DirectoryService, monitoring: MonitoringService, events: EventRecorder
    ) {
        self.store = store
        self.groups = groups
        self.issuance = issuance
        self.directory = directory
        self.monitoring = monitoring
        self.events = events
    }

    func device(_ id: String) async throws -> DeviceRecord {
        guard let row = try await store.read({ try await $0.devices.find(id: id) }) else {
            throw ServiceError.notFound("no device with id \(id.prefix(64))")
        }
        return row
    }

    func detail(_ id: String) async throws -> DeviceDetail {
        let row = try await device(id)
        let (certificates, credentials, history, firmware, factory) = try await store.read { session in
            (
                try await session.certificates.of(deviceID: id), try await session.credentials.of(deviceID: id),
                try await session.events.about(id, limit: 500), try await session.firmware.report(deviceID: id),
                try await session.devices.factoryCertificate(deviceID: id)
            )
        }
        return DeviceDetail(
            device: DeviceView(row),
            certificates: certificates.map { certificate in
                DeviceDetail.CertificateView(
                    serial: certificate.serial, notBefore: certificate.notBefore, notAfter: certificate.notAfter,
                    status: certificate.revokedAt == nil ? "good" : (certificate.isOnHold ? "on-hold" : "revoked"),
                    revokedAt: certificate.revokedAt, reason: certificate.reason?.name,
                    pem: certificate.pem
                )
            },
            credentials: credentials.map {
                DeviceDetail.CredentialView(id: $0.id, type: $0.kind.rawValue, statusIndex: $0.statusIndex, issuedAt: $0.issuedAt, expiresAt: $0.expiresAt, token: $0.token)
            },
            history: try history.map {
                DeviceDetail.EventView(seq: $0.seq, at: $0.at, kind: $0.kind, actor: $0.actor, data: try $0.data())
            },
            activity: ActivityView(monitoring.activity(of: id)),
            trust: TrustSummary(monitoring.trustReport(of: id)),
            firmware: firmware.map {
                DeviceFirmwareView(sha256: $0.digest, version: $0.version, status: $0.status.rawValue, phase: $0.phase.rawValue, reportedAt: $0.reportedAt)
            },
            factoryCertificate: factory
        )
    }

    /// Applies a lifecycle action in one transaction: state, certificates, status bits, event, as
    /// `DeviceLifecycle.plan` decides them. Returns the device after the change, and the bundle
    /// when approval issued its identity.
    func apply(
        _ action: LifecycleAction, to id: String, reason: RevocationReason?, actor: String, cause: [String: JSONValue]? = nil
    ) async throws -> (DeviceView, EnrollmentBundle?) {
        // A hold is what suspension puts on a certificate; a revocation for good never says "hold".
        if reason == .certificateHold, action == .revoke || action == .decommission {
            throw ServiceError.invalidRequest("certificate-hold is not a reason to \(action.rawValue): suspend the device to hold its certificates")
        }
        let (row, plan, bundle) = try await store.transaction { session -> (DeviceRecord, LifecyclePlan, EnrollmentBundle?) in
            guard var row = try await session.devices.find(id: id, forUpdate: true) else {
                throw ServiceError.notFound("no device with id \(id.prefix(64))")
            }
            let plan: LifecyclePlan
            switch DeviceLifecycle.plan(action, from: row.state, reason: reason) {
            case .success(let value): plan = value
            case .failure(let illegal):
                var error = ServiceError.conflict(illegal.description)
                error.members["legalActions"] = .string(illegal.legalActions.map(\.rawValue).joined(separator: " "))
                throw error
            }
            let stamp = self.events.clock.seconds
            row.state = plan.to
            row.updatedAt = stamp
            try await session.devices.update(row)
            let indexes = try await session.credentials.statusIndexes(deviceID: id)
            var bundle: EnrollmentBundle?
            // The revocation generation the changes are stamped with, taken before the first of them.
            var taken: Int?
            func generation() async throws -> Int {
                if let taken { return taken }
                let next = try await session.counters.next(.revocations)
                taken = next
                return next
            }
            for effect in plan.effects {
                switch effect {
                case .issueIdentity:
                    let group = try await GroupService.group(session, of: row)
                    try await self.issuance.checkGates(session, device: row, group: group, fresh: nil, latestCounts: true)
                    bundle = try await self.issuance.issueIdentity(session, device: row, key: try PublicKey(jwk: row.publicKey), group: group, actor: actor)
                case .holdCertificates:
                    try await session.certificates.revoke(deviceID: id, at: stamp, reason: .certificateHold, generation: try await generation())
                case .resolveHolds(let revokingFor):
                    try await session.certificates.resolveHolds(deviceID: id, at: stamp, revokingFor: revokingFor, generation: try await generation())
                case .revokeCertificates(let code):
                    try await session.certificates.revoke(deviceID: id, at: stamp, reason: code, generation: try await generation())
                case .setStatusBits(let purpose):
                    try await session.statusBits.set(purpose, indexes: indexes, at: stamp, generation: try await generation())
                case .clearStatusBits(let purpose):
                    try await session.statusBits.clear(purpose, indexes: indexes, generation: try await generation())
                case .advanceRevocations:
                    // Certificates or status bits changed: CRL, OCSP and status lists follow the generation.
                    _ = try await generation()
                case .clearMonitoring:
                    break  // after the commit
                }
            }
            var data: [String: JSONValue] = ["from": .string(plan.from.rawValue), "to": .string(plan.to.rawValue)]
            if let reason = plan.reason { data["reason"] = .string(reason.name) }
            if let cause { data["cause"] = .object(cause) }
            try await self.events.record(session, kind: plan.eventKind, subject: id, actor: actor, data: data)
            return (row, plan, bundle)
        }
        directory.invalidate(id)
        if !MonitoringService.isWatched(plan.to) {
            monitoring.retire(id)
        }
        if plan.effects.contains(LifecycleEffect.clearMonitoring) {
            // An operator looked and let the device back: what was held against it is cleared.
            monitoring.release(id, cause: "\(action.pastTense) by \(actor)")
        }
        var issued: EnrollmentBundle?
        if let bundle { issued = await issuance.withTrustBundle(bundle) }
        return (DeviceView(row), issued)
    }

    func devices(state: String?, group: String?, zone: String?, after: String?, limit: Int) async throws -> [DeviceView] {
        var stateFilter: DeviceState?
        if let state {
            guard let known = DeviceState(rawValue: state) else {
                throw ServiceError.invalidRequest("state must be one of \(DeviceState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            stateFilter = known
        }
        let wanted = stateFilter
        var groupID: String?
        if let group {
            guard let row = try await groups.find(group) else { throw ServiceError.notFound("no enrollment group \(group.prefix(64))") }
            groupID = row.id
        }
        let groupFilter = groupID
        return try await store.read { try await $0.devices.list(state: wanted, groupID: groupFilter, zone: zone, after: after, limit: limit) }
            .map(DeviceView.init)
    }

    func lastEvent() async throws -> Int {
        try await store.read { try await $0.counters.current(.events) }
    }

    func fleetCounts() async throws -> (devicesByState: [DeviceState: Int], lastEvent: Int) {
        try await store.read { (try await $0.devices.countsByState(), try await $0.counters.current(.events)) }
    }

    func events(after: Int, limit: Int) async throws -> (events: [EventRecord], last: Int) {
        try await store.read { (try await $0.events.after(after, limit: limit), try await $0.counters.current(.events)) }
    }
}
