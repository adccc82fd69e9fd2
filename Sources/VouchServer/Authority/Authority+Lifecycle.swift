import Foundation
import VouchCore
import VouchKit
import VouchStore

/// A device as the admin API shows it.
struct DeviceView: Codable, Sendable {
    var id: String
    var group: String
    var zone: String
    var state: String
    var did: String
    var keyThumbprint: String
    var attributes: [String: String]
    var roles: [String]
    var previousDids: [String]
    var legalActions: [String]
    var createdAt: Int
    var updatedAt: Int

    init(_ row: DeviceRow) throws {
        id = row.id
        group = row.groupId
        zone = row.zone
        state = row.state
        did = row.did
        keyThumbprint = row.keyThumbprint
        attributes = try Authority.decode([String: String].self, from: row.attributes)
        roles = try Authority.decode([String].self, from: row.roles)
        previousDids = try Authority.decode([String].self, from: row.previousDids)
        legalActions = DeviceState(rawValue: row.state).map { DeviceLifecycle.legalActions(from: $0).map(\.rawValue) } ?? []
        createdAt = row.createdAt
        updatedAt = row.updatedAt
    }
}

/// A device with its certificates, credentials and history.
struct DeviceDetail: Codable, Sendable {
    struct CertificateView: Codable, Sendable {
        var serial: String
        var notBefore: Int
        var notAfter: Int
        var status: String
        var revokedAt: Int?
        var reason: String?
        var pem: String
    }
    struct CredentialView: Codable, Sendable {
        var id: String
        var type: String
        var statusIndex: Int
        var issuedAt: Int
        var expiresAt: Int
        var token: String
    }
    struct EventView: Codable, Sendable {
        var seq: Int
        var at: Int
        var kind: String
        var actor: String
        var data: JSONValue
    }
    var device: DeviceView
    var certificates: [CertificateView]
    var credentials: [CredentialView]
    var history: [EventView]
    /// What this server has observed of the device: each metric over the last minute, 5 minutes
    /// and hour (`{"messages": [1, 5, 60], …}`), and the source addresses it came from.
    var activity: ActivityView
    /// The trust score and its arithmetic (`GET /v1/devices/{id}/trust` has the whole report).
    var trust: TrustSummary
    /// The latest firmware report and what it was judged.
    var firmware: DeviceFirmwareView?
    /// The factory certificate that vouched for the device (SHA-256 of its DER, hex), for devices
    /// enrolled by manufacturer attestation.
    var factoryCertificate: String?
}

struct TrustSummary: Codable, Sendable {
    var score: Int
    var explanation: String

    init(_ report: TrustReport) {
        score = report.score
        explanation = report.explanation
    }
}

/// Counts per metric over 1 minute, 5 minutes, 1 hour, and the mean message size; metrics never
/// observed are left out; `distinctSourceAddresses` is how many the device came from.
struct ActivityView: Codable, Sendable {
    var metrics: [String: [Int]]
    var sourceAddresses: [String]
    var distinctSourceAddresses: Int

    init(_ state: FleetMonitor.Activity?) {
        var metrics: [String: [Int]] = [:]
        if let windows = state?.windows {
            for metric in DeviceMetric.allCases where windows.lastHour(metric) > 0 {
                metrics[metric.description] = [windows.lastMinute(metric), windows.lastFiveMinutes(metric), windows.lastHour(metric)]
            }
            // The mean message size (bytes per accepted message) over the same windows.
            if let messages = metrics[DeviceMetric.messages.description], let bytes = metrics[DeviceMetric.bytes.description] {
                metrics["message_size"] = zip(bytes, messages).map { $1 == 0 ? 0 : $0 / $1 }
            }
        }
        self.metrics = metrics
        sourceAddresses = (state?.addresses.keys.map(\.description) ?? []).sorted()
        distinctSourceAddresses = sourceAddresses.count
    }
}

struct DeviceFirmwareView: Codable, Sendable {
    var sha256: String
    var version: String
    var status: String
    var phase: String
    var reportedAt: Int
}

extension Authority {
    func device(_ id: String) async throws -> DeviceRow {
        guard let row = try await store.read({ try await $0.device(id: id) }) else {
            throw APIError.notFound("no device with id \(id.prefix(64))")
        }
        return row
    }

    func deviceDetail(_ id: String) async throws -> DeviceDetail {
        let row = try await device(id)
        let (certificates, credentials, events, firmware, factory) = try await store.read { session in
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
            history: try events.map {
                DeviceDetail.EventView(seq: $0.seq, at: $0.at, kind: $0.kind, actor: $0.actor, data: try JSONValue(parsing: Data($0.data.utf8)))
            },
            activity: ActivityView(monitor.activity(of: id, at: now)),
            trust: TrustSummary(monitor.trust(of: id, at: now)),
            firmware: firmware.map {
                DeviceFirmwareView(sha256: $0.digest, version: $0.version, status: $0.status, phase: $0.phase, reportedAt: $0.reportedAt)
            },
            factoryCertificate: factory
        )
    }

