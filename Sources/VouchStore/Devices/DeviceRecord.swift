import VouchCore
import VouchKit

/// A device as stored.
package struct DeviceRecord: Sendable, Hashable {
    package var id: String
    package var groupId: String
    package var zone: String
    package var state: DeviceState
    package var did: String
    /// RFC 7638 thumbprint of `publicKey`.
    package var keyThumbprint: String
    package var publicKey: JWK
    package var attributes: [String: String]
    package var roles: [String]
    /// DIDs the device had before key rotations, oldest first.
    package var previousDids: [String]
    package var createdAt: Int
    package var updatedAt: Int

    package init(
        id: String, groupId: String, zone: String, state: DeviceState, did: String, keyThumbprint: String, publicKey: JWK,
        attributes: [String: String], roles: [String], previousDids: [String], createdAt: Int, updatedAt: Int
    ) {
        self.id = id
        self.groupId = groupId
        self.zone = zone
        self.state = state
        self.did = did
        self.keyThumbprint = keyThumbprint
        self.publicKey = publicKey
        self.attributes = attributes
        self.roles = roles
        self.previousDids = previousDids
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
