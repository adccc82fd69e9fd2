import Foundation
import VouchCore
import VouchKit

/// A device as the admin API shows it.
public struct DeviceView: Codable, Sendable {
    public var id: String
    public var group: String
    public var zone: String
    public var state: String
    public var did: String
    public var keyThumbprint: String
    public var attributes: [String: String]
    public var roles: [String]
    public var previousDids: [String]
    public var legalActions: [String]
    public var createdAt: Int
    public var updatedAt: Int

    public init(
        id: String, group: String, zone: String, state: String, did: String, keyThumbprint: String, attributes: [String: String], roles: [String],
        previousDids: [String], legalActions: [String], createdAt: Int, updatedAt: Int
    ) {
        self.id = id
        self.group = group
        self.zone = zone
        self.state = state
        self.did = did
        self.keyThumbprint = keyThumbprint
        self.attributes = attributes
        self.roles = roles
        self.previousDids = previousDids
        self.legalActions = legalActions
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A device with its certificates, credentials and history.
public struct DeviceDetail: Codable, Sendable {
    public struct CertificateView: Codable, Sendable {
        public var serial: String
        public var notBefore: Int
        public var notAfter: Int
        public var status: String
        public var revokedAt: Int?
        public var reason: String?
        public var pem: String

        public init(serial: String, notBefore: Int, notAfter: Int, status: String, revokedAt: Int? = nil, reason: String? = nil, pem: String) {
            self.serial = serial
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.status = status
            self.revokedAt = revokedAt
            self.reason = reason
            self.pem = pem
        }
    }

    public struct CredentialView: Codable, Sendable {
        public var id: String
        public var type: String
        public var statusIndex: Int
        public var issuedAt: Int
        public var expiresAt: Int
        public var token: String

        public init(id: String, type: String, statusIndex: Int, issuedAt: Int, expiresAt: Int, token: String) {
            self.id = id
            self.type = type
            self.statusIndex = statusIndex
            self.issuedAt = issuedAt
            self.expiresAt = expiresAt
            self.token = token
        }
    }

    public struct EventView: Codable, Sendable {
        public var seq: Int
        public var at: Int
        public var kind: String
        public var actor: String
        public var data: JSONValue

        public init(seq: Int, at: Int, kind: String, actor: String, data: JSONValue) {
            self.seq = seq
            self.at = at
            self.kind = kind
            self.actor = actor
            self.data = data
        }
    }

    public var device: DeviceView
    public var certificates: [CertificateView]
    public var credentials: [CredentialView]
    public var history: [EventView]
    /// What this server has observed of the device: each metric over the last minute, 5 minutes
    /// and hour (`{"messages": [1, 5, 60], …}`), and the source addresses it came from.
    public var activity: ActivityView
    /// The trust score and its arithmetic (`GET /v1/devices/{id}/trust` has the whole report).
    public var trust: TrustSummary
    /// The latest firmware report and what it was judged.
    public var firmware: DeviceFirmwareView?
    /// The factory certificate that vouched for the device (SHA-256 of its DER, hex), for devices
    /// enrolled by manufacturer attestation.
    public var factoryCertificate: String?

    public init(
        device: DeviceView, certificates: [CertificateView], credentials: [CredentialView], history: [EventView], activity: ActivityView,
        trust: TrustSummary, firmware: DeviceFirmwareView? = nil, factoryCertificate: String? = nil
    ) {
        self.device = device
        self.certificates = certificates
        self.credentials = credentials
        self.history = history
        self.activity = activity
        self.trust = trust
        self.firmware = firmware
        self.factoryCertificate = factoryCertificate
    }
}

/// A device's trust score and its arithmetic in one line.
public struct TrustSummary: Codable, Sendable {
    public var score: Int
    public var explanation: String

    public init(score: Int, explanation: String) {
        self.score = score
        self.explanation = explanation
    }

    public init(_ report: TrustReport) {
        self.init(score: report.score, explanation: report.explanation)
    }
}

/// Counts per metric over 1 minute, 5 minutes, 1 hour, and the mean message size; metrics never
/// observed are left out; `distinctSourceAddresses` is how many the device came from.
public struct ActivityView: Codable, Sendable {
    /// Each metric's count by window: `{"1m": …, "5m": …, "1h": …}`.
    public var metrics: [String: [String: Int]]
    public var sourceAddresses: [String]
    public var distinctSourceAddresses: Int

    public init(metrics: [String: [String: Int]], sourceAddresses: [String], distinctSourceAddresses: Int) {
        self.metrics = metrics
        self.sourceAddresses = sourceAddresses
        self.distinctSourceAddresses = distinctSourceAddresses
    }
}

/// A device's latest firmware report and its verdict.
public struct DeviceFirmwareView: Codable, Sendable {
    public var sha256: String
    public var version: String
    public var status: String
    public var phase: String
    public var reportedAt: Int

    public init(sha256: String, version: String, status: String, phase: String, reportedAt: Int) {
        self.sha256 = sha256
        self.version = version
        self.status = status
        self.phase = phase
        self.reportedAt = reportedAt
    }
}
