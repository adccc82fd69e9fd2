import Foundation

/// What a subject asks to do: an action on a resource, in a context.
public struct AuthorizationRequest: Sendable, Hashable {
    /// The action, such as `publish`.
    public let action: String
    /// A resource name, or an MQTT topic filter for subscriptions.
    public let resource: String
    /// Who else is involved, from where, when (not checked: a server fills in the peer's zone).
    public var context: AuthorizationContext

    /// Creates a request; throws when the action or resource is malformed.
    public init(action: String, resource: String, context: AuthorizationContext = AuthorizationContext()) throws(AuthorizationError) {
        do {
            try PolicyStatement.checkAction(action, allowingWildcard: false)
            try ResourcePattern.checkResource(resource)
        } catch {
            throw AuthorizationError.invalidRequest(error.reason)
        }
        self.action = action
        self.resource = resource
        self.context = context
    }
}

/// The circumstances of a request.
public struct AuthorizationContext: Sendable, Hashable {
    /// The device on the other end, if any (its id or DID), as given.
    public var peer: String?
    /// The peer's zone, once known. Crossing zones needs a flow rule.
    public var peerZone: String?
    /// Where the request comes from.
    public var sourceAddress: IPAddress?
    /// When it is made.
    public var time: Date

    /// Creates a context.
    public init(peer: String? = nil, peerZone: String? = nil, sourceAddress: IPAddress? = nil, time: Date = Date()) {
        self.peer = peer
        self.peerZone = peerZone
        self.sourceAddress = sourceAddress
        self.time = time
    }
}

/// Who asks, as the decision sees it: the device, the zone it is in now, and the statements its
/// roles give it under one policy version.
public struct AuthorizationSubject: Sendable, Hashable {
    /// The device id.
    public var device: String
    /// The zone the device is in now: `quarantine` while it is quarantined.
    public var zone: String
    /// Allow and deny statements, variables filled in.
    public var statements: [PolicyStatement]
    /// Things a person should know when nothing allows: roles the policy does not define,
    /// statements left out because a variable had no usable value.
    public var notes: [String]

    /// Creates a subject.
    public init(device: String, zone: String, statements: [PolicyStatement], notes: [String] = []) {
        self.device = device
        self.zone = zone
        self.statements = statements
        self.notes = notes
    }
}