    /// Applies a lifecycle action in one transaction: state, certificates, status bits, event.
    /// Returns the device after the change, and the bundle when approval issued its identity.
    func apply(
        _ action: LifecycleAction, to id: String, reason: RevocationReason?, actor: String, cause: [String: JSONValue]? = nil
    ) async throws -> (DeviceView, EnrollmentBundle?) {
        let (row, bundle) = try await store.transaction { session -> (DeviceRow, EnrollmentBundle?) in
            guard var row = try await session.device(id: id, forUpdate: true) else {
                throw APIError.notFound("no device with id \(id.prefix(64))")
            }
            guard let state = DeviceState(rawValue: row.state) else { throw StoreError.corrupt("device \(id) has state \(row.state)") }
            let next: DeviceState
            switch DeviceLifecycle.transition(from: state, on: action) {
            case .success(let value): next = value
            case .failure(let illegal):
                var error = APIError.conflict(illegal.description)
                error.extensions["legalActions"] = illegal.legalActions.map(\.rawValue).joined(separator: " ")
                throw error
            }
            let stamp = self.nowSeconds
            row.state = next.rawValue
            row.updatedAt = stamp
            try await session.update(row)
            let indexes = try await session.statusIndexes(deviceID: id)
            var data: [String: JSONValue] = ["from": .string(state.rawValue), "to": .string(next.rawValue)]
            var bundle: EnrollmentBundle?
            switch action {
            case .approve:
                guard let group = try await session.group(id: row.groupId) else { throw StoreError.corrupt("device \(id) has no group") }
                let rules = try Self.decode(EnrollmentRules.self, from: group.settings)
                try await self.checkIssuanceGates(session, device: row, group: group, rules: rules, fresh: nil, latestCounts: true)
                let key = try PublicKey(jwk: try Self.decode(JWK.self, from: row.publicKey))
                bundle = try await self.issueIdentity(session, device: row, key: key, rules: rules, groupName: group.name, actor: actor)
            case .suspend:
                try await session.revokeCertificates(deviceID: id, at: stamp, reason: RevocationReason.certificateHold.rawValue)
                try await session.setStatusBits(purpose: StatusPurpose.suspension.rawValue, indexes: indexes, at: stamp)
            case .reinstate:
                try await session.resolveHolds(deviceID: id, at: stamp, reason: nil)
                try await session.clearStatusBits(purpose: StatusPurpose.suspension.rawValue, indexes: indexes)
            case .quarantine:
                // The certificate stays good, so that the device can still reach the authority for its
                // quarantine allow-list (re-attestation, firmware). Its credentials are suspended, so
                // offline verifiers, which cannot see the quarantine zone, refuse its capabilities.
                // Only an active device is quarantined, so there is no hold here to keep or lift.
                try await session.setStatusBits(purpose: StatusPurpose.suspension.rawValue, indexes: indexes, at: stamp)
            case .release:
                try await session.clearStatusBits(purpose: StatusPurpose.suspension.rawValue, indexes: indexes)
            case .revoke, .decommission:
                let code = (reason ?? (action == .revoke ? .unspecified : .cessationOfOperation))
                data["reason"] = .string(code.name)
                try await session.resolveHolds(deviceID: id, at: stamp, reason: code.rawValue)
                try await session.revokeCertificates(deviceID: id, at: stamp, reason: code.rawValue)
                try await session.clearStatusBits(purpose: StatusPurpose.suspension.rawValue, indexes: indexes)
                try await session.setStatusBits(purpose: StatusPurpose.revocation.rawValue, indexes: indexes, at: stamp)
            }
            if [.suspend, .reinstate, .quarantine, .release, .revoke, .decommission].contains(action) {
                // Certificates or status bits changed: CRL and status lists must be rebuilt.
                _ = try await session.next("revocations")
            }
            if let reason, action != .revoke, action != .decommission {
                data["reason"] = .string(reason.name)
            }
            if let cause { data["cause"] = .object(cause) }
            try await self.record(session, kind: "device.\(Self.pastTense(action))", subject: id, actor: actor, data: data)
            return (row, bundle)
        }
        directory.invalidate(id)
        if action == .release || action == .reinstate {
            // An operator looked and let the device back: what was held against it is cleared.
            monitor.release(id, at: now, cause: "\(Self.pastTense(action)) by \(actor)")
        }
        var issued: EnrollmentBundle?
        if let bundle { issued = await withTrustBundle(bundle) }
        return (try DeviceView(row), issued)
    }

    static func pastTense(_ action: LifecycleAction) -> String {
        switch action {
        case .approve: "approved"
        case .suspend: "suspended"
        case .reinstate: "reinstated"
        case .quarantine: "quarantined"
        case .release: "released"
        case .revoke: "revoked"
        case .decommission: "decommissioned"
        }
    }

    func devices(state: String?, group: String?, zone: String?, after: String?, limit: Int) async throws -> [DeviceView] {
        if let state, DeviceState(rawValue: state) == nil {
            throw APIError.badRequest("state must be one of \(DeviceState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var groupID: String?
        if let group {
            guard let row = try await findGroup(group) else { throw APIError.notFound("no enrollment group \(group.prefix(64))") }
            groupID = row.id
        }
        let groupFilter = groupID
        return try await store.read { try await $0.devices(state: state, groupID: groupFilter, zone: zone, after: after, limit: limit) }
            .map(DeviceView.init)
    }
}
