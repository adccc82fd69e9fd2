import Foundation
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

    func device(_ id: String) async throws -> DeviceRow {
        guard let row = try await store.read({ try await $0.device(id: id) }) else {
            throw ServiceError.notFound("no device with id \(id.prefix(64))")
        }
        return row
    }

    func detail(_ id: String) async throws -> DeviceDetail {
        let row = try await device(id)
        let (certificates, credentials, history, firmware, factory) = try await store.read { session in
            (
                try await session.certificates(deviceID: id), try await session.credentials(deviceID: id),
                try await session.events(subject: id, limit: 500), try await session.deviceFirmware(deviceID: id),
                try await session.factoryCertificate(deviceID: id)
            )
        }
        return DeviceDetail(
            device: try DeviceView(row),
            certificates: certificates.map { certificate in
                DeviceDetail.CertificateView(
                    serial: certificate.serial, notBefore: certificate.notBefore, notAfter: certificate.notAfter,
                    status: certificate.revokedAt == nil ? "good" : (certificate.reason == RevocationReason.certificateHold.rawValue ? "on-hold" : "revoked"),
                    revokedAt: certificate.revokedAt, reason: certificate.reason.flatMap(RevocationReason.init(rawValue:))?.name,
                    pem: certificate.pem
                )
            },
            credentials: credentials.map {
                DeviceDetail.CredentialView(id: $0.id, type: $0.type, statusIndex: $0.statusIndex, issuedAt: $0.issuedAt, expiresAt: $0.expiresAt, token: $0.token)
            },
            history: try history.map {
                DeviceDetail.EventView(seq: $0.seq, at: $0.at, kind: $0.kind, actor: $0.actor, data: try JSONValue(parsing: Data($0.data.utf8)))
            },
            activity: ActivityView(monitoring.activity(of: id)),
            trust: TrustSummary(monitoring.trustReport(of: id)),
            firmware: firmware.map {
                DeviceFirmwareView(sha256: $0.digest, version: $0.version, status: $0.status, phase: $0.phase, reportedAt: $0.reportedAt)
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
        let (row, plan, bundle) = try await store.transaction { session -> (DeviceRow, LifecyclePlan, EnrollmentBundle?) in
            guard var row = try await session.device(id: id, forUpdate: true) else {
                throw ServiceError.notFound("no device with id \(id.prefix(64))")
            }
            guard let state = DeviceState(rawValue: row.state) else { throw StoreError.corrupt("device \(id) has state \(row.state)") }
            let plan: LifecyclePlan
            switch DeviceLifecycle.plan(action, from: state, reason: reason) {
            case .success(let value): plan = value
            case .failure(let illegal):
                var error = ServiceError.conflict(illegal.description)
                error.members["legalActions"] = .string(illegal.legalActions.map(\.rawValue).joined(separator: " "))
                throw error
            }
            let stamp = self.events.clock.seconds
            row.state = plan.to.rawValue
            row.updatedAt = stamp
            try await session.update(row)
            let indexes = try await session.statusIndexes(deviceID: id)
            var bundle: EnrollmentBundle?
            for effect in plan.effects {
                switch effect {
                case .issueIdentity:
                    let (group, rules) = try await GroupService.rules(session, for: row)
                    try await self.issuance.checkGates(session, device: row, group: group, rules: rules, fresh: nil, latestCounts: true)
                    let key = try PublicKey(jwk: try StoredJSON.decode(JWK.self, from: row.publicKey))
                    bundle = try await self.issuance.issueIdentity(session, device: row, key: key, rules: rules, groupName: group.name, actor: actor)
                case .holdCertificates:
                    try await session.revokeCertificates(deviceID: id, at: stamp, reason: RevocationReason.certificateHold.rawValue)
                case .resolveHolds(let revokingFor):
                    try await session.resolveHolds(deviceID: id, at: stamp, reason: revokingFor?.rawValue)
                case .revokeCertificates(let code):
                    try await session.revokeCertificates(deviceID: id, at: stamp, reason: code.rawValue)
                case .setStatusBits(let purpose):
                    try await session.setStatusBits(purpose: purpose.rawValue, indexes: indexes, at: stamp)
                case .clearStatusBits(let purpose):
                    try await session.clearStatusBits(purpose: purpose.rawValue, indexes: indexes)
                case .advanceRevocations:
                    // Certificates or status bits changed: CRL and status lists must be rebuilt.
                    _ = try await session.next("revocations")
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
        if plan.effects.contains(.clearMonitoring) {
            // An operator looked and let the device back: what was held against it is cleared.
            monitoring.release(id, cause: "\(action.pastTense) by \(actor)")
        }
        var issued: EnrollmentBundle?
        if let bundle { issued = await issuance.withTrustBundle(bundle) }
        return (try DeviceView(row), issued)
    }

    func devices(state: String?, group: String?, zone: String?, after: String?, limit: Int) async throws -> [DeviceView] {
        if let state, DeviceState(rawValue: state) == nil {
            throw ServiceError.invalidRequest("state must be one of \(DeviceState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var groupID: String?
        if let group {
            guard let row = try await groups.find(group) else { throw ServiceError.notFound("no enrollment group \(group.prefix(64))") }
            groupID = row.id
        }
        let groupFilter = groupID
        return try await store.read { try await $0.devices(state: state, groupID: groupFilter, zone: zone, after: after, limit: limit) }
            .map(DeviceView.init)
    }
}
