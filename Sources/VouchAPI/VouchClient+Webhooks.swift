import Foundation

// Webhook endpoints and their deliveries (`/v1/admin/webhooks`): reading needs a read-only key,
// changing an admin key.
extension VouchClient {
    /// `POST /v1/admin/webhooks`: the secret is in the answer, once.
    public func createWebhook(_ request: WebhookRequest) async throws -> WebhookWithSecret {
        try await call("POST", "/v1/admin/webhooks", body: .json(request))
    }

    /// `GET /v1/admin/webhooks`.
    public func webhooks() async throws -> [WebhookView] {
        try await call("GET", "/v1/admin/webhooks")
    }

    /// `GET /v1/admin/webhooks/{id}`, with its delivery counts.
    public func webhook(_ id: String) async throws -> WebhookView {
        try await call("GET", "/v1/admin/webhooks/\(Self.segment(id))")
    }

    /// `PATCH /v1/admin/webhooks/{id}`: a rotated secret is in the answer, once.
    public func updateWebhook(_ id: String, _ request: WebhookRequest) async throws -> WebhookWithSecret {
        try await call("PATCH", "/v1/admin/webhooks/\(Self.segment(id))", body: .json(request))
    }

    /// `DELETE /v1/admin/webhooks/{id}`.
    public func removeWebhook(_ id: String) async throws {
        try await send("DELETE", "/v1/admin/webhooks/\(Self.segment(id))")
    }

    /// `POST /v1/admin/webhooks/{id}/test`.
    public func testWebhook(_ id: String) async throws -> WebhookTestResult {
        try await call("POST", "/v1/admin/webhooks/\(Self.segment(id))/test")
    }

    /// One page of `GET /v1/admin/webhooks/{id}/deliveries`, newest first.
    public func webhookDeliveries(_ id: String, before: Int? = nil, limit: Int? = nil) async throws -> WebhookDeliveryPage {
        let query = Self.query([("before", before.map(String.init)), ("limit", limit.map(String.init))])
        return try await call("GET", "/v1/admin/webhooks/\(Self.segment(id))/deliveries" + query)
    }

    /// `POST /v1/admin/webhooks/{id}/deliveries/{seq}/redeliver`.
    public func redeliverWebhook(_ id: String, seq: Int) async throws {
        try await send("POST", "/v1/admin/webhooks/\(Self.segment(id))/deliveries/\(seq)/redeliver")
    }

    /// `POST /v1/admin/webhooks/{id}/replay`.
    public func replayWebhook(_ id: String, from: Int) async throws -> WebhookReplayResult {
        try await call("POST", "/v1/admin/webhooks/\(Self.segment(id))/replay", body: .json(WebhookReplayRequest(from: from)))
    }

    /// `GET /v1/webhooks/public-key`.
    public func webhookPublicKey() async throws -> WebhookPublicKey {
        try await call("GET", "/v1/webhooks/public-key")
    }
}
