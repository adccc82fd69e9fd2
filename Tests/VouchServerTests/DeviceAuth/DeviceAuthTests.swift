import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchAPI
import VouchCore
import VouchKit
import X509

extension DeviceAgent {
    /// A device proof over a fresh challenge nonce.
    func proof(
        _ client: any TestClientProtocol, deviceID: String, purpose: DeviceProof.Purpose = .authenticate, signer: SigningKey? = nil
    ) async throws -> (nonce: String, proof: String) {
        let nonce = try await client.vouch().challenge().nonce
        return (nonce, try await DeviceProof(nonce: nonce, deviceId: deviceID, purpose: purpose).sign(with: signer ?? key))
    }

    /// Exchanges a signed challenge for an access token, bound to the device key by a DPoP proof.
    func accessToken(_ client: any TestClientProtocol, deviceID: String) async throws -> DeviceToken {
        let (_, token) = try await client.vouch().authenticated(deviceId: deviceID, agent: self)
        #expect(token.token_type == "DPoP" && token.device_id == deviceID)
        return DeviceToken(token: token.access_token, device: self)
    }

    /// The headers of a request by this device (RFC 9449): a fresh DPoP proof by its key for the
    /// method and URL, and, with an access token, `Authorization: DPoP <token>` (the proof bound to it).
    func dpop(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, origin: String = "https://vouch.test") throws -> HTTPFields {
        var fields: HTTPFields = [.dpop: try DPoPProof.sign(method: method.rawValue, url: origin + uri, accessToken: token, key: key)]
        if let token { fields[.authorization] = "DPoP \(token)" }
        return fields
    }
}

/// A device's access token, with the device whose key proves each use of it.
struct DeviceToken {
    let token: String
    let device: DeviceAgent
}

extension HTTPField.Name {
    static let dpop = HTTPField.Name("DPoP")!
}

extension TestClientProtocol {
    /// A request as the device holding `token`, with a fresh DPoP proof.
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, json: JSONValue? = nil, body: [UInt8]? = nil, as token: DeviceToken) async throws -> HTTPResult {
        try await call(method, uri, json: json, headers: try token.device.dpop(method, uri, token: token.token), body: body)
    }
}

/// Claims of a JWT, unverified (the tests read what the server wrote).
func claims(of token: String) throws -> JSONValue {
    try JSONValue(parsing: try CompactJWS(parsing: token).payload)
}

@Suite("device authentication, renewal and rotation")
struct DeviceAuthTests {
    @Test func aSignedChallengeBuysATokenBoundToTheDeviceAndItsKey() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let device = DeviceAgent()
                let (id, _) = try await RevocationTests.enroll(client, admin: admin, device: device)

