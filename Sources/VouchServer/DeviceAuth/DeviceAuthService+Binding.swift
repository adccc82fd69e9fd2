import Crypto
import Foundation
import Synchronization
import VouchKit
import X509

/// How a request presented a device access token, and what the token's binding is checked against.
struct TokenPresentation: Sendable {
    enum Scheme: Sendable { case dpop, bearer }

    var scheme: Scheme
    var token: String
    /// The `DPoP` header's proof, if any.
    var proof: String?
    var method: String
    var path: String
    /// The `Host` the request was sent to.
    var host: String?
    /// base64url(SHA-256(DER)) of the TLS client certificate (mTLS listener), as `x5t#S256` names it.
    var certificateThumbprint: String?
}

/// How the token requested is to be bound: to the device key by a DPoP proof (RFC 9449), or to the
/// client certificate of the mTLS connection (RFC 8705).
enum TokenBinding: Sendable {
    case dpop(DPoPProof)
    case certificate(Certificate, thumbprint: String)
}

/// DPoP proofs seen, by key thumbprint and `jti`, until their time window has passed: a proof
/// serves one request. Bounded: past a million live entries, new proofs are refused until old
/// ones expire (a flood of fresh proofs is a flood of signatures by enrolled keys).
final class DPoPReplayGuard: Sendable {
    private let seen = Mutex<(entries: [String: Int], purgedAt: Int)>(([:], 0))
    static let capacity = 1_000_000

    /// Records `jti` of `thumbprint` until `expiresAt`; false when it was seen before (or memory is full).
    func accept(thumbprint: String, jti: String, expiresAt: Int, now: Int) -> Bool {
        let key = thumbprint + " " + jti
        return seen.withLock { state in
            if state.purgedAt < now && (state.entries.count >= Self.capacity || now - state.purgedAt >= 60) {
                state.entries = state.entries.filter { $0.value >= now }
                state.purgedAt = now
            }
            guard state.entries[key] == nil, state.entries.count < Self.capacity else { return false }
            state.entries[key] = expiresAt
            return true
        }
    }
}

extension DeviceAuthService {
    /// How far a DPoP proof's `iat` may be from the server's clock.
    static let dpopWindow: TimeInterval = 60

    /// base64url(SHA-256(DER)) of a certificate: RFC 8705's `x5t#S256`.
    static func certificateThumbprint(_ der: [UInt8]) -> String {
        Base64URL.encode(Array(SHA256.hash(data: der)))
    }

    /// Checks the DPoP proof of a request: signed by the key in its header, for this method and
    /// URL (this server's public URL, or the host the request was sent to, and this path), made
    /// within a minute, bound to `accessToken` when one is sent, and not seen before.
    func checkDPoP(_ proof: String?, method: String, path: String, host: String?, accessToken: String?) throws -> DPoPProof {
        guard let proof else {
            throw ServiceError.unauthenticated("send a DPoP proof (RFC 9449) signed by the device key in the DPoP header")
        }
        let checked: DPoPProof
        switch DPoPProof.verify(proof, method: method, accessToken: accessToken, now: clock.now, window: Self.dpopWindow) {
        case .success(let value): checked = value
        case .failure(let failure): throw ServiceError.unauthenticated("the DPoP proof is refused: \(failure.reason)")
        }
        guard let url = URL(string: checked.url), url.path == path, let scheme = url.scheme, let authority = url.host.map({ host in url.port.map { "\(host):\($0)" } ?? host }) else {
            throw ServiceError.unauthenticated("the DPoP proof is for \(checked.url.prefix(256)), not for \(path.prefix(256)) here")
        }
        let origin = "\(scheme.lowercased())://\(authority.lowercased())"
        let ownOrigin = URL(string: publicURL).flatMap { own in own.scheme.map { "\($0)://" + (own.host ?? "") + (own.port.map { ":\($0)" } ?? "") } }
        guard origin == ownOrigin?.lowercased() || (host.map { authority.lowercased() == $0.lowercased() } ?? false) else {
            throw ServiceError.unauthenticated("the DPoP proof is for \(origin.prefix(256)), not for this server (\(publicURL))")
        }
        let iat = Int(checked.issuedAt.timeIntervalSince1970)
        guard dpopReplays.accept(thumbprint: checked.thumbprint, jti: checked.jti, expiresAt: iat + Int(Self.dpopWindow) + 1, now: clock.seconds) else {
            throw ServiceError.unauthenticated("the DPoP proof was used before (its jti); make a new one for each request")
        }
        return checked
    }

    /// Checks that a presented access token is used as its binding says: with a fresh DPoP proof by
    /// the key it names (`cnf.jkt`), or over the mTLS connection of the certificate it names
    /// (`cnf.x5t#S256`).
    func checkBinding(_ claims: DeviceAccessToken, _ presented: TokenPresentation) throws {
        if let bound = claims.cnf.x5tS256 {
            guard let presentedCertificate = presented.certificateThumbprint, ConstantTime.equals(presentedCertificate, bound) else {
                throw ServiceError.unauthenticated(
                    "this access token is bound to a client certificate (RFC 8705): use it on the mTLS listener with the certificate it was issued over")
            }
            return
        }
        guard presented.scheme == .dpop else {
            throw ServiceError.unauthenticated(
                "this access token is bound to the device key (RFC 9449): send Authorization: DPoP <token> with a DPoP proof in the DPoP header")
        }
        let proof = try checkDPoP(presented.proof, method: presented.method, path: presented.path, host: presented.host, accessToken: presented.token)
        guard ConstantTime.equals(proof.thumbprint, claims.cnf.jkt) else {
            throw ServiceError.unauthenticated("the DPoP proof is signed by another key than the one the access token is bound to")
        }
    }
}
