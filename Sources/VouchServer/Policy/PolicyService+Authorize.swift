import Foundation
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

extension PolicyService {
    /// Resolves the subject and context, then decides; denials count against the device only when
    /// `counting` (the question came from an enforcement point).
    func authorize(_ body: AuthorizeBody, counting: Bool) async throws -> AuthorizeAnswer {
        var context = AuthorizationContext(time: events.clock.now)
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
        let (decision, entry) = try await decide(reference, request, countingDenials: counting)
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
        let now = events.clock.now
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