                let (nonce, proof) = try await device.proof(client, deviceID: id)
                let dpop = try device.dpop(.post, "/v1/auth/token")
                let issued = try await client.call(.post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: proof)), headers: dpop)
                #expect(issued.status == 200, "\(issued.text)")
                #expect(issued.json["token_type"]?.stringValue == "DPoP")
                #expect(issued.json["expires_in"]?.numberValue == 600)
                let raw = try #require(issued.json["access_token"]?.stringValue)
                let token = DeviceToken(token: raw, device: device)
                let tokenClaims = try claims(of: raw)
                #expect(tokenClaims["sub"]?.stringValue == id)
                #expect(tokenClaims["cnf"]?["jkt"]?.stringValue == device.key.publicKey.thumbprint)
                #expect((tokenClaims["exp"]?.numberValue ?? 0) - (tokenClaims["iat"]?.numberValue ?? 0) == 600)

                let me = try await client.call(.get, "/v1/devices/self", as: token)
                #expect(me.status == 200, "\(me.text)")
                #expect(me.json["id"]?.stringValue == id)

                // The nonce was spent; a replay of the same request is refused (with a new DPoP proof: the
                // old one was spent too).
                expectProblem(try await client.call(.post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: proof)), headers: dpop), 401, "DPoP proof was used before")
                expectProblem(
                    try await client.call(
                        .post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: proof)), headers: try device.dpop(.post, "/v1/auth/token")),
                    401, "already used")
                // Another key cannot speak for the device.
                let stranger = DeviceAgent()
                let forged = try await stranger.proof(client, deviceID: id)
                expectProblem(
                    try await client.call(
                        .post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: forged.nonce, proof: forged.proof)), headers: try stranger.dpop(.post, "/v1/auth/token")),
                    401,
                    "not signed by the current key of a device")
                // A proof made for rotation does not authenticate.
                let wrongPurpose = try await device.proof(client, deviceID: id, purpose: .rotate)
                expectProblem(
                    try await client.call(
                        .post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: wrongPurpose.nonce, proof: wrongPurpose.proof)),
                        headers: try device.dpop(.post, "/v1/auth/token")),
                    401, "is for rotate")
                // Neither an admin key, an altered token nor no credential at all gets in.
                expectProblem(try await client.call(.get, "/v1/devices/self", apiKey: admin), 401, "not an access token")
                let altered = String(raw.dropLast(2)) + (raw.hasSuffix("AA") ? "BB" : "AA")
                expectProblem(try await client.call(.get, "/v1/devices/self", as: DeviceToken(token: altered, device: device)), 401, "not an access token")
                expectProblem(try await client.call(.get, "/v1/devices/self"), 401, "authenticate as the device")

                // A suspended device's token stops working at once, and it cannot buy another.
                #expect(try await client.vouch(.apiKey(admin)).act(.suspend, on: id).device.state == "suspended")
                expectProblem(try await client.call(.get, "/v1/devices/self", as: token), 403, "suspended")
                let whileSuspended = try await device.proof(client, deviceID: id)
                expectProblem(
                    try await client.call(
                        .post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: whileSuspended.nonce, proof: whileSuspended.proof)),
                        headers: try device.dpop(.post, "/v1/auth/token")),
                    403, "suspended")
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/reinstate", apiKey: admin).status == 200)
                #expect(try await client.call(.get, "/v1/devices/self", as: token).status == 200)
            }
        }
    }

    @Test func renewalIssuesANewCertificateAndCredentialsForTheSameKey() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let device = DeviceAgent()
                let (id, first) = try await RevocationTests.enroll(client, admin: admin, device: device)
                let token = try await device.accessToken(client, deviceID: id)

                let renewed = try await client.call(.post, "/v1/devices/self/renew", as: token)
                #expect(renewed.status == 201, "\(renewed.text)")
                #expect(renewed.json["deviceId"]?.stringValue == id)
                #expect(renewed.json["did"]?.stringValue == device.did.description)
                let old = try Certificate(pemEncoded: try #require(first["certificate"]?.stringValue))
                let new = try Certificate(pemEncoded: try #require(renewed.json["certificate"]?.stringValue))
                #expect(new.serialNumber != old.serialNumber)
                #expect(try PublicKey(certificateKey: new.publicKey) == device.key.publicKey)
                let identity = try #require(renewed.json["identityCredential"]?.stringValue)
                #expect(identity != first["identityCredential"]?.stringValue)
                #expect(try claims(of: identity)["credentialSubject"]?["id"]?.stringValue == device.did.description)

                let detail = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                #expect(detail["certificates"]?.arrayValue.map { $0["status"]?.stringValue } == ["good", "good"])
                #expect(detail["history"]?.arrayValue.contains { $0["kind"]?.stringValue == "device.renewed" } == true)

                // A pending (not yet approved) or revoked device cannot renew.
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/revoke", apiKey: admin).status == 200)
                expectProblem(try await client.call(.post, "/v1/devices/self/renew", as: token), 403, "revoked")
            }
        }
    }

    @Test func rotationKeepsTheDeviceIdLinksTheDIDsAndSupersedesTheOldCertificate() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let device = DeviceAgent()
                let (id, first) = try await RevocationTests.enroll(client, admin: admin, device: device)
                let oldToken = try await device.accessToken(client, deviceID: id)
                let replacement = DeviceAgent()

                func rotation(
                    newKey: SigningKey, oldKey: SigningKey, csrKey: SigningKey? = nil, oldPayloadThumbprint: String? = nil
                ) async throws -> JSONValue {
                    let nonce = try #require(try await client.call(.post, "/v1/auth/challenge").json["nonce"]?.stringValue)
                    let payload = DeviceProof(nonce: nonce, deviceId: id, purpose: .rotate, newKeyThumbprint: newKey.publicKey.thumbprint)
                    var previous = payload
                    if let oldPayloadThumbprint { previous.newKeyThumbprint = oldPayloadThumbprint }
                    return [
                        "nonce": .string(nonce),
                        "csr": .string(try (csrKey ?? newKey).certificateSigningRequest(commonName: "rotated").serializeAsPEM().pemString),
                        "proof": .string(try await payload.sign(with: newKey)),
                        "previousKeyProof": .string(try await previous.sign(with: oldKey)),
                    ]
                }

                // Refused, and nothing changes: a stranger's key instead of the current one, proofs
                // over different payloads, a CSR for yet another key.
                expectProblem(
                    try await client.call(.post, "/v1/devices/self/rotate", json: try await rotation(newKey: replacement.key, oldKey: DeviceAgent().key)),
                    401, "previousKeyProof is not signed by the current key")
                expectProblem(
                    try await client.call(
                        .post, "/v1/devices/self/rotate",
                        json: try await rotation(newKey: replacement.key, oldKey: device.key, oldPayloadThumbprint: "other")), 400, "same payload")
                expectProblem(
                    try await client.call(
                        .post, "/v1/devices/self/rotate", json: try await rotation(newKey: replacement.key, oldKey: device.key, csrKey: DeviceAgent().key)),
                    400, "CSR's key differs")
                #expect(try await client.call(.get, "/v1/devices/self", as: oldToken).json["did"]?.stringValue == device.did.description)

                let body = try await rotation(newKey: replacement.key, oldKey: device.key)
                let rotated = try await client.call(.post, "/v1/devices/self/rotate", json: body)
                #expect(rotated.status == 201, "\(rotated.text)")
                #expect(rotated.json["deviceId"]?.stringValue == id)
                #expect(rotated.json["did"]?.stringValue == replacement.did.description)
                let identity = try #require(rotated.json["identityCredential"]?.stringValue)
                #expect(try claims(of: identity)["credentialSubject"]?["previousDids"]?.arrayValue.first?.stringValue == device.did.description)
                let certificate = try Certificate(pemEncoded: try #require(rotated.json["certificate"]?.stringValue))
                #expect(try PublicKey(certificateKey: certificate.publicKey) == replacement.key.publicKey)

                // A replay is refused (the old key no longer speaks for the device, and the nonce is
                // spent); the old certificate is superseded; the old DID is linked.
                expectProblem(try await client.call(.post, "/v1/devices/self/rotate", json: body), 401, "current key")
                let detail = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json
                #expect(detail["device"]?["previousDids"]?.arrayValue.map(\.stringValue) == [device.did.description])
                let oldSerial = Hex.encode(try Certificate(pemEncoded: try #require(first["certificate"]?.stringValue)).serialNumber.bytes)
                let oldEntry = detail["certificates"]?.arrayValue.first { $0["serial"]?.stringValue == oldSerial }
                #expect(oldEntry?["status"]?.stringValue == "revoked")
                #expect(oldEntry?["reason"]?.stringValue == "superseded")
                #expect(detail["history"]?.arrayValue.contains { $0["kind"]?.stringValue == "device.rotated" } == true)

                // The old key and its token no longer act for the device; the new key does.
                expectProblem(try await client.call(.get, "/v1/devices/self", as: oldToken), 401, "no longer holds")
                let stale = try await device.proof(client, deviceID: id)
                expectProblem(
                    try await client.call(
                        .post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: stale.nonce, proof: stale.proof)), headers: try device.dpop(.post, "/v1/auth/token")),
                    401,
                    "not signed by the current key of a device")
                let newToken = try await replacement.accessToken(client, deviceID: id)
                #expect(try await client.call(.get, "/v1/devices/self", as: newToken).json["id"]?.stringValue == id)
            }
        }
    }

    @Test func authenticationIsRateLimitedAndBodiesAreCapped() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, rateLimitPerMinute: 2) { client, _ in
                #expect(try await client.call(.post, "/v1/auth/challenge").status == 201)
                #expect(try await client.call(.post, "/v1/auth/challenge").status == 201)
                let limited = try await client.call(.post, "/v1/auth/challenge")
                expectProblem(limited, 429, "retry after")
                #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            }
            try await withServer(dataDirectory: dir) { client, _ in
                let huge = Array(#"{"nonce": ""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 70_000) + Array(#"", "proof": "x"}"#.utf8)
                expectProblem(try await client.call(.post, "/v1/auth/token", headers: [.contentType: "application/json"], body: huge), 413, "larger than 64 KiB")
            }
        }
    }
}
