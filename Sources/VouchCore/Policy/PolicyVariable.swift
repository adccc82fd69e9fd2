import Foundation
import VouchKit

/// A variable in a resource: `${device.id}`, `${device.did}`, `${device.zone}`, `${device.group}`,
/// `${device.attributes.NAME}`, or `${device.NAME}` for an attribute NAME (like `${device.model}`).
enum PolicyVariable: Sendable, Hashable, CustomStringConvertible {
    case id, did, zone, group
    case attribute(String)

    init?(name: String) {
        guard name.hasPrefix("device.") else { return nil }
        let rest = String(name.dropFirst("device.".count))
        switch rest {
        case "id": self = .id
        case "did": self = .did
        case "zone": self = .zone
        case "group": self = .group
        default:
            let attribute = rest.hasPrefix("attributes.") ? String(rest.dropFirst("attributes.".count)) : rest
            guard EnrollmentRules.isName(attribute) else { return nil }
            self = .attribute(attribute)
        }
    }

    func value(_ device: DeviceFacts) -> String? {
        switch self {
        case .id: device.id
        case .did: device.did
        case .zone: device.zone
        case .group: device.group
        case .attribute(let name): device.attributes[name]
        }
    }

    var description: String {
        switch self {
        case .id: "${device.id}"
        case .did: "${device.did}"
        case .zone: "${device.zone}"
        case .group: "${device.group}"
        case .attribute(let name): "${device.\(name)}"
        }
    }
}
