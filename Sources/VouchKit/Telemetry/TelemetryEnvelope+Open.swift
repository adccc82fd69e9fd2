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
        do {
            jws = try CompactJWS(parsing: token)
            claims = try Claims(json: jws.payloadBytes)
        } catch {
            return .failure(VerificationFailure(.format, "\(error)"))
        }
        guard jws.header.typ == MediaType.telemetry else {
            return .failure(VerificationFailure(.mediaType, "typ is \(jws.header.typ ?? "missing"), expected \(MediaType.telemetry)"))
        }
        guard claims.iss == device else {
            return .failure(VerificationFailure(.signature, "the envelope is issued by \(claims.iss.prefix(128)), not by the sending device \(device)"))
        }
        guard JWS.verify(jws, key: key) else {
            return .failure(VerificationFailure(.signature, "the signature is not by the key of \(device)"))
        }
        guard let did = try? DID(claims.iss), let payload = Base64URL.decode(claims.payload), claims.iat.isFinite else {
            return .failure(VerificationFailure(.format, "iss must be a DID, iat a time and payload base64url"))
        }
        return .success(TelemetryEnvelope(device: did, sequence: claims.seq, time: Date(timeIntervalSince1970: claims.iat), topic: claims.topic, payload: Data(payload)))
    }
}
