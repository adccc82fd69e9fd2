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
