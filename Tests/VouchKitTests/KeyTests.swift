import Foundation
import Testing
@testable import VouchKit

@Suite("Keys and JWK")
struct KeyTests {
    @Test("RFC 8037 A.1–A.3: the Ed25519 JWK reads, its public key matches, its thumbprint is the RFC's")
    func rfc8037Key() throws {
        let vectors = try Vectors.json("rfc/jose-examples.json") as! [String: Any]
        let rfc = vectors["rfc8037"] as! [String: Any]
        let jwkData = try JSONSerialization.data(withJSONObject: rfc["privateJWK"]!)
        let key = try SigningKey(jwk: try JWK(json: jwkData))
        #expect(key.publicKey.jwk.x == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        #expect(key.publicKey.thumbprint == rfc["thumbprint"] as? String)
        #expect(try JWK(json: jwkData).publicJWK.thumbprint() == rfc["thumbprint"] as? String)
    }

    @Test("RFC 8037 A.4–A.5: signing gives the RFC's signature and the RFC's JWS verifies")
    func rfc8037Signature() async throws {
        let vectors = try Vectors.json("rfc/jose-examples.json") as! [String: Any]
        let rfc = vectors["rfc8037"] as! [String: Any]
        let key = try SigningKey(jwk: try JWK(json: try JSONSerialization.data(withJSONObject: rfc["privateJWK"]!)))
        let token = rfc["jws"] as! String
        let jws = try CompactJWS(parsing: token)
        #expect(String(decoding: jws.payload, as: UTF8.self) == rfc["payload"] as? String)
        #expect(try key.signature(for: jws.signingInput) == jws.signature)
        #expect(JWS.verify(jws, key: key.publicKey))
        #expect(key.publicKey.isValidSignature(jws.signature, for: jws.signingInput))
    }

    @Test("RFC 7638 §3.1: the RSA example's thumbprint")
    func rfc7638Thumbprint() throws {
        let vectors = try Vectors.json("rfc/jose-examples.json") as! [String: Any]
        let rfc = vectors["rfc7638"] as! [String: Any]
        let jwk = try JWK(json: try JSONSerialization.data(withJSONObject: rfc["jwk"]!))
        #expect(try jwk.thumbprint() == rfc["thumbprint"] as? String)
    }

    @Test("generated keys round-trip through JWK, SPKI DER and PEM", arguments: SigningKey.KeyType.allCases)
    func roundTrip(type: SigningKey.KeyType) throws {
        for _ in 0..<20 {
            let key = SigningKey.generate(type)
            let jwk = key.jwk
            #expect(jwk.kid == key.publicKey.thumbprint)
            let reread = try SigningKey(jwk: try JWK(json: jwk.jsonData()))
            #expect(reread.publicKey == key.publicKey)
            #expect(try PublicKey(jwk: key.publicKey.jwk) == key.publicKey)
            #expect(try PublicKey(derRepresentation: key.publicKey.derRepresentation) == key.publicKey)
            #expect(try PublicKey(pemRepresentation: key.publicKey.pemRepresentation) == key.publicKey)
            let message = Array("device telemetry".utf8)
            let signature = try key.signature(for: message)
            #expect(key.publicKey.isValidSignature(signature, for: message))
            #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))
            #expect(!jwk.publicJWK.isPrivate)
            #expect(!"\(key)".contains(jwk.d!))
            #expect(!"\(jwk)".contains(jwk.d!))
        }
    }

    @Test("a private key file is written with mode 0600 and is not overwritten by default")
    func keyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("device.jwk").path
        let key = SigningKey.generate()
        try key.write(toFile: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try SigningKey(contentsOfFile: path).publicKey == key.publicKey)
        #expect(throws: VouchKitError.self) { try SigningKey.generate().write(toFile: path) }
        try SigningKey.generate().write(toFile: path, overwrite: true)
        #expect(try SigningKey(contentsOfFile: path).publicKey != key.publicKey)
    }

    @Test("malformed JWKs are rejected with a reason")
    func badJWKs() throws {
        let good = SigningKey.generate(.p256).jwk
        var mismatched = good
        mismatched.x = SigningKey.generate(.p256).jwk.x
        #expect(throws: VouchKitError.self) { try SigningKey(jwk: mismatched) }
        #expect(throws: VouchKitError.self) { try SigningKey(jwk: good.publicJWK) }
        #expect(throws: VouchKitError.self) { try PublicKey(jwk: JWK(kty: "OKP", crv: "Ed25519", x: "AAAA")) }
        #expect(throws: VouchKitError.self) { try PublicKey(jwk: JWK(kty: "EC", crv: "P-256", x: good.x, y: good.x)) }
        #expect(throws: VouchKitError.self) { try PublicKey(jwk: JWK(kty: "RSA", n: "AQAB", e: "AQAB")) }
        var wrongAlg = good.publicJWK
        wrongAlg.alg = "EdDSA"
        #expect(throws: VouchKitError.self) { try PublicKey(jwk: wrongAlg) }
        #expect(throws: VouchKitError.self) { try JWK(json: Data("{".utf8)) }
    }
}

@Suite("Encodings")
struct EncodingTests {
    @Test("base64url and base58 round-trip random bytes")
    func roundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
            #expect(Base58.decode(Base58.encode(bytes)) == bytes)
            #expect(Base64URL.encode(bytes) == Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: ""))
        }
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("ab=c") == nil)
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base58.decode("0OIl") == nil)
    }

    @Test("RFC 3339 dates parse and format")
    func dates() throws {
        let date = try #require(RFC3339.parse("2010-01-01T19:23:24Z"))
        #expect(date.timeIntervalSince1970 == 1_262_373_804)
        #expect(RFC3339.parse("2010-01-01T20:23:24+01:00") == date)
        #expect(RFC3339.parse("2010-01-01T19:23:24.5Z")?.timeIntervalSince1970 == 1_262_373_804.5)
        #expect(RFC3339.format(date) == "2010-01-01T19:23:24Z")
        for text in ["2010-13-01T00:00:00Z", "2010-02-30T00:00:00Z", "2010-01-01 19:23:24Z", "2010-01-01T19:23:24", "yesterday", ""] {
            #expect(RFC3339.parse(text) == nil, "\(text)")
        }
        for _ in 0..<100 {
            let seconds = Double(Int.random(in: 0...4_000_000_000))
            #expect(RFC3339.parse(RFC3339.format(Date(timeIntervalSince1970: seconds)))?.timeIntervalSince1970 == seconds)
        }
    }
}
