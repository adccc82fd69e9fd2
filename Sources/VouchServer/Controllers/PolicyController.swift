import Foundation
import Hummingbird
import VouchCore
import VouchKit
import VouchStore

/// Policies and decisions: `POST /v1/authorize`, the policy versions under `/v1/admin/policy`, and
/// a device's zone and roles (`PATCH /v1/admin/devices/{id}`). Bearer API key.
struct PolicyController {
    let policy: PolicyService
    let clock: ServerClock
    let apiKeys: APIKeyMiddleware

    /// `POST /v1/authorize`.
    struct AuthorizeBody: Codable, Sendable {
        struct Context: Codable, Sendable {
            init(peer: String? = nil, sourceAddress: String? = nil, time: String? = nil) {
                self.peer = peer
                self.sourceAddress = sourceAddress
                self.time = time
            }

            /// The device on the other end: id or DID.
            var peer: String?
            /// The address the subject's request came from.
            var sourceAddress: String?
            /// When the request is made (RFC 3339); now when absent.
            var time: String?
        }

        /// A device id, a DID, or a `vp+jwt` presentation held by the device.
        var subject: String
        /// For a presentation: the nonce the caller gave the device, checked when present.
        var nonce: String?
        /// For a presentation: the audience it must name, checked when present.
        var audience: String?
        var action: String
        var resource: String
        var context: Context?
    }

    struct ReasonView: Codable, Sendable {
        var code: String
        var message: String
        var source: String?
    }

    struct AuthorizeAnswer: Codable, Sendable {
        /// `allow` or `deny`.
        var decision: String
        var allowed: Bool
        var device: String?
        var zone: String?
        var policyVersion: Int?
        var reasons: [ReasonView]
    }

    struct PolicyUploadAnswer: Codable, Sendable {
        var policy: PolicyVersionView
        /// False when the text was the one in force already.
        var created: Bool
    }

    func addRoutes(to router: Router<VouchRequestContext>) {
        router.group("/v1/authorize").add(middleware: apiKeys).post { request, context in
            // Any key may ask; only an enforcement point's (gateway) denials count in monitoring.
            let key = try context.require(.gateway)
            let body = try AuthorizeBody(json: Array(try await request.bodyBytes(context: context).readableBytesView))
            return Responses.json(bytes: try await authorize(body, counting: key.scope == .gateway).json.canonicalJSON)
        }

        let admin = router.group("/v1/admin").add(middleware: apiKeys)
        admin.get("/policy") { request, context in
            _ = try context.require(.readOnly)
            var version: Int?
            if let text = request.uri.queryParameters["version"] {
                guard let number = Int(String(text)), number >= 0 else { throw ServiceError.invalidRequest("version must be a whole number") }
                version = number
            }
            return try Responses.json(try await policy.version(version))
        }
        admin.put("/policy") { request, context in
            _ = try context.require(.operator)
            let buffer = try await request.bodyBytes(context: context, tooLarge: "a policy is at most \(context.maxUploadSize / 1024) KiB")
            guard let text = String(validating: buffer.readableBytesView, as: UTF8.self), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ServiceError.invalidRequest("send the policy document (YAML or JSON, UTF-8) as the body")
            }
            let (view, created) = try await policy.upload(text, actor: context.actor)
            return try Responses.json(PolicyUploadAnswer(policy: view, created: created), status: created ? .created : .ok)
        }
        admin.get("/policy/versions") { _, context in
            _ = try context.require(.readOnly)
            return try Responses.json(try await policy.versions())
        }
        admin.patch("/devices/{id}") { request, context in
            _ = try context.require(.operator)
            let body = try await request.decodeJSON(AssignmentRequest.self, context: context)
            return try Responses.json(try await policy.assign(try context.parameters.require("id"), body, actor: context.actor))
        }
    }

    /// Resolves the subject and context, then decides; denials count against the device only when
    /// `counting` (the question came from an enforcement point).
    func authorize(_ body: AuthorizeBody, counting: Bool) async throws -> AuthorizeAnswer {
        var context = AuthorizationContext(time: clock.now)
        if let given = body.context {
            if let address = given.sourceAddress {
                guard let parsed = IPAddress(address) else {
                    throw ServiceError.invalidRequest("context.sourceAddress \(address.prefix(64)) is not an IPv4 or IPv6 address")
                }
                context.sourceAddress = parsed
            }
            if let time = given.time {
                guard let parsed = RFC3339.parse(time) else {
                    throw ServiceError.invalidRequest("context.time " + RFC3339.refusal(time))
                }
                context.time = parsed
            }
            context.peer = given.peer
        }
        let request: AuthorizationRequest
        do {
            request = try AuthorizationRequest(action: body.action, resource: body.resource, context: context)
        } catch {
            throw ServiceError.invalidRequest(error.reason)
        }
        let reference = try await subjectReference(body)
        let (decision, entry) = try await policy.decide(reference, request, countingDenials: counting)
        return AuthorizeAnswer(
            decision: decision.allowed ? "allow" : "deny", allowed: decision.allowed, device: entry?.row.id,
            zone: entry.map { $0.state == .quarantined ? ZoneRules.quarantineZone : $0.row.zone }, policyVersion: decision.policyVersion,
            reasons: decision.reasons.map { ReasonView(code: $0.code.rawValue, message: $0.message, source: $0.source) }
        )
    }

    /// A device id or DID as given; for a presentation, the DID of its holder once its signature,
    /// validity and freshness (issued in the last 5 minutes) are verified, with the nonce and
    /// audience when the caller gives them. The presentation identifies the device; the decision
    /// is the server's, under the policy in force, whatever capabilities its credentials carry.
    private func subjectReference(_ body: AuthorizeBody) async throws -> String {
        let subject = body.subject
        guard subject.utf8.count <= 16 * 1024, !subject.isEmpty else {
            throw ServiceError.invalidRequest("subject must be a device id, a DID or a vp+jwt presentation (at most 16 KiB)")
        }
        guard subject.hasPrefix("eyJ"), subject.utf8.lazy.filter({ $0 == 0x2E }).count == 2 else { return subject }
        let now = clock.now
        let verifier = PresentationVerifier {
            MediaTypePolicy()
            SignaturePolicy()
            ValidityPolicy(now: now)
            HolderBindingPolicy()
            if let nonce = body.nonce { NoncePolicy(expected: nonce) }
            if let audience = body.audience { AudiencePolicy(expected: audience) }
        }
        switch await verifier.verify(subject) {
        case .valid(let verified):
            guard let issuedAt = verified.presentation.issuedAt, abs(issuedAt.timeIntervalSince(now)) <= 300 else {
                throw ServiceError.unprocessable("the presentation was not issued in the last 5 minutes; ask the device for a fresh one")
            }
            return verified.presentation.holder
        case .invalid(let failures):
            throw ServiceError.unprocessable("the presentation does not verify: \(failures.map(\.reason).joined(separator: "; "))")
        }
    }
}
