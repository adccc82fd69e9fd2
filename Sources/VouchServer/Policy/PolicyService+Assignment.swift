import Foundation
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

extension PolicyService {
    /// Moves a device to another zone or gives it other roles. The zone and roles must be defined
    /// by the policy in force; `quarantine` is entered and left through the lifecycle actions.
    /// A move or a role taken away revokes the credentials issued so far (the device renews);
    /// a role added shows in the credentials of the next renewal.
    func assign(_ id: String, _ request: AssignmentRequest, actor: String) async throws -> DeviceView {
        // An unknown device is 404 whatever the body says; the transaction below checks again.
        guard try await store.read({ try await $0.devices.find(id: id) }) != nil else {
            throw ServiceError.notFound("no device with id \(id.prefix(64))")
        }
        let policy = current
        if let zone = request.zone {
            guard zone != ZoneRules.quarantineZone else {
                throw ServiceError.unprocessable("a device enters the quarantine zone with POST /v1/admin/devices/\(id.prefix(64))/quarantine, and leaves it with /release")
            }
            guard policy.zoneRules.zones.contains(zone) else {
                throw ServiceError.unprocessable("zone \(zone.prefix(64)) is not defined by policy version \(policy.version); zones: \(policy.zoneRules.zones.subtracting([ZoneRules.quarantineZone]).sorted().joined(separator: ", "))")
            }
        }
        if let roles = request.roles {
            guard roles.count <= 32, Set(roles).count == roles.count else { throw ServiceError.unprocessable("roles must be at most 32 distinct names") }
            for role in roles where !policy.defines(role: role) {
                throw ServiceError.unprocessable("role \(role.prefix(64)) is not defined by policy version \(policy.version)")
            }
        }
        guard request.zone != nil || request.roles != nil else { throw ServiceError.invalidRequest("give zone, roles or both") }
        let row = try await store.transaction { session -> DeviceRecord in
            guard var row = try await session.devices.find(id: id, forUpdate: true) else {
                throw ServiceError.notFound("no device with id \(id.prefix(64))")
            }
            guard !row.state.isTerminal, row.state != .revoked else {
                throw ServiceError.conflict("device \(id) is \(row.state.rawValue); its zone and roles no longer change")
            }
            var data: [String: JSONValue] = [:]
            // Credentials name the zone and carry their roles' capabilities: moving the device or
            // taking a role away revokes them, so that offline verifiers stop honouring what no
            // longer holds. The device renews for credentials that say what does.
            var narrowed = false
            if let zone = request.zone, zone != row.zone {
                data["zone"] = ["from": .string(row.zone), "to": .string(zone)]
                row.zone = zone
                narrowed = true
            }
            if let roles = request.roles {
                let before = row.roles
                if before != roles {
                    data["roles"] = ["from": .array(before.map(JSONValue.string)), "to": .array(roles.map(JSONValue.string))]
                    row.roles = roles
                    narrowed = narrowed || !Set(before).isSubset(of: roles)
                }
            }
            guard !data.isEmpty else { return row }
            let stamp = self.events.clock.seconds
            if narrowed {
                let indexes = try await session.credentials.statusIndexes(deviceID: id)
                let generation = try await session.counters.next(.revocations)
                try await session.statusBits.set(.revocation, indexes: indexes, at: stamp, generation: generation)
                data["credentialsRevoked"] = .bool(!indexes.isEmpty)
            }
            row.updatedAt = stamp
            try await session.devices.update(row)
            try await self.events.record(session, kind: .deviceAssigned, subject: id, actor: actor, data: data)
            return row
        }
        directory.invalidate(id)
        return DeviceView(row)
    }
}
