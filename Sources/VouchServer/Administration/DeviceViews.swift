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

    init(_ row: DeviceRecord) {
        id = row.id
        group = row.groupId
        zone = row.zone
        state = row.state.rawValue
        did = row.did
        keyThumbprint = row.keyThumbprint
        attributes = row.attributes
        roles = row.roles
        previousDids = row.previousDids
        legalActions = DeviceLifecycle.legalActions(from: row.state).map(\.rawValue)
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
