import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit

/// The device API's enrollment: nonces, enrollment, polling a pending enrollment.
struct EnrollmentController<Enrollment: EnrollmentServing, Nonces: NonceIssuing, Issuance: IssuanceServing, Auth: DeviceAuthenticating> {
    let enrollment: Enrollment
    let nonces: Nonces
    let issuance: Issuance
    let deviceAuth: Auth
    let limiter: RateLimiter
    let metrics: ServerMetrics

    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self).add(middleware: RateLimitMiddleware(limiter: limiter))
        routes.post("nonce", use: nonce)
        routes.post(use: enroll)
        routes.get("{id}", use: poll)
        return routes
    }

    @Sendable func nonce(_ request: Request, context: VouchRequestContext) async throws -> Answer<NonceResponse> {
        let (nonce, expiresAt) = nonces.issue(.enrollment)
        return Answer(NonceResponse(nonce: nonce, expiresAt: expiresAt), status: .created)
    }

    @Sendable func enroll(_ request: Request, context: VouchRequestContext) async throws -> Answer<EnrollmentBundle> {
        let body = try await request.decode(as: EnrollmentRequest.self, context: context)
        let (bundle, issued) = try await enrollment.enroll(body)
        if issued { metrics.enrolled() }
        // The receipts prove the issuance in a checkpoint: waiting for it costs latency, not
        // work, and `Prefer: return=minimal` (RFC 7240) answers with the log indexes alone.
        let answer = issued && !Prefer.minimal(request) ? await issuance.withLogReceipts(bundle) : bundle
        return Answer(answer, status: issued ? .created : .accepted)
    }

    /// Only the device polls its enrollment: a DPoP proof by its key (RFC 9449) for this request.
    @Sendable func poll(_ request: Request, context: VouchRequestContext) async throws -> Answer<EnrollmentBundle> {
        let proof = try deviceAuth.checkDPoP(request.headers[.dpop], method: "GET", path: request.uri.path, host: request.head.authority, accessToken: nil)
        var bundle = try await enrollment.enrollment(id: try context.parameters.require("id"), heldBy: proof.thumbprint)
        if bundle.log != nil, !Prefer.minimal(request) { bundle = await issuance.withLogReceipts(bundle) }
        return Answer(await issuance.withTrustBundle(bundle))
    }
}
