import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOSSL
import SwiftASN1
import VouchCore
import VouchKit
import VouchStore
import X509

/// Authenticates `Authorization: Bearer vk_…` API keys. What a key may do is decided per route
/// group by `RequireScope`.
struct APIKeyAuthenticator<Keys: APIKeyManaging>: AuthenticatorMiddleware {
    typealias Context = VouchRequestContext
    let apiKeys: Keys
    /// Whether every `Authorization` header is an API key here (admin routes), or only those that
    /// look like one (routes a device may call too).
    var takesEveryAuthorization = true

    func authenticate(request: Request, context: VouchRequestContext) async throws -> Caller? {
        guard context.identity == nil, let header = request.headers[.authorization] else { return nil }
        guard takesEveryAuthorization || header.hasPrefix("Bearer vk_") else { return nil }
        guard header.hasPrefix("Bearer "), let key = try await apiKeys.authenticate(String(header.dropFirst(7))) else {
            throw ServiceError.unauthenticated("the API key is unknown or revoked")
        }
        return .apiKey(APIKeyIdentity(key))
    }
}

/// Refuses a request whose API key has less than `scope` (401 without one, 403 with too little).
struct RequireScope: RouterMiddleware {
    typealias Context = VouchRequestContext
    let scope: APIScope

    init(_ scope: APIScope) {
        self.scope = scope
    }

    static let missing = ServiceError.unauthenticated("send an API key as Authorization: Bearer vk_…")

    func handle(_ request: Request, context: VouchRequestContext, next: (Request, VouchRequestContext) async throws -> Response) async throws -> Response {
        guard case .apiKey(let key) = context.identity else { throw Self.missing }
        try key.require(scope)
        return try await next(request, context)
    }
}

/// Authenticates a device by the access token it sends (with what binds it: a DPoP proof, or the
/// client certificate of the connection), or by the client certificate of the mTLS connection
/// alone. The records are checked on every request (`DeviceAuthenticating.authenticatedDevice`).
struct DeviceAuthenticator<Devices: DeviceAuthenticating>: AuthenticatorMiddleware {
    typealias Context = VouchRequestContext
    let devices: Devices
    /// Whether a device asked to step up may call these routes (reading its own record, attesting).
    var allowingStepUp = false

    func authenticate(request: Request, context: VouchRequestContext) async throws -> Caller? {
        guard context.identity == nil, let source = try await Self.credential(request, context) else { return nil }
        return .device(try await devices.authenticatedDevice(source, allowingStepUp: allowingStepUp))
    }

    /// The device's proof of identity on this request, if it sent one.
    static func credential(_ request: Request, _ context: VouchRequestContext) async throws -> DeviceCredentialSource? {
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
        return peer.map(DeviceCredentialSource.clientCertificate)
    }

    /// The client certificate of the TLS connection (mTLS listener), if there is one.
    static func clientCertificate(_ context: VouchRequestContext) async throws -> Certificate? {
        guard let peer = try? await context.channel.nioSSL_peerCertificate().get() else { return nil }
        do {
            return try Certificate(derEncoded: try peer.toDERBytes())
        } catch {
            throw ServiceError.unauthenticated("the client certificate cannot be read as X.509")
        }
    }
}

/// Refuses a request no device was authenticated for.
struct RequireDevice: RouterMiddleware {
    typealias Context = VouchRequestContext

    static let missing = ServiceError.unauthenticated(
        "authenticate as the device: Authorization: DPoP <token from POST /v1/auth/token> with a DPoP proof, or a client certificate on the mTLS port"
    )

    func handle(_ request: Request, context: VouchRequestContext, next: (Request, VouchRequestContext) async throws -> Response) async throws -> Response {
        guard case .device = context.identity else { throw Self.missing }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// RFC 9449's request header.
    static let dpop = HTTPField.Name(DPoPProof.header)!
}
