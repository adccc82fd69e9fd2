/// One rule of a policy, with its variables already filled in: an effect over actions on resources,
/// under conditions. Role credentials carry these, so an offline verifier decides from them as the
/// server does.
public struct PolicyStatement: Sendable, Hashable {
    /// Allow or deny. A matching deny wins over any allow.
    public enum Effect: String, Sendable, Hashable, Codable {
        case allow, deny
    }

    /// Allow or deny.
    public let effect: Effect
    /// Action names, or `*` for any action.
    public let actions: [String]
    /// The resources it speaks of.
    public let resources: [ResourcePattern]
    /// When it applies; none by default.
    public let conditions: PolicyConditions
    /// Where the statement was written, such as `roles.sensor.allow[0]`: what a decision cites.
    public let source: String

    private let anyAction: Bool

    /// Creates a statement; throws when an action name is malformed or a list is empty.
    public init(
        effect: Effect, actions: [String], resources: [ResourcePattern], conditions: PolicyConditions = .none, source: String
    ) throws(AuthorizationError) {
        guard !actions.isEmpty else { throw AuthorizationError.invalidStatement("a statement needs at least one action") }
        guard !resources.isEmpty else { throw AuthorizationError.invalidStatement("a statement needs at least one resource") }
        for action in actions { try Self.checkAction(action, allowingWildcard: true) }
        self.effect = effect
        self.actions = actions
        self.resources = resources
        self.conditions = conditions
        self.source = source
        self.anyAction = actions.contains("*")
    }

    /// Whether the statement names `action` and a pattern covering `resource` (conditions aside).
    public func covers(action: String, resource: String) -> Bool {
        (anyAction || actions.contains(action)) && resources.contains { $0.matches(resource) }
    }

    /// Whether the statement names `action` and a pattern sharing any resource with `resource`
    /// (conditions aside): what a deny applies to, so that a wide subscription cannot slip past it.
    public func overlaps(action: String, resource: String) -> Bool {
        (anyAction || actions.contains(action)) && resources.contains { $0.overlaps(resource) }
    }

    /// The statement as JSON, the form role credentials carry:
    /// `{"effect", "actions", "resources", "conditions"?, "source"}`.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "effect": .string(effect.rawValue),
            "actions": .array(actions.map(JSONValue.string)),
            "resources": .array(resources.map { .string($0.description) }),
            "source": .string(source),
        ]
        if !conditions.isEmpty { members["conditions"] = conditions.json }
        return .object(members)
    }

    /// Reads a statement from its JSON form.
    public init(json: JSONValue) throws(AuthorizationError) {
        guard let members = json.objectValue else { throw AuthorizationError.invalidStatement("a statement must be an object") }
        for key in members.keys where !["effect", "actions", "resources", "conditions", "source"].contains(key) {
            throw AuthorizationError.invalidStatement("unknown statement member \"\(key.prefix(64))\"")
        }
        guard let effectText = members["effect"]?.stringValue, let effect = Effect(rawValue: effectText) else {
            throw AuthorizationError.invalidStatement("a statement's effect must be \"allow\" or \"deny\"")
        }
        guard case .array(let actionValues)? = members["actions"], case .array(let resourceValues)? = members["resources"] else {
            throw AuthorizationError.invalidStatement("a statement needs lists of actions and resources")
        }
        var actions: [String] = []
        for value in actionValues {
            guard let action = value.stringValue else { throw AuthorizationError.invalidStatement("actions must be strings") }
            actions.append(action)
        }
        var resources: [ResourcePattern] = []
        for value in resourceValues {
            guard let text = value.stringValue else { throw AuthorizationError.invalidStatement("resources must be strings") }
            resources.append(try ResourcePattern(text))
        }
        let conditions = try members["conditions"].map { value throws(AuthorizationError) in try PolicyConditions(json: value) } ?? .none
        try self.init(
            effect: effect, actions: actions, resources: resources, conditions: conditions, source: members["source"]?.stringValue ?? "statement"
        )
    }

    /// Action names: 1–64 of a–z, 0–9, `-`, `_`, `.`, starting with a letter; `*` where a wildcard is allowed.
    public static func checkAction(_ action: String, allowingWildcard: Bool) throws(AuthorizationError) {
        if allowingWildcard && action == "*" { return }
        let bytes = Array(action.utf8)
        guard let first = bytes.first, (0x61...0x7A).contains(first), bytes.count <= 64,
            bytes.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E })
        else {
            throw AuthorizationError.invalidPattern(
                "action \"\(action.prefix(64))\" must be 1–64 characters of a–z, 0–9, '-', '_' or '.', starting with a letter\(allowingWildcard ? ", or *" : "")"
            )
        }
    }
}
