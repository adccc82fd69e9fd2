import Foundation
import VouchKit

/// A statement as written in a policy: resources may hold variables.
public struct StatementTemplate: Sendable, Hashable {
    /// Allow or deny.
    public let effect: PolicyStatement.Effect
    /// Action names, or `*`.
    public let actions: [String]
    let resources: [ResourceTemplate]
    /// When it applies.
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
            switch resource.expand(device, widening: effect == .deny) {
            case .success(let pattern): patterns.append(pattern)
            case .failure(let why): notes.append("\(source) leaves out \(resource): \(why.reason)")
            }
        }
        guard !patterns.isEmpty else { return (nil, notes) }
        let statement = try? PolicyStatement(effect: effect, actions: actions, resources: patterns, conditions: conditions, source: source)
        return (statement, notes)
    }
}
