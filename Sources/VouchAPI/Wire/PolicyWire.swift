import Foundation

/// `POST /v1/authorize`.
public struct AuthorizeBody: Codable, Sendable {
    public struct Context: Codable, Sendable {
        /// The device on the other end: id or DID.
        public var peer: String?
        /// The address the subject's request came from.
        public var sourceAddress: String?
        /// When the request is made (RFC 3339); now when absent.
        public var time: String?

        public init(peer: String? = nil, sourceAddress: String? = nil, time: String? = nil) {
            self.peer = peer
            self.sourceAddress = sourceAddress
            self.time = time
        }
    }

    /// A device id, a DID, or a `vp+jwt` presentation held by the device.
    public var subject: String
    /// For a presentation: the nonce the caller gave the device, checked when present.
    public var nonce: String?
    /// For a presentation: the audience it must name, checked when present.
    public var audience: String?
    public var action: String
    public var resource: String
    public var context: Context?

    public init(subject: String, nonce: String? = nil, audience: String? = nil, action: String, resource: String, context: Context? = nil) {
        self.subject = subject
        self.nonce = nonce
        self.audience = audience
        self.action = action
        self.resource = resource
        self.context = context
    }
}

/// One reason of a decision.
public struct ReasonView: Codable, Sendable {
    public var code: String
    public var message: String
    public var source: String?

    public init(code: String, message: String, source: String? = nil) {
        self.code = code
        self.message = message
        self.source = source
    }
}

/// `POST /v1/authorize`'s answer.
public struct AuthorizeAnswer: Codable, Sendable {
    /// `allow` or `deny`.
    public var decision: String
    public var allowed: Bool
    public var device: String?
    public var zone: String?
    public var policyVersion: Int?
    public var reasons: [ReasonView]

    public init(decision: String, allowed: Bool, device: String? = nil, zone: String? = nil, policyVersion: Int? = nil, reasons: [ReasonView]) {
        self.decision = decision
        self.allowed = allowed
        self.device = device
        self.zone = zone
        self.policyVersion = policyVersion
        self.reasons = reasons
    }
}

/// `PATCH /v1/admin/devices/{id}`: where a device stands in the policy.
public struct AssignmentRequest: Codable, Sendable {
    public var zone: String?
    public var roles: [String]?

    public init(zone: String? = nil, roles: [String]? = nil) {
        self.zone = zone
        self.roles = roles
    }
}

/// A policy version as the admin API shows it.
public struct PolicyVersionView: Codable, Sendable {
    public var version: Int
    /// Lower-case hex SHA-256 of the source text.
    public var digest: String
    public var createdAt: Int
    public var actor: String
    public var zones: [String]
    public var roles: [String]
    public var flows: Int
    /// The document as uploaded (absent in lists).
    public var source: String?

    public init(version: Int, digest: String, createdAt: Int, actor: String, zones: [String], roles: [String], flows: Int, source: String? = nil) {
        self.version = version
        self.digest = digest
        self.createdAt = createdAt
        self.actor = actor
        self.zones = zones
        self.roles = roles
        self.flows = flows
        self.source = source
    }
}

/// `PUT /v1/admin/policy`'s answer.
public struct PolicyUploadAnswer: Codable, Sendable {
    public var policy: PolicyVersionView
    /// False when the text was the one in force already.
    public var created: Bool

    public init(policy: PolicyVersionView, created: Bool) {
        self.policy = policy
        self.created = created
    }
}
