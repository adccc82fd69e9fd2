import Foundation
import JWTKit
import Testing
import VouchKit

/// VouchKit builds its JWS itself (see `JWS.sign`); jwt-kit, an independent implementation, must
/// read every token it makes.
@Suite("jwt-kit reads what VouchKit signs")
struct JWTKitInteropTests {
    struct CredentialClaims: JWTPayload {
        let issuer: String
        let type: [String]
        let credentialSubject: [String: String]

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    @Test("a credential signed by VouchKit verifies and decodes in jwt-kit; altered, it does not", arguments: [SigningKey.KeyType.ed25519, .p256])
    func jwtKitVerifiesACredential(keyType: SigningKey.KeyType) async throws {
        let key = SigningKey.generate(keyType)
        let issuer = CredentialIssuer(key: key)
        let token = try await issuer.issue(types: ["DeviceIdentityCredential"], subject: "did:example:device", claims: ["model": "m1"])
        let header = try CompactJWS(parsing: token).header
        #expect(header.alg == key.algorithm.rawValue)
        #expect(header.typ == "vc+jwt")

        // The issuer's public JWK, named by the kid the token carries, is all jwt-kit gets.
        var jwk = try JSONSerialization.jsonObject(with: JSONEncoder().encode(key.publicKey.jwk)) as! [String: Any]
        jwk["kid"] = header.kid
        let keys = JWTKeyCollection()
        try await keys.add(jwk: JSONDecoder().decode(JWTKit.JWK.self, from: JSONSerialization.data(withJSONObject: jwk)))

        let claims = try await keys.verify(token, as: CredentialClaims.self)
        #expect(claims.issuer == issuer.did.description)
        #expect(claims.type == ["VerifiableCredential", "DeviceIdentityCredential"])
        #expect(claims.credentialSubject == ["id": "did:example:device", "model": "m1"])

        var parts = token.split(separator: ".").map(String.init)
        var payload = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[1])!)) as! [String: Any]
        payload["issuer"] = "did:example:someone-else"
        parts[1] = Base64URL.encode(try JSONSerialization.data(withJSONObject: payload))
        let refusal = await #expect(throws: JWTError.self) {
            _ = try await keys.verify(parts.joined(separator: "."), as: CredentialClaims.self)
        }
        #expect(refusal?.errorType == .signatureVerificationFailed, "\(String(describing: refusal))")
    }
}
