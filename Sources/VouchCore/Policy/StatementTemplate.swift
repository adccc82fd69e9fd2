import Foundation
import VouchKit

/// The facts about a device that policy variables read.
public struct DeviceFacts: Sendable, Hashable {
    public var id: String
    public var did: String
    /// The zone the device belongs to (its home zone, even while quarantined).
    public var zone: String
    /// The enrollment group's name.
    public var group: String
    public var attributes: [String: String]
    public var roles: [String]
    public var quarantined: Bool

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

/// Why a device's values cannot fill a resource's variables.
struct ExpansionFailure: Error {
    let reason: String
}

/// A resource as written in a policy: text with variables filled in per device.
struct ResourceTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Piece: Sendable, Hashable {
        case text(String)
        case variable(PolicyVariable)
    }

    let pieces: [Piece]
    let description: String

    /// Parses `${…}` variables; checks that the pattern is valid whatever the variables hold.
    init(_ text: String) throws(AuthorizationError) {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if start.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<start.lowerBound]))) }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw AuthorizationError.invalidPattern("\"\(text.prefix(80))\" opens a variable with ${ and never closes it")
            }
            let name = String(rest[start.upperBound..<end])
            guard let variable = PolicyVariable(name: name) else {
                throw AuthorizationError.invalidPattern(
                    "unknown variable ${\(name.prefix(64))}; use ${device.id}, ${device.did}, ${device.zone}, ${device.group} or ${device.ATTRIBUTE}"
                )
            }
            pieces.append(.variable(variable))
            rest = rest[rest.index(after: end)...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
        self.description = text
        // A variable stands for one plain piece of a segment: try the pattern with a placeholder.
        _ = try ResourcePattern(pieces.map { piece in
            if case .text(let value) = piece { return value }
            return "v"
        }.joined())
    }

    /// The pattern for `device`, or why the device's values cannot fill it.
    func expand(_ device: DeviceFacts) -> Result<ResourcePattern, ExpansionFailure> {
        var text = ""
        for piece in pieces {
            switch piece {
            case .text(let value):
                text += value
            case .variable(let variable):
                guard let value = variable.value(device), !value.isEmpty else {
                    return .failure(ExpansionFailure(reason: "\(variable) has no value for device \(device.id)"))
                }
                guard Self.isUsable(value) else {
                    return .failure(ExpansionFailure(reason: "\(variable) of device \(device.id) holds '/', '+', '#', '*', '$' or a control character, which a resource variable cannot"))
                }
                text += value
            }
        }
        do {
            return .success(try ResourcePattern(text))
        } catch {
            return .failure(ExpansionFailure(reason: error.reason))
        }
    }

    /// Values that fill a variable as plain text: never a wildcard, never a segment separator.
    static func isUsable(_ value: String) -> Bool {
        !value.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0x2F || $0 == 0x2B || $0 == 0x23 || $0 == 0x2A || $0 == 0x24 }
    }

    var hasVariables: Bool {
        pieces.contains { if case .variable = $0 { return true } else { return false } }
    }
}

/// A statement as written in a policy: resources may hold variables.
public struct StatementTemplate: Sendable, Hashable {
    public let effect: PolicyStatement.Effect
    public let actions: [String]
    let resources: [ResourceTemplate]
    public let conditions: PolicyConditions
    /// Where it is written, such as `roles.sensor.allow[0]`.
    public let source: String

    init(effect: PolicyStatement.Effect, actions: [String], resources: [ResourceTemplate], conditions: PolicyConditions, source: String) throws(AuthorizationError) {
        guard !actions.isEmpty else { throw AuthorizationError.invalidStatement("a statement needs at least one action") }
        guard !resources.isEmpty else { throw AuthorizationError.invalidStatement("a statement needs at least one resource") }
        for action in actions { try PolicyStatement.checkAction(action, allowingWildcard: true) }
        self.effect = effect
        self.actions = actions
        self.resources = resources
        self.conditions = conditions
        self.source = source
    }

    /// The resources as written.
    public var resourceTexts: [String] { resources.map(\.description) }

    var hasVariables: Bool { resources.contains(where: \.hasVariables) }

    /// The statement for `device`, or why it does not apply to it. A resource a variable cannot be
    /// filled in for is left out; a statement left with no resource is left out entirely.
    func expand(_ device: DeviceFacts) -> (PolicyStatement?, [String]) {
        var patterns: [ResourcePattern] = []
        var notes: [String] = []
        for resource in resources {
            switch resource.expand(device) {
            case .success(let pattern): patterns.append(pattern)
            case .failure(let why): notes.append("\(source) leaves out \(resource): \(why.reason)")
            }
        }
        guard !patterns.isEmpty else { return (nil, notes) }
        let statement = try? PolicyStatement(effect: effect, actions: actions, resources: patterns, conditions: conditions, source: source)
        return (statement, notes)
    }
}
