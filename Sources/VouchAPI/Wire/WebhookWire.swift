import Foundation

/// `POST /v1/admin/webhooks` (url required) and `PATCH /v1/admin/webhooks/{id}` (what is given changes).
public struct WebhookRequest: Codable, Sendable, Hashable {
    public var url: String?
    public var description: String?
    /// Event kinds delivered: exact kinds or prefixes written `device.*`; empty or absent: every event.
    public var kinds: [String]?
    public var enabled: Bool?
    /// Also sign with the authority's Ed25519 key (`v1a`), published at `GET /v1/webhooks/public-key`.
    public var signV1a: Bool?
    /// A new secret (returned once); the old one stays valid for `graceSeconds` (default a day).
    public var rotateSecret: Bool?
    public var graceSeconds: Int?

    public init(
        url: String? = nil, description: String? = nil, kinds: [String]? = nil, enabled: Bool? = nil, signV1a: Bool? = nil,
        rotateSecret: Bool? = nil, graceSeconds: Int? = nil
    ) {
        self.url = url
        self.description = description
        self.kinds = kinds
        self.enabled = enabled
        self.signV1a = signV1a
        self.rotateSecret = rotateSecret
        self.graceSeconds = graceSeconds
    }
}

/// A webhook endpoint as the admin API shows it (never its secret).
public struct WebhookView: Codable, Sendable, Hashable {
    public var id: String
    public var url: String
    public var description: String
    public var kinds: [String]
    public var enabled: Bool
    public var signV1a: Bool
    /// While a rotated secret is still signed with: until when (Unix seconds).
    public var previousSecretUntil: Int?
    /// The last event sequence number queued for it (or passed over by its filters).
    public var cursor: Int
    /// Since when every attempt has failed (Unix seconds).
    public var failingSince: Int?
    /// Why the authority disabled it, when it did.
    public var disabledReason: String?
    public var createdAt: Int
    public var updatedAt: Int
    /// Deliveries in each state (on `GET /v1/admin/webhooks/{id}`).
    public var pending: Int?
    public var delivered: Int?
    public var failed: Int?

    public init(
        id: String, url: String, description: String, kinds: [String], enabled: Bool, signV1a: Bool, previousSecretUntil: Int?, cursor: Int,
        failingSince: Int?, disabledReason: String?, createdAt: Int, updatedAt: Int, pending: Int? = nil, delivered: Int? = nil, failed: Int? = nil
    ) {
        self.id = id
        self.url = url
        self.description = description
        self.kinds = kinds
        self.enabled = enabled
        self.signV1a = signV1a
        self.previousSecretUntil = previousSecretUntil
        self.cursor = cursor
        self.failingSince = failingSince
        self.disabledReason = disabledReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.pending = pending
        self.delivered = delivered
        self.failed = failed
    }
}

/// An endpoint with its secret: the answer to creating it or rotating its secret, the one time the
/// secret is shown.
public struct WebhookWithSecret: Codable, Sendable, Hashable {
    public var endpoint: WebhookView
    /// `whsec_…`; nil when the secret did not change.
    public var secret: String?

    public init(endpoint: WebhookView, secret: String?) {
        self.endpoint = endpoint
        self.secret = secret
    }
}

/// One attempt at a delivery.
public struct WebhookAttemptView: Codable, Sendable, Hashable {
    public var attempt: Int
    public var at: String
    /// The answer's status; nil when there was none.
    public var status: Int?
    public var latencyMs: Int
    public var error: String?
    /// The first bytes of the answer's body.
    public var response: String?

    public init(attempt: Int, at: String, status: Int?, latencyMs: Int, error: String?, response: String?) {
        self.attempt = attempt
        self.at = at
        self.status = status
        self.latencyMs = latencyMs
        self.error = error
        self.response = response
    }
}

/// One event's delivery to one endpoint, with every attempt.
public struct WebhookDeliveryView: Codable, Sendable, Hashable {
    /// The `webhook-id` it is sent with, the same at every attempt.
    public var id: String
    public var seq: Int
    public var type: String
    /// pending, delivered or failed.
    public var state: String
    public var attempts: Int
    public var nextAttemptAt: String?
    public var finishedAt: String?
    public var attemptLog: [WebhookAttemptView]

    public init(
        id: String, seq: Int, type: String, state: String, attempts: Int, nextAttemptAt: String?, finishedAt: String?, attemptLog: [WebhookAttemptView]
    ) {
        self.id = id
        self.seq = seq
        self.type = type
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.finishedAt = finishedAt
        self.attemptLog = attemptLog
    }
}

/// `GET /v1/admin/webhooks/{id}/deliveries`: newest first; `next` is the `before` of the next page.
public struct WebhookDeliveryPage: Codable, Sendable, Hashable {
    public var deliveries: [WebhookDeliveryView]
    public var next: Int?

    public init(deliveries: [WebhookDeliveryView], next: Int?) {
        self.deliveries = deliveries
        self.next = next
    }
}

/// `POST /v1/admin/webhooks/{id}/replay`.
public struct WebhookReplayRequest: Codable, Sendable, Hashable {
    /// The first event sequence number delivered again.
    public var from: Int

    public init(from: Int) {
        self.from = from
    }
}

/// How many events a replay covers (those the filters keep are delivered).
public struct WebhookReplayResult: Codable, Sendable, Hashable {
    public var from: Int
    public var events: Int

    public init(from: Int, events: Int) {
        self.from = from
        self.events = events
    }
}

/// `POST /v1/admin/webhooks/{id}/test`: how the endpoint answered a `webhook.test` message.
public struct WebhookTestResult: Codable, Sendable, Hashable {
    public var id: String
    public var status: Int?
    public var delivered: Bool
    public var latencyMs: Int
    public var error: String?
    public var response: String?

    public init(id: String, status: Int?, delivered: Bool, latencyMs: Int, error: String?, response: String?) {
        self.id = id
        self.status = status
        self.delivered = delivered
        self.latencyMs = latencyMs
        self.error = error
        self.response = response
    }
}

/// `GET /v1/webhooks/public-key`: the key `v1a` signatures verify under.
public struct WebhookPublicKey: Codable, Sendable, Hashable {
    /// `whpk_` + base64 of the Ed25519 public key, as Standard Webhooks libraries take it.
    public var publicKey: String

    public init(publicKey: String) {
        self.publicKey = publicKey
    }
}
