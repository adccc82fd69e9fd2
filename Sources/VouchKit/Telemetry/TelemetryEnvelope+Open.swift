import Foundation

extension TelemetryEnvelope {
    /// Reads an envelope from a sender whose key is already known (a server's or gateway's device
    /// directory): the media type, the claims, that it names `device` as its issuer, and the
    /// signature by `key`. The clock window and the sequence are the caller's to check, since they
    /// depend on what it remembers.
    ///
    /// No DID is resolved, so this costs one signature check and one pass over the claims.
    public static func open(_ token: String, device: String, key: PublicKey) -> Result<TelemetryEnvelope, VerificationFailure> {
        let jws: CompactJWS
        let claims: Claims
        switch read(token) {
        case .success(let read): (jws, claims) = read
        case .failure(let failure): return .failure(failure)
        }
        guard claims.iss == device else {
            return .failure(VerificationFailure(.signature, "the envelope is issued by \(claims.iss.prefix(128)), not by the sending device \(device)"))
        }
        guard JWS.verify(jws, key: key) else {
            return .failure(VerificationFailure(.signature, "the signature is not by the key of \(device)"))
        }
        return envelope(claims)
    }

    /// The token's JWS and claims, of the telemetry media type; nothing is verified yet.
    static func read(_ token: String) -> Result<(CompactJWS, Claims), VerificationFailure> {
        let jws: CompactJWS
        let claims: Claims
        do {
            jws = try CompactJWS(parsing: token)
            claims = try Claims(json: jws.payloadBytes)
        } catch {
            return .failure(VerificationFailure(.format, "\(error)"))
        }
        guard jws.header.typ == MediaType.telemetry else {
            return .failure(VerificationFailure(.mediaType, "typ is \(jws.header.typ ?? "missing"), expected \(MediaType.telemetry)"))
        }
        return .success((jws, claims))
    }

    /// The envelope the claims describe (its signature is the caller's to check).
    static func envelope(_ claims: Claims) -> Result<TelemetryEnvelope, VerificationFailure> {
        guard let did = try? DID(claims.iss), let payload = Base64URL.decode(claims.payload) else {
            return .failure(VerificationFailure(.format, "iss must be a DID and payload base64url"))
        }
        return .success(TelemetryEnvelope(device: did, sequence: claims.seq, time: Date(timeIntervalSince1970: claims.iat), topic: claims.topic, payload: Data(payload)))
    }
}
