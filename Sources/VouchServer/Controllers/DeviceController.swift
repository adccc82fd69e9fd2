import Foundation
import Hummingbird
import NIOSSL
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
import X509

/// The API of enrolled devices: challenge and access token, the device's own record, renewal and
/// key rotation. A device authenticates with `Authorization: Bearer <access token>` or, on the mTLS
/// listener, with its client certificate.
struct DeviceController {
    let services: VouchServices
    let apiKeys: APIKeyMiddleware
    let limiter: RateLimiter
    let metrics: ServerMetrics

    func addRoutes(to router: Router<VouchRequestContext>) {
        router.post("/v1/auth/challenge") { _, context in
            try limiter.take(context.sourceKey)
            let (nonce, expiresAt) = services.nonces.issue(.device)
            return try Responses.json(EnrollmentController.NonceResponse(nonce: nonce, expiresAt: expiresAt), status: .created)
        }
        router.post("/v1/auth/token") { request, context in
            try limiter.take(context.sourceKey)
            let body = try await request.decodeJSON(TokenRequest.self, context: context)
            let token: TokenResponse
            do {
                token = try await services.deviceAuth.issueAccessToken(body, binding: try await binding(request, context))
            } catch let error as ServiceError where error.code == .unauthenticated || error.code == .forbidden {
                if error.members["stepUp"] == nil { await services.monitoring.noteFailedAuthentication(proof: body.proof) }
                throw error
            }
            if let entry = try await services.directory.entry(token.device_id) {
                services.monitoring.observe(Observation(source: context.sourceAddress, connection: true), of: entry)
            }
            metrics.tokenIssued()
            return try Responses.json(token)
        }
        router.get("/v1/devices/self") { request, context in
            let device = try await services.deviceAuth.authenticatedDevice(try await credential(request, context), allowingStepUp: true)
            return try Responses.json(DeviceView(device))
        }
        router.get("/v1/devices/{id}/trust") { request, context in
            // Operators read any device's trust (an API key that reads); a device reads its own.
            let id = try context.parameters.require("id")
            if let header = request.headers[.authorization], header.hasPrefix("Bearer vk_") {
                var context = context
                context.apiKey = try await apiKeys.key(header)
                _ = try context.require(.readOnly)
                return try Responses.json(try await services.monitoring.trust(of: id))
            }
            let device = try await services.deviceAuth.authenticatedDevice(try await credential(request, context), allowingStepUp: true)
            guard id == "self" || id == device.id else {
                throw ServiceError.forbidden("a device reads only its own trust score (GET /v1/devices/self/trust)")
            }
            return try Responses.json(try await services.monitoring.trust(of: device.id))
        }
        router.post("/v1/devices/self/renew") { request, context in
            try limiter.take(context.sourceKey)
            let device = try await services.deviceAuth.authenticatedDevice(try await credential(request, context))
            let body = request.hasBody ? try await request.decodeJSON(RenewalRequest.self, context: context) : RenewalRequest()
            let bundle = try await services.enrollment.renew(device, body)
            metrics.renewed()
            return try Responses.json(await receipts(bundle, request), status: .created)
        }
        router.post("/v1/devices/self/rotate") { request, context in
            try limiter.take(context.sourceKey)
            let body = try await request.decodeJSON(RotationRequest.self, context: context)
            let bundle = try await services.enrollment.rotate(body)
            metrics.rotated()
            return try Responses.json(await receipts(bundle, request), status: .created)
        }
    }

    private func receipts(_ bundle: EnrollmentBundle, _ request: Request) async -> EnrollmentBundle {
        Prefer.minimal(request) ? bundle : await services.issuance.withLogReceipts(bundle)
    }

    /// The device's proof of identity on this request: an access token with what binds it (a DPoP
    /// proof, or the client certificate of the connection), or the client certificate of the TLS
    /// connection alone (mTLS listener).
    func credential(_ request: Request, _ context: VouchRequestContext) async throws -> DeviceCredentialSource {
        let peer = try await clientCertificate(context)
        if let header = request.headers[.authorization] {
            let scheme: TokenPresentation.Scheme
            let token: Substring
            if header.hasPrefix("DPoP "), header.count > 5 {
                (scheme, token) = (.dpop, header.dropFirst(5))
            } else if header.hasPrefix("Bearer "), header.count > 7 {
                (scheme, token) = (.bearer, header.dropFirst(7))
            } else {
                throw ServiceError.unauthenticated("send the access token as Authorization: DPoP <token>, with a DPoP proof in the DPoP header")
            }
            return .accessToken(TokenPresentation(
                scheme: scheme, token: String(token), proof: request.headers[.dpop], method: request.method.rawValue, path: request.uri.path,
                host: request.head.authority, certificateThumbprint: try peer.map { DeviceAuthService.certificateThumbprint(try DERBytes.of($0)) }))
        }
        if let peer { return .clientCertificate(peer) }
        throw ServiceError.unauthenticated(
            "authenticate as the device: Authorization: DPoP <token from POST /v1/auth/token> with a DPoP proof, or a client certificate on the mTLS port"
        )
    }

    /// What the token asked for is bound to: the DPoP proof sent with the request, or else the client
    /// certificate of the mTLS connection.
    func binding(_ request: Request, _ context: VouchRequestContext) async throws -> TokenBinding {
        if let proof = request.headers[.dpop] {
            return .dpop(try services.deviceAuth.checkDPoP(
                proof, method: request.method.rawValue, path: request.uri.path, host: request.head.authority, accessToken: nil))
        }
        if let peer = try await clientCertificate(context) {
            return .certificate(peer, thumbprint: DeviceAuthService.certificateThumbprint(try DERBytes.of(peer)))
        }
        throw ServiceError.unauthenticated(
            "send a DPoP proof (RFC 9449) signed by the device key in the DPoP header: tokens are bound to the key; on the mTLS port the client certificate binds them")
    }

    /// The client certificate of the TLS connection (mTLS listener), if there is one.
    private func clientCertificate(_ context: VouchRequestContext) async throws -> Certificate? {
        guard let peer = try? await context.channel.nioSSL_peerCertificate().get() else { return nil }
        do {
            return try Certificate(derEncoded: try peer.toDERBytes())
        } catch {
            throw ServiceError.unauthenticated("the client certificate cannot be read as X.509")
        }
    }
}
