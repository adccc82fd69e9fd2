import Foundation
import VouchKit

/// The facts about a device that policy variables read.
public struct DeviceFacts: Sendable, Hashable {
    /// The device id (`${device.id}`).
    public var id: String
    /// The device's current DID (`${device.did}`).
    public var did: String
    /// The zone the device belongs to (its home zone, even while quarantined).
    public var zone: String
    /// The enrollment group's name.
    public var group: String
    /// Attributes given at enrollment (`${device.NAME}`).
    public var attributes: [String: String]
    /// The roles whose statements apply.
    public var roles: [String]
    /// Whether only the quarantine allow-list applies.
    public var quarantined: Bool

    /// Creates the facts.
    public init(id: String, did: String, zone: String, group: String, attributes: [String: String], roles: [String], quarantined: Bool) {
        self.id = id
        self.did = did
        self.zone = zone
        self.group = group
        self.attributes = attributes
        self.roles = roles
        self.quarantined = quarantined
    }
}
