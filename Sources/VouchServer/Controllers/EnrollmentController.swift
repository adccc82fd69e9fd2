import Foundation
import Hummingbird
import VouchCore
import VouchKit
import VouchStore

/// The device API: nonces, enrollment, polling a pending enrollment.
struct EnrollmentController {
    let enrollment: EnrollmentService
    let nonces: NonceService
    let issuance: IssuanceService
    let deviceAuth: DeviceAuthService
    let limiter: RateLimiter
    let metrics: ServerMetrics

    struct NonceResponse: Codable {
        var nonce: String
        var expiresAt: Int
    }

    func addRoutes(to router: Router<VouchRequestContext>) {
        router.post("/v1/enrollments/nonce") { _, context in
            try limiter.take(context.sourceKey)
            let (nonce, expiresAt) = nonces.issue(.enrollment)
            return try Responses.json(NonceResponse(nonce: nonce, expiresAt: expiresAt), status: .created)
        }
        router.post("/v1/enrollments") { request, context in
            try limiter.take(context.sourceKey)
            let body = try await request.decodeJSON(EnrollmentRequest.self, context: context)
            let (bundle, issued) = try await enrollment.enroll(body)
            if issued { metrics.enrolled() }
            // The receipts prove the issuance in a checkpoint: waiting for it costs latency, not
            // work, and `Prefer: return=minimal` (RFC 7240) answers with the log indexes alone.
            let answer = issued && !Prefer.minimal(request) ? await issuance.withLogReceipts(bundle) : bundle
            return try Responses.json(answer, status: issued ? .created : .accepted)
        }
        router.get("/v1/enrollments/{id}") { request, context in
            try limiter.take(context.sourceKey)
            // Only the device polls its enrollment: a DPoP proof by its key (RFC 9449) for this
            // request. Whoever does not hold the key learns nothing, not even whether the id exists.
            let proof = try deviceAuth.checkDPoP(request.headers[.dpop], method: "GET", path: request.uri.path, host: request.head.authority, accessToken: nil)
            let id = try context.parameters.require("id")
            let unknown = ServiceError.notFound("no enrollment \(id.prefix(64)) for the key that signed the DPoP proof")
            guard let row = try await enrollment.store.read({ try await $0.devices.find(id: id) }) else { throw unknown }
            guard ConstantTime.equals(proof.thumbprint, row.keyThumbprint) else { throw unknown }
            let (certificates, credentials) = try await enrollment.store.read { session in
                (try await session.certificates.of(deviceID: row.id), try await session.credentials.of(deviceID: row.id))
            }
            let current = certificates.last { $0.revokedAt == nil }
            let identity = credentials.last { $0.kind == .identity }
            let roles = identity.map { identity in credentials.filter { $0.kind == .role && $0.statusIndex == identity.statusIndex }.map(\.token) } ?? []
            var bundle = EnrollmentBundle(
                deviceId: row.id, did: row.did, state: row.state.rawValue, certificate: current?.pem,
                chain: current == nil ? nil : try issuance.ca.chainPEM, identityCredential: current == nil ? nil : identity?.token,
                roleCredentials: current == nil ? [] : roles
            )
            if let certificateIndex = current?.logIndex, let credentialIndex = identity?.logIndex {
                bundle.log = IssuanceLog(certificateIndex: UInt64(certificateIndex), credentialIndex: UInt64(credentialIndex))
                if !Prefer.minimal(request) { bundle = await issuance.withLogReceipts(bundle) }
            }
            return try Responses.json(await issuance.withTrustBundle(bundle))
        }
    }
}
