import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit
import VouchStore
import X509

/// The API of enrolled devices: challenge and access token, the device's own record and trust,
/// renewal and key rotation. A device authenticates with `Authorization: DPoP <access token>` and a
/// DPoP proof or, on the mTLS listener, with its client certificate.
struct DeviceController<
    Auth: DeviceAuthenticating, Nonces: NonceIssuing, Enrollment: EnrollmentServing, Issuance: IssuanceServing, Monitoring: MonitoringServing,
    Keys: APIKeyManaging
> {
    let deviceAuth: Auth
    let nonces: Nonces
    let enrollment: Enrollment
    let issuance: Issuance
    let monitoring: Monitoring
    let apiKeys: Keys
    let limiter: RateLimiter
    let metrics: ServerMetrics

    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
        let limited = routes.group().add(middleware: RateLimitMiddleware(limiter: limiter))
        limited.post("auth/challenge", use: challenge)
        limited.post("auth/token", use: token)
        limited.post("devices/self/rotate", use: rotate)
        // A device asked to step up may still read its own record and trust; operators read any
        // device's trust with a key that reads.
        routes.group()
            .add(middleware: DeviceAuthenticator(devices: deviceAuth, allowingStepUp: true))
            .get("devices/self", use: ownRecord)
        routes.group()
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys, takesEveryAuthorization: false))
            .add(middleware: DeviceAuthenticator(devices: deviceAuth, allowingStepUp: true))
            .get("devices/{id}/trust", use: trust)
        limited.group()
            .add(middleware: DeviceAuthenticator(devices: deviceAuth))
            .add(middleware: RequireDevice())
            .post("devices/self/renew", use: renew)
        return routes
    }

    @Sendable func challenge(_ request: Request, context: VouchRequestContext) async throws -> Answer<NonceResponse> {
        let (nonce, expiresAt) = nonces.issue(.device)
        return Answer(NonceResponse(nonce: nonce, expiresAt: expiresAt), status: .created)
    }

    @Sendable func token(_ request: Request, context: VouchRequestContext) async throws -> Answer<TokenResponse> {
        let body = try await request.decode(as: TokenRequest.self, context: context)
        let token: TokenResponse
        do {
            token = try await deviceAuth.issueAccessToken(body, binding: try await binding(request, context))
        } catch let error as ServiceError where error.code == .unauthenticated || error.code == .forbidden {
            if error.members["stepUp"] == nil { await monitoring.noteFailedAuthentication(proof: body.proof) }
            throw error
        }
        try await monitoring.noteAuthenticated(token.device_id, source: context.sourceAddress)
        metrics.tokenIssued()
        return Answer(token)
    }

    @Sendable func ownRecord(_ request: Request, context: VouchRequestContext) async throws -> Answer<DeviceView> {
        guard case .device(let device) = context.identity else { throw RequireDevice.missing }
        return Answer(DeviceView(device))
    }

    /// Operators read any device's trust (an API key that reads); a device reads its own.
    @Sendable func trust(_ request: Request, context: VouchRequestContext) async throws -> Answer<TrustReport> {
        let id = try context.parameters.require("id")
        switch context.identity {
        case .apiKey(let key):
            try key.require(.readOnly)
            return Answer(try await monitoring.trust(of: id))
        case .device(let device):
            guard id == "self" || id == device.id else {
                throw ServiceError.forbidden("a device reads only its own trust score (GET /v1/devices/self/trust)")
            }
            return Answer(try await monitoring.trust(of: device.id))
        case nil:
            throw RequireDevice.missing
        }
    }

    @Sendable func renew(_ request: Request, context: VouchRequestContext) async throws -> Answer<EnrollmentBundle> {
        let device = try context.device
        let body = request.hasBody ? try await request.decode(as: RenewalRequest.self, context: context) : RenewalRequest()
        let bundle = try await enrollment.renew(device, body)
        metrics.renewed()
        return Answer(await receipts(bundle, request), status: .created)
    }

    @Sendable func rotate(_ request: Request, context: VouchRequestContext) async throws -> Answer<EnrollmentBundle> {
        let body = try await request.decode(as: RotationRequest.self, context: context)
        let bundle = try await enrollment.rotate(body)
        metrics.rotated()
        return Answer(await receipts(bundle, request), status: .created)
    }

    private func receipts(_ bundle: EnrollmentBundle, _ request: Request) async -> EnrollmentBundle {
        Prefer.minimal(request) ? bundle : await issuance.withLogReceipts(bundle)
    }

    /// What the token asked for is bound to: the DPoP proof sent with the request, or else the client
    /// certificate of the mTLS connection.
    private func binding(_ request: Request, _ context: VouchRequestContext) async throws -> TokenBinding {
        if let proof = request.headers[.dpop] {
            return .dpop(try deviceAuth.checkDPoP(
                proof, method: request.method.rawValue, path: request.uri.path, host: request.head.authority, accessToken: nil))
        }
        if let peer = try await DeviceAuthenticator<Auth>.clientCertificate(context) {
            return .certificate(peer, thumbprint: DeviceAuthService.certificateThumbprint(try DERBytes.of(peer)))
        }
        throw ServiceError.unauthenticated(
            "send a DPoP proof (RFC 9449) signed by the device key in the DPoP header: tokens are bound to the key; on the mTLS port the client certificate binds them")
    }
}
