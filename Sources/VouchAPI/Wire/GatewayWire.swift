import Foundation
import VouchKit

/// A device as an enforcement point (a broker plugin, a gateway) decides for it: `GET /v1/gateway/devices`
/// pages and the `device` frames of `GET /v1/gateway/stream`. Everything a decision needs, and no more.
public struct GatewayDevice: Codable, Sendable, Hashable {
    public var id: String
    public var did: String
    /// `pending`, `active`, `suspended`, `quarantined`, `revoked` or `decommissioned`; only active and
    /// quarantined devices may act.
    public var state: String
    public var zone: String
    /// The enrollment group's name.
    public var group: String
    public var attributes: [String: String]
    public var roles: [String]
    /// Serials (lower-case hex) of the device's certificates that are neither revoked, on hold nor
    /// expired: the certificates it may connect with.
    public var serials: [String]
    /// The device's public key, to check what it signs (telemetry envelopes).
    public var publicKey: JWK

    public init(
        id: String, did: String, state: String, zone: String, group: String, attributes: [String: String], roles: [String], serials: [String],
        publicKey: JWK
    ) {
        self.id = id
        self.did = did
        self.state = state
        self.zone = zone
        self.group = group
        self.attributes = attributes
        self.roles = roles
        self.serials = serials
        self.publicKey = publicKey
    }
}

/// A page of `GET /v1/gateway/devices`.
public struct GatewayDevicePage: Codable, Sendable {
    /// The newest event sequence number when the first page was read (carried by `cursor`): a
    /// client streams changes after it, so that nothing changed during the walk is missed.
    public var sequence: Int
    public var devices: [GatewayDevice]
    /// Give as `after` for the next page; absent on the last.
    public var next: String?

    public init(sequence: Int, devices: [GatewayDevice], next: String?) {
        self.sequence = sequence
        self.devices = devices
        self.next = next
    }
}

/// The policy in force as an enforcement point compiles it: `GET /v1/gateway/policy` and the
/// `policy` frames of `GET /v1/gateway/stream`. Version 0 with an empty source: none uploaded
/// yet, so every request is denied.
public struct GatewayPolicy: Codable, Sendable, Hashable {
    public var version: Int
    public var source: String

    public init(version: Int, source: String) {
        self.version = version
        self.source = source
    }
}

/// A `removed` frame of `GET /v1/gateway/stream`: the device no longer exists here.
public struct GatewayRemoval: Codable, Sendable, Hashable {
    public var id: String

    public init(id: String) { self.id = id }
}

/// What an enforcement point saw one device do since its last report: `POST /v1/gateway/reports`.
/// Vouch's monitoring takes it as it takes signed telemetry (connections, messages and bytes in,
/// denials, forged and replayed envelopes, clock skew, new source addresses).
public struct GatewayDeviceReport: Codable, Sendable, Hashable {
    public var id: String
    public var connects: Int = 0
    public var disconnects: Int = 0
    /// Connections refused although the certificate named this device (revoked, on hold, superseded,
    /// another's client id).
    public var authFailures: Int = 0
    public var messagesIn: Int = 0
    public var bytesIn: Int = 0
    public var messagesOut: Int = 0
    public var bytesOut: Int = 0
    /// Publishes, subscriptions and deliveries the policy denied.
    public var denials: Int = 0
    /// Messages on signed topics that were no envelope of the device's, or not for that topic.
    public var forged: Int = 0
    /// Envelopes whose sequence number was not above the last one accepted.
    public var replayed: Int = 0
    /// Envelopes outside the clock window.
    public var clockSkew: Int = 0
    /// Addresses the device connected from (at most 16).
    public var sources: [String] = []

    public init(id: String) { self.id = id }

    /// Counts left out are 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        func count(_ key: CodingKeys) throws -> Int { try container.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        connects = try count(.connects)
        disconnects = try count(.disconnects)
        authFailures = try count(.authFailures)
        messagesIn = try count(.messagesIn)
        bytesIn = try count(.bytesIn)
        messagesOut = try count(.messagesOut)
        bytesOut = try count(.bytesOut)
        denials = try count(.denials)
        forged = try count(.forged)
        replayed = try count(.replayed)
        clockSkew = try count(.clockSkew)
        sources = try container.decodeIfPresent([String].self, forKey: .sources) ?? []
    }

    /// The counts, by name (for checks and logs).
    public var counts: [(name: String, value: Int)] {
        [
            ("connects", connects), ("disconnects", disconnects), ("authFailures", authFailures), ("messagesIn", messagesIn), ("bytesIn", bytesIn),
            ("messagesOut", messagesOut), ("bytesOut", bytesOut), ("denials", denials), ("forged", forged), ("replayed", replayed),
            ("clockSkew", clockSkew),
        ]
    }

    /// The most addresses kept per report.
    public static let sourceLimit = 16

    /// Adds a source address, unless it is there or the report holds `sourceLimit` already.
    public mutating func add(source: String) {
        if sources.count < Self.sourceLimit, !sources.contains(source) { sources.append(source) }
    }

    /// Adds another report's counts and addresses to this one's.
    public mutating func add(_ other: GatewayDeviceReport) {
        connects += other.connects
        disconnects += other.disconnects
        authFailures += other.authFailures
        messagesIn += other.messagesIn
        bytesIn += other.bytesIn
        messagesOut += other.messagesOut
        bytesOut += other.bytesOut
        denials += other.denials
        forged += other.forged
        replayed += other.replayed
        clockSkew += other.clockSkew
        for source in other.sources { add(source: source) }
    }
}

/// A batch of reports (at most 1,000 devices).
public struct GatewayReport: Codable, Sendable {
    public var devices: [GatewayDeviceReport]

    public init(devices: [GatewayDeviceReport]) { self.devices = devices }

    public static let limit = 1000
}

/// The answer to a batch: how many devices' reports were taken, and the ids that are no device here.
public struct GatewayReportAnswer: Codable, Sendable {
    public var accepted: Int
    public var unknown: [String]

    public init(accepted: Int, unknown: [String]) {
        self.accepted = accepted
        self.unknown = unknown
    }
}
